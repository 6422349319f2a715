// Where an overlay's value lands in `extensions`. Tekton writes it with sjson at the path `key`: dots nest
// (`image.tag` → {image: {tag: …}}) and a backslash makes the next character literal (`a\.b` is the key "a.b").
// sjson's array and wildcard paths (`list.0`, `list.-1`, `a.*`) need an existing array to make sense; in a
// fresh extensions object they only ever name object keys, which is what we do.
import type { JsonObject, JsonValue } from '../model.js';

/** The path segments of an overlay key, with escapes removed. */
export function overlayKeyPath(key: string): string[] {
  const path: string[] = [];
  let segment = '';
  for (let i = 0; i < key.length; i++) {
    const ch = key[i]!;
    if (ch === '\\' && i + 1 < key.length) {
      segment += key[++i];
    } else if (ch === '.') {
      path.push(segment);
      segment = '';
    } else {
      segment += ch;
    }
  }
  path.push(segment);
  return path;
}

/** Sets `value` at the overlay key's path, creating (or replacing non-object values with) nested objects. */
export function setOverlayValue(target: JsonObject, key: string, value: JsonValue): void {
  const path = overlayKeyPath(key);
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const existing = Object.hasOwn(node, segment) ? node[segment] : undefined;
    if (existing !== null && typeof existing === 'object' && !Array.isArray(existing)) {
      node = existing;
    } else {
      const child: JsonObject = {};
      Object.defineProperty(node, segment, {
        value: child,
        enumerable: true,
        writable: true,
        configurable: true,
      });
      node = child;
    }
  }
  const last = path[path.length - 1]!;
  // defineProperty, so a key named `__proto__` is stored as data rather than changing the prototype.
  Object.defineProperty(node, last, { value, enumerable: true, writable: true, configurable: true });
}
