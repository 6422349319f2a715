// `import` turns a CronJob that curls an EventListener into a schedule when its body is a literal JSON
// object (issue #18, contract §13); everything else about CronJobs is reported, and the output loads.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';
import { importTekton } from '../../src/import/convert.js';
import { formatFinding } from '../../src/import/findings.js';
import { cli } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

const fixture = 'test/fixtures/import/cronjob-nightly.yaml';
const text = readFileSync(join(repoRoot, fixture), 'utf8');

function imported(input: string) {
  const result = importTekton([{ name: 'in.yaml', text: input }]);
  if (!result.ok) throw new Error(result.problems.join('\n'));
  const loaded = loadConfigBytes(Buffer.from(result.yaml), 'routes.yaml');
  if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
  return { result, config: loaded.config, report: result.findings.map(formatFinding).join('\n') };
}

describe('import: CronJobs that curl a listener', () => {
  it('exec-form and sh -c curls with a literal body become schedules that run the listener trigger', () => {
    const { result, config } = imported(text);
    expect(config.schedules.map((s) => s.name)).toEqual(['nightly', 'hourly-shell']);
    const [nightly, hourly] = config.schedules;
    expect(nightly!.cron.source).toBe('30 2 * * *');
    expect(nightly!.timeZone).toBe('Europe/Berlin');
    expect(nightly!.startingDeadlineSeconds).toBe(600);
    expect(nightly!.body).toEqual({ ref: 'refs/heads/main' });
    expect(nightly!.trigger.template.name).toBe('nightly-template');
    expect(nightly!.trigger.bindings.map((b) => [b.name, b.value.text])).toEqual([
      ['revision', '$(body.ref)'],
      ['repository', 'https://git.example.com/team/app.git'],
    ]);
    expect(nightly!.trigger.namespace ?? config.routes[0]!.namespace).toBe('ci');
    // CRON_TZ= in the schedule becomes timeZone; the words after `&&` are not curl's.
    expect(hourly!.cron.source).toBe('0 * * * *');
    expect(hourly!.timeZone).toBe('UTC');
    expect(hourly!.body).toEqual({ ref: 'refs/heads/release' });
    expect(result.yaml).toContain('# From CronJob ci/nightly, which curled EventListener nightly-listener');
    expect(result.summary.schedules).toBe(2);
  });

  it('keeps a CronJob it cannot carry over as a caller of the gateway, and leaves other CronJobs alone', () => {
    const { result, report } = imported(text);
    // Nothing is lost: the CronJob whose body comes from a file keeps running, pointed at the gateway.
    expect(result.complete).toBe(true);
    expect(report).toContain(
      "note: CronJob ci/from-file (in.yaml:91): not made a schedule: its request body cannot become a schedule's body (it is read from a file (@/payload/body.json) when the job runs)",
    );
    expect(report).toContain(
      'warning: CronJob ci/from-file (in.yaml:91): calls el-nightly-listener, the Service of EventListener ci/nightly-listener',
    );
    expect(report).toContain(
      'point it at http://tekton-gateway.<gateway namespace>.svc.cluster.local:8080/nightly-listener',
    );
    expect(report).toContain(
      'note: CronJob ci/backup (in.yaml:108): skipped: no container of this CronJob runs curl',
    );
    expect(report).toContain(
      'note: CronJob ci/nightly (in.yaml:53): became a schedule: delete the CronJob once the gateway runs it',
    );
  });

  it('a trigger whose filter decided per request is not turned into a schedule', () => {
    const filtered = text.replace(
      '    - name: nightly-build\n',
      '    - name: nightly-build\n      interceptors:\n        - ref: {name: cel}\n          params:\n            - {name: filter, value: "body.ref == \'refs/heads/main\'"}\n',
    );
    const { config, report } = imported(filtered);
    expect(config.schedules).toEqual([]);
    expect(report).toContain(
      'trigger nightly-build of nightly-listener has a filter, which a schedule cannot evaluate (a slot has no request)',
    );
    // The interceptor lines move the CronJob down by four.
    expect(report).toContain('warning: CronJob ci/nightly (in.yaml:57): calls el-nightly-listener');
  });

  it('a binding that reads a header is no schedule: the CronJob stays, pointed at the gateway, the output loads', () => {
    const withHeader = text.replace('value: https://git.example.com/team/app.git', 'value: $(header.X-Repo)');
    const { result, config, report } = imported(withHeader);
    expect(config.schedules).toEqual([]);
    expect(result.complete).toBe(true);
    expect(report).toContain(
      'note: CronJob ci/nightly (in.yaml:53): not made a schedule: trigger nightly-build of nightly-listener has bindings that read request headers',
    );
    expect(report).toContain('warning: CronJob ci/nightly (in.yaml:53): calls el-nightly-listener');
  });

  it('a CronJob calling a listener that is not in the input is left out', () => {
    const { report } = imported(text.replaceAll('el-nightly-listener', 'el-other-listener'));
    expect(report).toContain('it calls EventListener other-listener, which is not in the imported files');
  });

  it('the built binary exits 0 and prints a routes.yaml with schedules that validates', async () => {
    const r = await cli(['import', fixture]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('schedules:\n  # From CronJob ci/nightly');
    expect(r.stderr).toMatch(
      /import: 1 route, 1 trigger, 1 binding, 1 template, 2 schedules; nothing left out\n$/,
    );
  });
});
