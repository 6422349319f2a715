// Section 3, the create path: webhooks whose filter passes, each creating one PipelineRun through the fake
// Kubernetes API (TLS, 20 ms injected on every create), under open-model load at fixed rates. "Added by
// the gateway" is each request's time to response minus the injected API latency.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { benchDir, pinned, workDir } from './env.js';
import { expect, post, type Context } from './context.js';
import { CREATE_NAMESPACE } from './fixtures.js';
import type { OpenModelOptions, OpenModelResult } from './open-model.js';
import { githubHeaders, type Payload } from './payloads.js';
import { RssSampler, run } from './processes.js';
import { startFakeKube, startGateway } from './servers.js';

export interface CreateRun {
  readonly rate: number;
  readonly result: OpenModelResult;
  /** Time to response minus the injected API latency, ms. */
  readonly addedP50: number;
  readonly addedP99: number;
  /** Mean time of one create as the gateway's client measured it (kube_request_duration_seconds). */
  readonly kubeMeanMs: number;
  readonly cpuUsPerRequest: number;
  readonly maxRssBytes: number;
  /** Answers other than 201 (503 when the in-flight limit is reached) and socket errors, of `result.scheduled`. */
  readonly notCreated: number;
}

export interface CreateResults {
  readonly runs: Record<number, CreateRun[]>;
  readonly gatewayIdleRssBytes: number;
}

const DELIVERY_HEADER = 'X-GitHub-Delivery';

/** Sum and count of a histogram over all its label sets, from Prometheus text. */
async function histogram(adminUrl: string, name: string): Promise<{ sum: number; count: number }> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  const total = (suffix: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith(`${name}_${suffix}`))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
  return { sum: total('sum'), count: total('count') };
}

export async function createSection(ctx: Context, payload: Payload): Promise<CreateResults> {
  const { settings: s, tools, fixtures } = ctx;
  ctx.progress(`create: starting the fake Kubernetes API (TLS, ${s.apiLatencyMs} ms per create) on core 1`);
  const fake = await startFakeKube(tools, s.apiLatencyMs, CREATE_NAMESPACE);
  let gateway: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    gateway = await startGateway(tools, {
      name: 'tekton-gateway (create)',
      main: s.gatewayMain,
      routesFile: fixtures.routesFile,
      secretsDir: fixtures.secretsDir,
      dryRun: false,
      cpuProfDir: s.cpuProfDir,
      kubeconfig: fake.kubeconfigPath,
    });
    const url = `${gateway.url}/github-create`;
    const first = await post(url, payload.body, githubHeaders(payload.body, 'sanity-delivery-1'));
    expect(
      'create: the request creates one PipelineRun (201)',
      first.status === 201 &&
        first.text.includes('"outcome":"created"') &&
        first.text.includes('PipelineRun'),
      first,
    );
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const gatewayIdleRssBytes = gateway.server.rssBytes();

    const bodyFile = path.join(workDir, 'create.body');
    writeFileSync(bodyFile, payload.body);
    const headers = githubHeaders(payload.body);
    delete headers[DELIVERY_HEADER];

    const runs: Record<number, CreateRun[]> = {};
    for (let rep = 0; rep < s.reps; rep++) {
      for (const rate of s.createRates) {
        const options: OpenModelOptions = {
          url,
          bodyFile,
          headers,
          deliveryHeader: DELIVERY_HEADER,
          rate,
          warmupSeconds: s.warmupSeconds,
          seconds: s.createSeconds,
          seed: 8 + rep * 1000 + rate,
          timeoutMs: 15_000,
        };
        const kubeBefore = await histogram(gateway.adminUrl!, 'tekton_gateway_kube_request_duration_seconds');
        const cpuBefore = gateway.server.cpuSeconds();
        const sampler = new RssSampler([gateway.server.pid]);
        const [command, args] = pinned(tools, 1, process.execPath, [
          path.join(benchDir, 'open-model.js'),
          JSON.stringify(options),
        ]);
        const out = await run('open-model client', command, args);
        const maxRssBytes = sampler.stop().get(gateway.server.pid) ?? Number.NaN;
        const cpu = gateway.server.cpuSeconds() - cpuBefore;
        const kubeAfter = await histogram(gateway.adminUrl!, 'tekton_gateway_kube_request_duration_seconds');
        const result = JSON.parse(out) as OpenModelResult;
        const created = result.statuses['201'] ?? 0;
        // A gateway past its capacity answers 503 (in-flight limit) by design: a figure to report, not a failure.
        if (created === 0) {
          throw new Error(
            `create at ${rate} req/s: nothing was created: ${JSON.stringify(result.statuses)}; ` +
              `sample answer: ${result.sample.slice(0, 300)}`,
          );
        }
        if (created !== result.scheduled) {
          ctx.progress(
            `create at ${rate} req/s: ${result.scheduled - created} of ${result.scheduled} answers were not 201: ` +
              JSON.stringify(result.statuses),
          );
        }
        const kubeCount = kubeAfter.count - kubeBefore.count;
        const entry: CreateRun = {
          rate,
          result,
          addedP50: result.latency.p50 - s.apiLatencyMs,
          addedP99: result.latency.p99 - s.apiLatencyMs,
          kubeMeanMs: kubeCount > 0 ? ((kubeAfter.sum - kubeBefore.sum) / kubeCount) * 1000 : Number.NaN,
          cpuUsPerRequest: (cpu * 1e6) / result.scheduled,
          maxRssBytes,
          notCreated: result.scheduled - created,
        };
        (runs[rate] ??= []).push(entry);
        ctx.progress(
          `create: ${rate} req/s (rep ${rep + 1}/${s.reps}): p50 ${result.latency.p50.toFixed(1)} ms, ` +
            `p99 ${result.latency.p99.toFixed(1)} ms, added p99 ${entry.addedP99.toFixed(1)} ms, ` +
            `generator late p99 ${result.lateness.p99.toFixed(2)} ms`,
        );
      }
    }
    return { runs, gatewayIdleRssBytes };
  } finally {
    await gateway?.server.stop();
    await fake.server.stop();
  }
}
