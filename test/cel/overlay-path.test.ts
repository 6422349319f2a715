// Overlay keys as Tekton's sjson paths: dots nest, a backslash makes the next character literal.
import { describe, expect, it } from 'vitest';
import { overlayKeyPath, setOverlayValue } from '../../src/pipeline/overlay-path.js';
import type { JsonObject } from '../../src/model.js';

describe('overlayKeyPath', () => {
  it.each([
    { key: 'imageTag', path: ['imageTag'] },
    { key: 'image.tag', path: ['image', 'tag'] },
    { key: 'a\\.b', path: ['a.b'] },
    { key: 'a\\.b.c', path: ['a.b', 'c'] },
    { key: 'a\\\\.b', path: ['a\\', 'b'] },
    { key: 'trailing\\', path: ['trailing\\'] },
  ])('$key → $path', ({ key, path }) => {
    expect(overlayKeyPath(key)).toEqual(path);
  });
});

describe('setOverlayValue', () => {
  it('merges nested keys into the same object and replaces a scalar on the way', () => {
    const extensions: JsonObject = {};
    setOverlayValue(extensions, 'image.tag', '1.1.0');
    setOverlayValue(extensions, 'image.repo', 'registry/app');
    setOverlayValue(extensions, 'flag', true);
    setOverlayValue(extensions, 'flag.inner', 1);
    expect(extensions).toEqual({ image: { tag: '1.1.0', repo: 'registry/app' }, flag: { inner: 1 } });
  });

  it('stores a `__proto__` key as data, never as the prototype', () => {
    const extensions: JsonObject = {};
    setOverlayValue(extensions, '__proto__.polluted', 'yes');
    expect(Object.getPrototypeOf(extensions)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(JSON.parse(JSON.stringify(extensions))).toEqual(JSON.parse('{"__proto__": {"polluted": "yes"}}'));
  });
});
