// Schedules in the CLI (contract §7, §13): `validate` points at a bad cron or time zone with LINE:COL,
// `routes` prints each schedule's next three times in its zone with the offset, `serve --dry-run` logs the
// objects each slot would create, and the admin port's GET /routes lists the schedules.
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import { formatRoutes } from '../../src/commands/routes.js';
import { cli } from '../helpers/cli.js';
import { routesFile, startGateway } from '../helpers/gateway.js';
import { childGateway } from '../integration/harness.js';

const yaml = (schedule: string) => `apiVersion: tekton-gateway/v1
templates:
  nightly:
    params:
      - name: ref
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata: {generateName: nightly-}
        spec:
          params: [{name: ref, value: $(tt.params.ref)}]
routes:
  - path: /hook
    provider: none
    triggers:
      - {name: t, bindings: [{name: ref, value: x}], template: nightly}
schedules:
${schedule}`;

const nightly = `  - name: nightly
    cron: "0 3 * * *"
    timeZone: Europe/Berlin
    namespace: batch
    body: {ref: refs/heads/main}
    bindings: [{name: ref, value: $(body.ref)}]
    template: nightly
`;

describe('routes', () => {
  it('prints each schedule with its next three times in its zone, with the offset', () => {
    const result = loadConfigBytes(Buffer.from(yaml(nightly)), 'routes.yaml');
    if (!result.ok) throw new Error(result.problems.join('\n'));
    // 2026-03-27 12:00Z: the next three 03:00s in Berlin straddle the spring change (+01:00 → +02:00).
    const text = formatRoutes(result.config, Date.parse('2026-03-27T12:00:00Z'));
    expect(text).toContain(
      [
        'schedule nightly  (cron "0 3 * * *" in Europe/Berlin, startingDeadlineSeconds 300)',
        '  → template nightly in namespace batch',
        '  next: 2026-03-28T03:00:00+01:00, 2026-03-29T03:00:00+02:00, 2026-03-30T03:00:00+02:00',
        '  param ref = $(body.ref)',
      ].join('\n'),
    );
  });

  it('the built binary prints them too', async () => {
    const r = await cli(['routes', '--routes', routesFile(yaml(nightly))]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^ {2}next: (\d{4}-\d\d-\d\dT03:00:00\+0[12]:00, ){2}\d{4}-\d\d-\d\dT03:00:00\+0[12]:00$/m,
    );
  });
});

describe('validate', () => {
  it('reports a bad cron and an unknown zone with FILE:LINE:COL and exits 1', async () => {
    const file = routesFile(
      yaml(`  - name: nightly
    cron: "0 25 * * *"
    timeZone: Europe/Berlin
    bindings: [{name: ref, value: main}]
    template: nightly
  - name: weekly
    cron: "@weekly"
    timeZone: Mars/Olympus
    bindings: [{name: ref, value: main}]
    template: nightly
`),
    );
    const r = await cli(['validate', file]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      `${file}:19:12: schedules[0].cron: invalid cron expression: Invalid value for hour: 25 (5 fields "m h dom mon dow", 6 with seconds first, or @hourly @daily @weekly @monthly @yearly)`,
      `${file}:25:15: schedules[1].timeZone: "Mars/Olympus" is not a time zone this runtime knows (an IANA name such as UTC, Europe/Berlin, America/New_York)`,
    ]);
  });

  it('a valid file with schedules is ok', async () => {
    const file = routesFile(yaml(nightly));
    const r = await cli(['validate', file]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`${file}: ok\n`);
  });
});

describe('serve --dry-run', () => {
  it('logs what each slot would create', async () => {
    const file = routesFile(yaml(nightly.replace('"0 3 * * *"', '"* * * * * *"')));
    const gw = await childGateway(file, '', ['--dry-run']);
    try {
      const end = Date.now() + 10_000;
      while (!gw.logs.some((l) => l.msg === 'schedule slot') && Date.now() < end) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const line = gw.logs.find((l) => l.msg === 'schedule slot');
      expect(line).toMatchObject({ level: 'info', schedule: 'nightly', outcome: 'rendered' });
      expect(line!.objects).toHaveLength(1);
      expect(line!.objects[0]).toMatchObject({
        kind: 'PipelineRun',
        metadata: {
          namespace: 'batch',
          labels: { 'triggers.tekton.dev/triggers-eventid': line!.eventId },
        },
        spec: { params: [{ name: 'ref', value: 'refs/heads/main' }] },
      });
      expect(line!.eventId).toMatch(/^nightly-\d{8}T\d{6}Z$/);
      expect(gw.logs.find((l) => l.msg === 'schedules')).toMatchObject({
        schedules: [{ name: 'nightly', cron: '* * * * * *', timeZone: 'Europe/Berlin' }],
      });
    } finally {
      await gw.stop();
    }
  });

  it('GET /routes on the admin port lists the schedules with their next times', async () => {
    const gw = await startGateway(['--routes', routesFile(yaml(nightly)), '--dry-run']);
    try {
      const body = (await (await fetch(`${gw.adminUrl}/routes`)).json()) as any;
      expect(body.schedules).toHaveLength(1);
      expect(body.schedules[0]).toMatchObject({
        name: 'nightly',
        route: 'schedules/nightly',
        cron: '0 3 * * *',
        timeZone: 'Europe/Berlin',
        namespace: 'batch',
        template: 'nightly',
      });
      expect(body.schedules[0].next).toHaveLength(3);
    } finally {
      await gw.stop();
    }
  });
});
