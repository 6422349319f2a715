// intercept(): events, then filters (all must be exactly true), then overlays against the same input.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileCel } from '../../src/pipeline/cel.js';
import { intercept } from '../../src/pipeline/intercept.js';
import type { CelProgram, JsonObject, TraceEvent } from '../../src/model.js';
import { celInput } from './tekton-input.js';

const payloads = new URL('../fixtures/payloads/', import.meta.url);
const load = (path: string): JsonObject =>
  JSON.parse(readFileSync(new URL(path, payloads), 'utf8')) as JsonObject;

function program(source: string): CelProgram {
  const compiled = compileCel(source);
  if (!compiled.ok) throw new Error(`${source}: ${compiled.error}`);
  return compiled.program;
}

function trigger(spec: { events?: string[]; filters?: string[]; overlays?: Record<string, string> }) {
  return {
    name: 'build',
    events: spec.events,
    filters: (spec.filters ?? []).map(program),
    overlays: Object.entries(spec.overlays ?? {}).map(([key, source]) => ({
      key,
      expression: program(source),
    })),
  };
}

const tagPush = { ...load('gitlab/tag-event.json'), ref: 'refs/tags/v1.1.0' };
const gitlabHeaders = { 'x-gitlab-event': ['Tag Push Hook'], 'content-type': ['application/json'] };

describe('the seed expressions (issue #4)', () => {
  it("body.ref.split('/')[2].replace('v', '') turns a tag push of v1.1.0 into the image tag 1.1.0", () => {
    const result = intercept(
      trigger({ overlays: { imageTag: "body.ref.split('/')[2].replace('v', '')" } }),
      'Tag Push Hook',
      celInput({ body: tagPush, headers: gitlabHeaders }),
    );
    expect(result).toEqual({ kind: 'pass', extensions: { imageTag: '1.1.0' } });
  });

  it.each([
    { name: 'a Push Hook passes', event: 'Push Hook', kind: 'pass' },
    { name: 'a Tag Push Hook is skipped', event: 'Tag Push Hook', kind: 'skip' },
  ])("header.match('X-Gitlab-Event', 'Push Hook'): $name", ({ event, kind }) => {
    const result = intercept(
      trigger({ filters: ["header.match('X-Gitlab-Event', 'Push Hook')"] }),
      event,
      celInput({ body: load('gitlab/push-event.json'), headers: { 'x-gitlab-event': [event] } }),
    );
    expect(result.kind).toBe(kind);
  });

  it.each([
    { name: 'both true: pass', ref: 'refs/heads/dev', kind: 'pass', reason: undefined },
    {
      name: 'the second false: skip naming it',
      ref: 'refs/heads/main',
      kind: 'skip',
      reason: "filter returned false: body.ref != 'refs/heads/main'",
    },
  ])('multiple filters are ANDed, in order: $name', ({ ref, kind, reason }) => {
    const result = intercept(
      trigger({ filters: ["header.match('X-Gitlab-Event', 'Push Hook')", "body.ref != 'refs/heads/main'"] }),
      'Push Hook',
      celInput({
        body: { ...load('gitlab/push-event.json'), ref },
        headers: { 'x-gitlab-event': ['Push Hook'] },
      }),
    );
    expect(result.kind).toBe(kind);
    if (reason !== undefined) expect(result).toEqual({ kind: 'skip', reason });
  });
});

describe('intercept(): event types', () => {
  const t = trigger({ events: ['Tag Push Hook', 'Push Hook'], filters: ['false'] });

  it.each([
    {
      name: 'an event not in the list',
      event: 'Merge Request Hook',
      reason: 'event type "Merge Request Hook" is not in [Tag Push Hook, Push Hook]',
    },
    {
      name: 'no event type at all',
      event: undefined,
      reason: 'no event type was sent; the trigger accepts [Tag Push Hook, Push Hook]',
    },
  ])('skips $name before any filter runs', ({ event, reason }) => {
    const seen: TraceEvent[] = [];
    expect(intercept(t, event, celInput({}), (e) => seen.push(e))).toEqual({ kind: 'skip', reason });
    expect(seen).toEqual([]);
  });

  it('without an event list, any event (or none) reaches the filters', () => {
    expect(intercept(trigger({ filters: ['true'] }), undefined, celInput({}))).toEqual({
      kind: 'pass',
      extensions: {},
    });
  });
});

describe('intercept(): filters', () => {
  it.each([
    { name: 'a string', source: "'true'", reason: `filter returned "true", not true: 'true'` },
    { name: 'a number', source: '1.0', reason: 'filter returned 1, not true: 1.0' },
    { name: 'null', source: 'null', reason: 'filter returned null, not true: null' },
  ])('a filter that returns $name does not pass', ({ source, reason }) => {
    expect(intercept(trigger({ filters: [source] }), undefined, celInput({}))).toEqual({
      kind: 'skip',
      reason,
    });
  });

  it('an evaluation error fails the trigger, naming the expression and the cause', () => {
    const result = intercept(
      trigger({ filters: ["body.missing == 'x'"] }),
      undefined,
      celInput({ body: {} }),
    );
    expect(result).toEqual({
      kind: 'error',
      reason: "filter body.missing == 'x' failed: no such key: missing",
    });
  });

  it('stops at the first filter that does not pass (later ones are not evaluated)', () => {
    const seen: TraceEvent[] = [];
    const result = intercept(trigger({ filters: ['false', 'body.missing'] }), undefined, celInput({}), (e) =>
      seen.push(e),
    );
    expect(result.kind).toBe('skip');
    expect(seen.map((e) => ('source' in e ? e.source : ''))).toEqual(['false']);
  });
});

describe('intercept(): overlays', () => {
  it('nests dotted keys, keeps escaped dots, and renders bytes as base64', () => {
    const result = intercept(
      trigger({
        overlays: {
          'image.tag': "'1.1.0'",
          'image.repo': "'registry/app'",
          'a\\.b': '1.0 + 1.0',
          raw: "b'hi'",
        },
      }),
      undefined,
      celInput({}),
    );
    expect(result).toEqual({
      kind: 'pass',
      extensions: { image: { tag: '1.1.0', repo: 'registry/app' }, 'a.b': 2, raw: 'aGk=' },
    });
  });

  it('does not let an overlay see an earlier overlay (each sees the input the filters saw)', () => {
    const result = intercept(
      trigger({ overlays: { first: "'x'", second: "has(extensions.first) ? 'saw it' : 'fresh'" } }),
      undefined,
      celInput({}),
    );
    expect(result).toEqual({ kind: 'pass', extensions: { first: 'x', second: 'fresh' } });
  });

  it('runs after the filters pass, and an error names the key and the expression', () => {
    const result = intercept(
      trigger({ filters: ['true'], overlays: { tag: 'body.ref.truncate(-1)' } }),
      undefined,
      celInput({ body: { ref: 'main' } }),
    );
    expect(result).toEqual({
      kind: 'error',
      reason: 'overlay "tag" (body.ref.truncate(-1)) failed: truncate length must not be negative, got -1',
    });
  });

  it('traces every evaluated filter and overlay with its value (render --explain)', () => {
    const seen: TraceEvent[] = [];
    intercept(
      trigger({ filters: ["body.ref == 'main'"], overlays: { short: 'body.sha.truncate(7)' } }),
      undefined,
      celInput({ body: { ref: 'main', sha: 'ec26c3e57ca3a959' } }),
      (e) => seen.push(e),
    );
    expect(seen).toEqual([
      { trigger: 'build', kind: 'filter', source: "body.ref == 'main'", result: { ok: true, value: true } },
      {
        trigger: 'build',
        kind: 'overlay',
        source: 'body.sha.truncate(7)',
        result: { ok: true, value: 'ec26c3e' },
      },
    ]);
  });
});
