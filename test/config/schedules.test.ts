// `schedules:` in routes.yaml (contract §13): what loads, the defaults, and every problem reported as
// FILE:LINE:COL at the node to fix (cron syntax, time zone, deadline, bindings a slot cannot resolve).
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';

const HEAD = `apiVersion: tekton-gateway/v1
templates:
  nightly:
    params:
      - name: ref
      - name: when
        default: never
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata:
          generateName: nightly-
        spec:
          params:
            - {name: ref, value: $(tt.params.ref)}
            - {name: when, value: $(tt.params.when)}
routes:
  - path: /hook
    provider: none
    triggers:
      - name: t
        bindings: [{name: ref, value: $(body.ref)}]
        template: nightly
`;

function load(text: string) {
  return loadConfigBytes(Buffer.from(text), 'routes.yaml');
}

/** `routes.yaml:LINE:COL` of the first occurrence of `needle` (plus `shift`). */
function at(text: string, needle: string, shift = 0): string {
  const index = text.indexOf(needle);
  if (index < 0) throw new Error(`"${needle}" not in the YAML`);
  const before = text.slice(0, index + shift).split('\n');
  return `routes.yaml:${before.length}:${before.at(-1)!.length + 1}`;
}

describe('schedules: loading', () => {
  it('compiles a schedule with its defaults: UTC, 300 s, the schedules/<name> route', () => {
    const text = `${HEAD}schedules:
  - name: nightly
    cron: "0 3 * * *"
    body: {ref: refs/heads/main}
    bindings:
      - {name: ref, value: $(body.ref)}
      - {name: when, value: $(context.scheduledTime)}
    template: nightly
`;
    const result = load(text);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const [s] = result.config.schedules;
    expect(s).toBeDefined();
    expect(s!.name).toBe('nightly');
    expect(s!.timeZone).toBe('UTC');
    expect(s!.startingDeadlineSeconds).toBe(300);
    expect(s!.body).toEqual({ ref: 'refs/heads/main' });
    expect(s!.route.path).toBe('schedules/nightly');
    expect(s!.route.triggers).toEqual([s!.trigger]);
    expect(s!.trigger.name).toBe('nightly');
    expect(s!.cron.next(Date.parse('2026-01-01T04:00:00Z'))).toBe(Date.parse('2026-01-02T03:00:00Z'));
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('reads timeZone, namespace, serviceAccountName, startingDeadlineSeconds, keep and an inline template', () => {
    const text = `${HEAD}schedules:
  - name: weekly
    cron: "@weekly"
    timeZone: Europe/Berlin
    namespace: batch
    serviceAccountName: runner
    startingDeadlineSeconds: 60
    keep: {successful: 3, failed: 5}
    template:
      resourcetemplates:
        - apiVersion: tekton.dev/v1
          kind: TaskRun
          metadata: {generateName: weekly-}
`;
    const result = load(text);
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const s = result.config.schedules[0]!;
    expect(s.timeZone).toBe('Europe/Berlin');
    expect(s.trigger.namespace).toBe('batch');
    expect(s.trigger.serviceAccountName).toBe('runner');
    expect(s.startingDeadlineSeconds).toBe(60);
    expect(s.keep).toEqual({ successful: 3, failed: 5 });
    expect(s.trigger.template.name).toBe('schedules[0].template');
  });

  it('a file without schedules has none', () => {
    const result = load(HEAD);
    expect(result.ok && result.config.schedules).toEqual([]);
  });
});

describe('schedules: problems with their location', () => {
  const cases: { name: string; entry: string; needle: string; shift?: number; path: string; says: string }[] =
    [
      {
        name: 'cron syntax, pointing at the expression text',
        entry: `cron: "61 3 * * *"`,
        needle: '"61 3',
        shift: 1,
        path: 'schedules[0].cron',
        says: 'invalid cron expression: Invalid value for minute: 61',
      },
      {
        name: 'too few fields',
        entry: `cron: "0 3 *"`,
        needle: '"0 3 *"',
        shift: 1,
        path: 'schedules[0].cron',
        says: 'exactly five, six, or seven space separated parts',
      },
      {
        name: 'unknown nickname',
        entry: `cron: "@sometimes"`,
        needle: '"@sometimes',
        shift: 1,
        path: 'schedules[0].cron',
        says: 'is not one of @yearly',
      },
      {
        name: 'unknown time zone',
        entry: `cron: "0 3 * * *"\n    timeZone: Europe/Atlantis`,
        needle: 'Europe/Atlantis',
        path: 'schedules[0].timeZone',
        says: '"Europe/Atlantis" is not a time zone',
      },
      {
        name: 'deadline below 60 s',
        entry: `cron: "0 3 * * *"\n    startingDeadlineSeconds: 30`,
        needle: '30',
        path: 'schedules[0].startingDeadlineSeconds',
        says: 'must be at least 60',
      },
      {
        name: 'a header a slot never has',
        entry: `cron: "0 3 * * *"\n    bindings: [{name: ref, value: $(header.X-Ref)}]`,
        needle: '[{name: ref',
        path: 'schedules[0].bindings',
        says: '$(header.X-Ref) can never resolve in a schedule',
      },
      {
        name: 'an unknown key',
        entry: `cron: "0 3 * * *"\n    filter: "true"`,
        needle: 'filter',
        path: 'schedules[0].filter',
        says: 'unknown key',
      },
      {
        name: 'body must be a mapping',
        entry: `cron: "0 3 * * *"\n    body: [1, 2]`,
        needle: '[1, 2]',
        path: 'schedules[0].body',
        says: 'must be a mapping',
      },
    ];

  it.each(cases)('$name', ({ entry, needle, shift, path, says }) => {
    const bindings = entry.includes('bindings:') ? '' : '\n    bindings: [{name: ref, value: $(body.ref)}]';
    const body = entry.includes('body:') ? '' : '\n    body: {ref: main}';
    const schedules = `schedules:\n  - name: nightly\n    ${entry}${bindings}${body}\n    template: nightly\n`;
    const text = HEAD + schedules;
    const result = load(text);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const line = result.problems.find((p) => p.includes(`: ${path}: `));
    expect(line, result.problems.join('\n')).toBeDefined();
    expect(line).toContain(says);
    // Positions are searched for in the schedules part only: HEAD has look-alike text.
    const position = at(
      text,
      `${schedules.slice(0, schedules.indexOf(needle))}${needle}`,
      schedules.indexOf(needle) + (shift ?? 0),
    );
    expect(line!.startsWith(`${position}: `), line).toBe(true);
  });

  it('two schedules with one name', () => {
    const text = `${HEAD}schedules:
  - {name: nightly, cron: "0 3 * * *", template: nightly, bindings: [{name: ref, value: main}]}
  - {name: nightly, cron: "0 4 * * *", template: nightly, bindings: [{name: ref, value: main}]}
`;
    const result = load(text);
    expect(result.ok ? [] : result.problems).toContainEqual(
      expect.stringMatching(
        /^routes\.yaml:\d+:\d+: schedules\[1\]\.name: schedule "nightly" is already defined by schedules\[0\]$/,
      ),
    );
  });

  it('a param without default must be bound, as for a trigger', () => {
    const text = `${HEAD}schedules:
  - name: nightly
    cron: "0 3 * * *"
    template: nightly
`;
    const result = load(text);
    expect(result.ok ? [] : result.problems.join('\n')).toContain(
      'param "ref" of template "nightly" has no default, so this trigger must bind it',
    );
  });

  it('$(context.scheduledTime) in a route is a load error: a webhook has no slot', () => {
    const text = HEAD.replace('$(body.ref)', '$(context.scheduledTime)');
    const result = load(text);
    expect(result.ok ? [] : result.problems).toContainEqual(
      `${at(text, '[{name: ref')}: routes[0].triggers[0].bindings: param "ref": $(context.scheduledTime) exists only in schedules (§13); a webhook has no slot time`,
    );
  });
});
