// Section 1, the verify + filter path: the gateway, adnanh/webhook and the Node ceiling side by side under
// the same wrk load, each checking the signature (or token), parsing the body and rejecting on `ref`.
// Runs are interleaved (each repetition runs the three back to back, in a rotating order), so the ratios
// compare runs made under the same conditions on a shared, noisy machine.
import { createHmac } from 'node:crypto';
import { expect, post, type Context } from './context.js';
import { writeWrkScript } from './fixtures.js';
import { GITHUB_SECRET, REJECTED_REF, githubHeaders, type Payload } from './payloads.js';
import {
  startCeiling,
  startGateway,
  startPipelineServer,
  startWebhook,
  type RunningServer,
} from './servers.js';
import { runWrk, type WrkRun } from './wrk.js';

/** The last one is an experiment (pipeline-server.ts): where the rest of the gateway's time goes. */
export const SERVERS = [
  'tekton-gateway',
  'adnanh/webhook',
  'node:http ceiling',
  'pipeline on node:http',
] as const;
/** Another build of the gateway (--baseline), run interleaved with this one for before/after figures. */
export const BASELINE = 'tekton-gateway (baseline build)';
export type ServerName = (typeof SERVERS)[number] | typeof BASELINE;

export interface VerifyResults {
  /** runs[payload][server] = one WrkRun per repetition; the baseline only with --baseline. */
  readonly runs: Record<string, Record<ServerName, WrkRun[]>>;
  readonly gatewayIdleRssBytes: number;
  readonly gatewayIdleAfterLoadRssBytes: number;
  readonly webhookIdleRssBytes: number;
  readonly ceilingIdleRssBytes: number;
  readonly gatewayStartupMs: number;
}

/** adnanh/webhook's base URL ends in /hooks and its hook ids are the route paths, so one rule fits all. */
function urlFor(server: RunningServer, payload: Payload): string {
  return `${server.url}${payload.path}`;
}

/** The same payload with `ref` set to the branch the rules accept, re-signed. */
function accepted(payload: Payload): { body: Buffer; headers: Record<string, string> } {
  const body = Buffer.from(JSON.stringify({ ...JSON.parse(payload.body.toString()), ref: REJECTED_REF }));
  const headers = payload.provider === 'github' ? githubHeaders(body) : { ...payload.headers };
  return { body, headers };
}

/** Wrong credentials: a signature over other bytes, or another token. */
function forged(payload: Payload, body: Buffer): Record<string, string> {
  if (payload.provider === 'github') {
    const other = createHmac('sha256', GITHUB_SECRET)
      .update(Buffer.concat([body, Buffer.from(' ')]))
      .digest('hex');
    return { ...githubHeaders(body), 'X-Hub-Signature-256': `sha256=${other}` };
  }
  return { ...payload.headers, 'X-Gitlab-Token': 'not-the-token' };
}

/**
 * Each server must really do the job before it is timed: reject the benchmark request on `ref` (not on
 * something else), refuse wrong credentials, and accept a request whose ref matches.
 */
async function sanity(name: ServerName, server: RunningServer, payload: Payload): Promise<void> {
  const url = urlFor(server, payload);
  const what = (s: string) => `${name} ${payload.name}: ${s}`;
  const bench = await post(url, payload.body, payload.headers);
  const good = accepted(payload);
  const bad = await post(url, good.body, forged(payload, good.body));
  const ok = await post(url, good.body, good.headers);
  switch (name) {
    case 'tekton-gateway':
    case BASELINE:
    case 'pipeline on node:http': {
      const trigger = (text: string) =>
        (JSON.parse(text) as { triggers?: { outcome: string; reason?: string }[] }).triggers?.[0];
      expect(
        what('the benchmark request is skipped by the filter (200)'),
        bench.status === 200 && trigger(bench.text)?.reason?.startsWith('filter returned false') === true,
        bench,
      );
      expect(what('wrong credentials get 401'), bad.status === 401, bad);
      expect(
        what('a matching ref renders (200, dry run)'),
        ok.status === 200 && trigger(ok.text)?.outcome === 'rendered',
        ok,
      );
      break;
    }
    case 'adnanh/webhook': {
      const unsatisfied = 'Hook rules were not satisfied.';
      expect(
        what(`the benchmark request answers "${unsatisfied}"`),
        bench.status === 200 && bench.text === unsatisfied,
        bench,
      );
      // A signature mismatch is an evaluation error (500); a wrong token is a value rule that fails (200).
      expect(what('wrong credentials are refused'), bad.text !== '' && bad.text !== ok.text, bad);
      expect(what('a matching ref runs the hook (200, empty body)'), ok.status === 200 && ok.text === '', ok);
      break;
    }
    case 'node:http ceiling':
      expect(
        what('the benchmark request is skipped'),
        bench.status === 200 && bench.text.includes('skipped'),
        bench,
      );
      expect(what('wrong credentials get 401'), bad.status === 401, bad);
      expect(what('a matching ref is accepted'), ok.status === 200 && ok.text.includes('accepted'), ok);
      break;
  }
}

export async function verifySection(ctx: Context, payloads: readonly Payload[]): Promise<VerifyResults> {
  const { settings: s, tools, fixtures } = ctx;
  ctx.progress(
    'verify + filter: starting the gateway (dry run), adnanh/webhook, the Node ceiling and the pipeline experiment on core 0',
  );
  const gateway = await startGateway(tools, {
    name: 'tekton-gateway',
    main: s.gatewayMain,
    routesFile: fixtures.routesFile,
    secretsDir: fixtures.secretsDir,
    dryRun: true,
    cpuProfDir: s.cpuProfDir,
  });
  const names: ServerName[] = s.baselineMain ? [...SERVERS, BASELINE] : [...SERVERS];
  const servers: Partial<Record<ServerName, RunningServer>> = {
    'tekton-gateway': gateway,
    'adnanh/webhook': await startWebhook(tools, fixtures.hooksFile),
    'node:http ceiling': await startCeiling(tools),
    'pipeline on node:http': await startPipelineServer(
      tools,
      ctx.dist,
      fixtures.routesFile,
      fixtures.secretsDir,
    ),
  };
  if (s.baselineMain) {
    servers[BASELINE] = await startGateway(tools, {
      name: BASELINE,
      main: s.baselineMain,
      routesFile: fixtures.routesFile,
      secretsDir: fixtures.secretsDir,
      dryRun: true,
    });
  }
  const server = (name: ServerName) => servers[name]!;
  try {
    // Idle: started, nothing served yet, after a moment to settle.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const idle = Object.fromEntries(names.map((n) => [n, server(n).server.rssBytes()])) as Record<
      ServerName,
      number
    >;

    const runs: VerifyResults['runs'] = {};
    for (const payload of payloads) {
      const script = writeWrkScript(payload, `verify-${payload.name}`);
      for (const name of names) await sanity(name, server(name), payload);
      runs[payload.name] = Object.fromEntries(names.map((n) => [n, []])) as unknown as Record<
        ServerName,
        WrkRun[]
      >;
      for (const name of names) {
        ctx.progress(`verify + filter: ${payload.name} → ${name}: warm-up ${s.warmupSeconds} s`);
        await runWrk(tools, {
          url: urlFor(server(name), payload),
          script,
          connections: s.connections,
          seconds: s.warmupSeconds,
          server: server(name).server,
        });
      }
      for (let rep = 0; rep < s.reps; rep++) {
        // Rotate the order so no server always runs first (or right after another's garbage).
        const order = names.map((_, i) => names[(i + rep) % names.length]!);
        for (const name of order) {
          const run = await runWrk(tools, {
            url: urlFor(server(name), payload),
            script,
            connections: s.connections,
            seconds: s.seconds,
            server: server(name).server,
          });
          if (run.errors > 0)
            throw new Error(`${name} ${payload.name}: ${run.errors} errors or non-2xx answers under load`);
          ctx.progress(
            `verify + filter: ${payload.name} → ${name} (rep ${rep + 1}/${s.reps}): ${Math.round(run.rps)} req/s, ` +
              `p99 ${run.p99.toFixed(2)} ms, ${run.cpuUsPerRequest.toFixed(0)} µs CPU/req`,
          );
          runs[payload.name]![name].push(run);
        }
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    return {
      runs,
      gatewayIdleRssBytes: idle['tekton-gateway'],
      gatewayIdleAfterLoadRssBytes: gateway.server.rssBytes(),
      webhookIdleRssBytes: idle['adnanh/webhook'],
      ceilingIdleRssBytes: idle['node:http ceiling'],
      gatewayStartupMs: gateway.startupMs,
    };
  } finally {
    for (const running of Object.values(servers)) await running.server.stop();
  }
}
