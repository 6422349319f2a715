// Issue #14's validation: each provider's event names with "did you mean" at LINE:COL (generic accepts any
// name), a filter reading an extension only an overlay of the same trigger sets, and compareSecret secrets
// checked by `validate --secrets-dir`. Through the built CLI, as users run it (`npm run build` first).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROVIDER_EVENTS, unknownEventProblem } from '../../src/config/event-names.js';
import { loadConfigBytes } from '../../src/config/load.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'validate-v2-'));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

/** `LINE:COL` (1-based) of the first occurrence of `needle` in `text`. */
function at(text: string, needle: string): string {
  const i = text.indexOf(needle);
  if (i < 0) throw new Error(`${needle} not in text`);
  const before = text.slice(0, i).split('\n');
  return `${before.length}:${before.at(-1)!.length + 1}`;
}

const TEMPLATE = `    template:
      resourcetemplates:
        - apiVersion: tekton.dev/v1
          kind: PipelineRun
          metadata: {generateName: run-}
`;

function route(provider: string, events: string, trigger = '', extra = ''): string {
  const secret =
    provider === 'generic'
      ? `    secretRef: {secretName: s, secretKey: k}
    signature: {header: X-Sig, algorithm: sha256, encoding: hex}
    eventHeader: X-Event
`
      : `    secretRef: {secretName: s, secretKey: k}
`;
  return `apiVersion: tekton-gateway/v1
routes:
  - path: /hook
    provider: ${provider}
${secret}    events: ${events}
${extra}    triggers:
      - name: t
${trigger}${TEMPLATE.replace(/^ {4}/gm, '        ')}`;
}

describe('validate: provider event names', () => {
  it.each([
    ['github', '[pushes]', 'pushes', 'push'],
    ['github', '[push, pull-request]', 'pull-request', 'pull_request'],
    ['gitlab', '[Push Hook, merge request hook]', 'merge request hook', 'Merge Request Hook'],
    ['gitlab', '[Push]', 'Push', 'Push Hook'],
    ['bitbucket', "['repo:pushed']", "'repo:pushed'", 'repo:push'],
    ['gitea', '[pull_requests]', 'pull_requests', 'pull_request'],
    ['forgejo', '[pussh]', 'pussh', 'push'],
    ['gogs', '[relase]', 'relase', 'release'],
  ])('%s events %s: exit 1, LINE:COL at the name, did you mean', async (provider, events, bad, hint) => {
    const text = route(provider, events);
    const file = write(`events-${provider}.yaml`, text);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}:${at(text, bad)}: routes[0].events[`);
    expect(r.stderr).toContain(`"${bad.replaceAll("'", '')}" is not a ${provider} event name`);
    expect(r.stderr).toContain(`did you mean "${hint}"?`);
  });

  it('a trigger’s own events are checked too', async () => {
    const text = route('github', '[push, pull_request]', '        events: [pul_request]\n');
    const file = write('trigger-events.yaml', text);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${file}:${at(text, 'pul_request]')}: routes[0].triggers[0].events[0]: "pul_request" is not a github event name, so no delivery would ever match it (did you mean "pull_request"?)`,
    );
  });

  it('a name with no near match lists examples instead', () => {
    expect(unknownEventProblem('gitlab', 'zzzzzzzz')).toMatch(/sends e\.g\. "Push Hook"/);
  });

  it.each(Object.entries(PROVIDER_EVENTS))('every listed %s event passes', (provider, names) => {
    const text = route(provider, JSON.stringify(names));
    const loaded = loadConfigBytes(Buffer.from(text), 'routes.yaml');
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
  });

  it('generic accepts any event name', async () => {
    const file = write('generic.yaml', route('generic', '[anything at all, deploy.requested]'));
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${file}: ok\n`);
  });
});

describe('validate: a filter reading what only an overlay sets', () => {
  it('is a problem at the filter, naming the overlay', async () => {
    const trigger = `        filter: extensions.changed_files.contains('docs/')
        overlays:
          - key: changed_files
            expression: "body.commits.map(c, c.added + c.modified).flatten().join(',')"
`;
    const text = route('github', '[push]', trigger);
    const file = write('overlay-read.yaml', text);
    const r = await cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${file}:${at(text, 'extensions.changed_files.contains')}: routes[0].triggers[0].filter: reads extensions.changed_files, which only this trigger's overlay "changed_files" sets; filters run before overlays`,
    );
  });

  it.each([
    ['a nested read of a dotted key', "extensions['a'].b == 'x'", 'a.b'],
    ['a read of the parent of a dotted key', "has(extensions.a) && extensions.a.b == 'x'", 'a.b'],
  ])('%s is caught', (_name, filter, key) => {
    const trigger = `        filter: ${JSON.stringify(filter)}
        overlays: [{key: ${key}, expression: "'x'"}]
`;
    const loaded = loadConfigBytes(Buffer.from(route('github', '[push]', trigger)), 'r.yaml');
    expect(loaded.ok).toBe(false);
    if (!loaded.ok) expect(loaded.problems.join('\n')).toContain("which only this trigger's overlay");
  });

  it('an extension no overlay of this trigger sets is not flagged, nor is an overlay reading the body', () => {
    const trigger = `        filter: "body.ref == 'refs/heads/main' && extensions.other == 'x'"
        overlays: [{key: short, expression: "body.after.truncate(7)"}]
`;
    const loaded = loadConfigBytes(Buffer.from(route('github', '[push]', trigger)), 'r.yaml');
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
  });
});

describe('validate --secrets-dir: compareSecret secrets', () => {
  const trigger = `        filter: "header.canonical('X-Token').compareSecret('token', 'ci-token')"
        overlays: [{key: ok, expression: "body.sig.compareSecret('hmac', 'other-secret')"}]
`;
  const text = route('github', '[push]', trigger);
  const file = write('compare-secret.yaml', text);
  const secrets = join(dir, 'secrets');
  mkdirSync(join(secrets, 's'), { recursive: true });
  writeFileSync(join(secrets, 's', 'k'), 'x');

  it('names each missing secret file at its expression', async () => {
    const r = await cli(['validate', '--secrets-dir', secrets, file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `${file}:${at(text, "header.canonical('X-Token')")}: routes[0].triggers[0].filter: compareSecret('token', 'ci-token'): secret file ${join(secrets, 'ci-token', 'token')} does not exist (mount Secret ci-token with key token)`,
    );
    expect(r.stderr).toContain(`secret file ${join(secrets, 'other-secret', 'hmac')} does not exist`);
  });

  it('serve’s load leaves them to request time (an unmounted Secret never blocks a reload)', () => {
    const loaded = loadConfigBytes(Buffer.from(text), 'routes.yaml', { secretsDir: secrets });
    expect(loaded.ok ? [] : loaded.problems).toEqual([]);
  });

  it('passes once the files exist, and is not checked without --secrets-dir', async () => {
    expect((await cli(['validate', file])).code).toBe(0);
    mkdirSync(join(secrets, 'ci-token'), { recursive: true });
    mkdirSync(join(secrets, 'other-secret'), { recursive: true });
    writeFileSync(join(secrets, 'ci-token', 'token'), 't');
    writeFileSync(join(secrets, 'other-secret', 'hmac'), 'h');
    const r = await cli(['validate', '--secrets-dir', secrets, file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('routes.schema.json', () => {
  it('offers every provider’s event names as completions for route and trigger events', async () => {
    const { readFileSync } = await import('node:fs');
    const schema = JSON.parse(readFileSync(new URL('../../routes.schema.json', import.meta.url), 'utf8')) as {
      properties: { routes: { items: { properties: Record<string, any> } } };
    };
    const route = schema.properties.routes.items.properties;
    const routeEvents = route.events.items.examples as string[];
    const triggerEvents = route.triggers.items.properties.events.items.examples as string[];
    for (const list of Object.values(PROVIDER_EVENTS))
      for (const name of list!) {
        expect(routeEvents).toContain(name);
        expect(triggerEvents).toContain(name);
      }
  });
});
