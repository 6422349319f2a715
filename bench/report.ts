// Turns the raw runs into the figures of issue #8 (medians over repetitions; ratios as medians of
// per-repetition ratios, since the three servers of one repetition ran under the same conditions) and
// prints them as one report. The same summary goes into the JSON file next to the raw runs.
import type { CreateResults } from './create.js';
import type { MachineInfo, Tools } from './env.js';
import type { Settings } from './context.js';
import type { RouteCountRun, SizeResults } from './scaling.js';
import { fmt, median } from './stats.js';
import type { VerifyResults } from './verify.js';
import { SERVERS } from './verify.js';
import type { WrkRun } from './wrk.js';

export interface FloorResults {
  readonly [name: string]: { readonly usPerOp: readonly number[]; readonly bytes: number };
}

export interface Results {
  readonly machine: MachineInfo;
  readonly loadAverageAtEnd: readonly number[];
  readonly settings: Settings;
  readonly payloads: readonly { name: string; description: string; bytes: number }[];
  readonly verify?: VerifyResults;
  readonly floor?: FloorResults;
  readonly create?: CreateResults;
  readonly sizes?: SizeResults;
  readonly routes?: readonly RouteCountRun[];
  readonly seconds: number;
}

interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean | undefined;
}

export interface Summary {
  readonly verify: Record<
    string,
    {
      servers: Record<string, { rps: number; p50: number; p99: number; cpuUs: number; maxRssBytes: number }>;
      gatewayOverWebhook: number;
      gatewayOverCeiling: number;
      /** The experiment: the gateway's req/s as a share of its own pipeline on bare node:http. */
      gatewayOverPipeline: number;
      floorUs: number;
      gatewayCpuOverFloor: number;
      webhookCpuOverFloor: number;
      ceilingCpuOverFloor: number;
    }
  >;
  readonly create: Record<
    string,
    {
      achievedRate: number;
      p50: number;
      p99: number;
      addedP50: number;
      addedP99: number;
      kubeMeanMs: number;
      cpuUs: number;
      latenessP99: number;
      maxRssBytes: number;
    }
  >;
  readonly memory: Record<string, number>;
  readonly sizes: Record<
    string,
    {
      bytes: number;
      gatewayCpuUs: number;
      ceilingCpuUs: number;
      floorUs: number;
      gatewayP50: number;
      ceilingP50: number;
    }
  >;
  readonly routes: Record<
    string,
    {
      triggers: number;
      fileBytes: number;
      loadColdMs: number;
      loadWarmMs: number;
      startupMs: number;
      idleRssBytes: number;
      rps: number;
      p99: number;
      cpuUs: number;
      maxRssBytes: number;
    }
  >;
  readonly targets: readonly Target[];
}

const med = (runs: readonly WrkRun[], key: keyof WrkRun) => median(runs.map((r) => r[key] as number));

export function summarize(r: Results): Summary {
  const floorUs = (name: string) => median([...(r.floor?.[name]?.usPerOp ?? [])]);
  const verify: Summary['verify'] = {};
  for (const [payload, byServer] of Object.entries(r.verify?.runs ?? {})) {
    const servers: Summary['verify'][string]['servers'] = {};
    for (const name of SERVERS) {
      const runs = byServer[name];
      servers[name] = {
        rps: med(runs, 'rps'),
        p50: med(runs, 'p50'),
        p99: med(runs, 'p99'),
        cpuUs: med(runs, 'cpuUsPerRequest'),
        maxRssBytes: Math.max(...runs.map((x) => x.maxRssBytes)),
      };
    }
    const perRep = (other: (typeof SERVERS)[number]) =>
      median(byServer['tekton-gateway'].map((g, i) => g.rps / byServer[other][i]!.rps));
    const floor = floorUs(payload);
    verify[payload] = {
      servers,
      gatewayOverWebhook: perRep('adnanh/webhook'),
      gatewayOverCeiling: perRep('node:http ceiling'),
      gatewayOverPipeline: perRep('pipeline on node:http'),
      floorUs: floor,
      gatewayCpuOverFloor: servers['tekton-gateway']!.cpuUs / floor,
      webhookCpuOverFloor: servers['adnanh/webhook']!.cpuUs / floor,
      ceilingCpuOverFloor: servers['node:http ceiling']!.cpuUs / floor,
    };
  }

  const create: Summary['create'] = {};
  for (const [rate, runs] of Object.entries(r.create?.runs ?? {})) {
    const m = (f: (x: (typeof runs)[number]) => number) => median(runs.map(f));
    create[rate] = {
      achievedRate: m((x) => x.result.achievedRate),
      p50: m((x) => x.result.latency.p50),
      p99: m((x) => x.result.latency.p99),
      addedP50: m((x) => x.addedP50),
      addedP99: m((x) => x.addedP99),
      kubeMeanMs: m((x) => x.kubeMeanMs),
      cpuUs: m((x) => x.cpuUsPerRequest),
      latenessP99: m((x) => x.result.lateness.p99),
      maxRssBytes: Math.max(...runs.map((x) => x.maxRssBytes)),
    };
  }

  const sizes: Summary['sizes'] = {};
  for (const [name, entry] of Object.entries(r.sizes?.runs ?? {})) {
    sizes[name] = {
      bytes: entry.bytes,
      gatewayCpuUs: med(entry.gateway, 'cpuUsPerRequest'),
      ceilingCpuUs: med(entry.ceiling, 'cpuUsPerRequest'),
      floorUs: floorUs(name),
      gatewayP50: med(entry.gateway, 'p50'),
      ceilingP50: med(entry.ceiling, 'p50'),
    };
  }

  const routes: Summary['routes'] = {};
  for (const entry of r.routes ?? []) {
    routes[entry.routes] = {
      triggers: entry.triggers,
      fileBytes: entry.fileBytes,
      loadColdMs: median(entry.load.map((l) => l.coldMs)),
      loadWarmMs: median(entry.load.map((l) => l.warmMs)),
      startupMs: entry.startupMs,
      idleRssBytes: entry.idleRssBytes,
      rps: med(entry.runs, 'rps'),
      p99: med(entry.runs, 'p99'),
      cpuUs: med(entry.runs, 'cpuUsPerRequest'),
      maxRssBytes: Math.max(...entry.runs.map((x) => x.maxRssBytes)),
    };
  }

  const memory: Record<string, number> = {};
  if (r.verify) {
    memory['gateway idle (dry run, 3 routes, nothing served yet)'] = r.verify.gatewayIdleRssBytes;
    memory['gateway, verify + filter load (max)'] = Math.max(
      ...Object.values(verify).map((v) => v.servers['tekton-gateway']!.maxRssBytes),
    );
    memory['gateway idle after that load'] = r.verify.gatewayIdleAfterLoadRssBytes;
    memory['adnanh/webhook idle'] = r.verify.webhookIdleRssBytes;
    memory['adnanh/webhook, same load (max)'] = Math.max(
      ...Object.values(verify).map((v) => v.servers['adnanh/webhook']!.maxRssBytes),
    );
    memory['node:http ceiling idle'] = r.verify.ceilingIdleRssBytes;
  }
  if (r.create) {
    memory['gateway idle (creating, after one create)'] = r.create.gatewayIdleRssBytes;
    memory['gateway, create load up to 500 req/s (max)'] = Math.max(
      ...Object.values(create).map((c) => c.maxRssBytes),
    );
  }
  const most = r.routes?.at(-1);
  if (most) {
    memory[`gateway idle with ${most.routes} routes × 3 triggers`] = most.idleRssBytes;
    memory[`gateway, ${most.routes} routes under verify + filter load (max)`] =
      routes[most.routes]!.maxRssBytes;
  }
  if (r.sizes) {
    const biggest = Object.entries(r.sizes.runs).at(-1);
    if (biggest) {
      memory[`gateway, ${fmt.bytes(biggest[1].bytes)} payloads one at a time (max)`] = Math.max(
        ...biggest[1].gateway.map((x) => x.maxRssBytes),
      );
    }
  }

  return { verify, create, memory, sizes, routes, targets: targets(verify, create, memory, routes) };
}

function targets(
  verify: Summary['verify'],
  create: Summary['create'],
  memory: Record<string, number>,
  routes: Summary['routes'],
): Target[] {
  const out: Target[] = [];
  const entries = Object.entries(verify);
  if (entries.length > 0) {
    const list = (f: (v: Summary['verify'][string]) => string) =>
      entries.map(([n, v]) => `${n} ${f(v)}`).join(', ');
    const all = (f: (v: Summary['verify'][string]) => boolean) => entries.every(([, v]) => f(v));
    out.push({
      target: '≥ 3× adnanh/webhook req/s (1.5× minimum)',
      measured: list((v) => fmt.ratio(v.gatewayOverWebhook)),
      met: all((v) => v.gatewayOverWebhook >= 3),
    });
    out.push({
      target: '≥ 1.5× adnanh/webhook req/s (minimum to call it done)',
      measured: list((v) => fmt.ratio(v.gatewayOverWebhook)),
      met: all((v) => v.gatewayOverWebhook >= 1.5),
    });
    out.push({
      target: '≥ 75 % of the Node ceiling req/s',
      measured: list((v) => fmt.pct(v.gatewayOverCeiling)),
      met: all((v) => v.gatewayOverCeiling >= 0.75),
    });
    if (entries.every(([, v]) => Number.isFinite(v.floorUs))) {
      out.push({
        target: '≤ 2× the floor, CPU per request',
        measured: list((v) => fmt.ratio(v.gatewayCpuOverFloor)),
        met: all((v) => v.gatewayCpuOverFloor <= 2),
      });
    }
  }
  const at200 = create['200'];
  if (at200) {
    out.push({
      target: '≤ 5 ms added p99 at 200 req/s (create path)',
      measured: `${fmt.ms(at200.addedP99)} ms`,
      met: at200.addedP99 <= 5,
    });
  }
  const idle = Object.entries(memory).filter(([k]) => k.includes('gateway idle'));
  if (idle.length > 0) {
    const worst = Math.max(...idle.map(([, v]) => v));
    out.push({
      target: 'RSS < 80 MB idle',
      measured: `${fmt.mb(worst)} MiB (largest idle figure)`,
      met: worst < 80e6,
    });
  }
  const loaded = Object.entries(memory).filter(([k]) => k.startsWith('gateway') && k.includes('(max)'));
  if (loaded.length > 0) {
    const worst = Math.max(...loaded.map(([, v]) => v));
    out.push({
      target: 'RSS < 150 MB loaded',
      measured: `${fmt.mb(worst)} MiB (largest under load)`,
      met: worst < 150e6,
    });
  }
  const thousand = routes['1000'];
  if (thousand) {
    out.push({
      target: '1,000 routes load < 1 s',
      measured: `${fmt.ms(thousand.loadColdMs)} ms cold, ${fmt.ms(thousand.loadWarmMs)} ms warm`,
      met: thousand.loadColdMs < 1000,
    });
  }
  return out;
}

function table(headers: readonly string[], rows: readonly (readonly string[])[], indent = '  '): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    indent + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), ...rows.map(line)].join('\n');
}

export function render(r: Results, s: Summary, tools: Tools): string {
  const m = r.machine;
  const st = r.settings;
  const out: string[] = [];
  out.push(
    `tekton-gateway benchmark (${st.quick ? 'QUICK mode: a smoke run, not figures to quote' : 'full mode'}) — ${m.date}`,
  );
  out.push(`machine:  ${m.cpuModel} (${m.cpuMHz} MHz), ${m.nproc} cores, ${m.memoryGiB} GiB, ${m.kernel}`);
  out.push(
    `node ${m.node}; ${Object.entries(m.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  out.push(`tools:    ${m.tools['wrk']}; ${m.tools['webhook']}; ${m.tools['taskset']}`);
  out.push(`pinning:  ${m.pinning}`);
  out.push(`gateway:  ${st.gatewayMain} (commit ${m.commit})`);
  out.push(
    `load avg: ${m.loadAverage.join(' ')} at start, ${r.loadAverageAtEnd.join(' ')} at end ` +
      '(other work on a shared machine moves absolute figures; the ratios come from interleaved runs)',
  );
  out.push(
    `settings: ${st.reps} repetition(s) per figure, medians; wrk -t1 -c${st.connections} -d${st.seconds}s after ${st.warmupSeconds} s warm-up`,
  );
  if (!tools.taskset) out.push('WARNING: taskset is missing, nothing is pinned');
  out.push('');
  out.push('payloads:');
  for (const p of r.payloads) out.push(`  ${p.name}: ${p.description}`);

  if (Object.keys(s.verify).length > 0) {
    out.push(
      '',
      '1. Verify + filter path (signature or token, JSON parse, filter on ref rejects → 200), closed model',
    );
    for (const [payload, v] of Object.entries(s.verify)) {
      out.push(`  ${payload}:`);
      out.push(
        table(
          ['server', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', '÷ floor', 'max RSS MiB'],
          SERVERS.map((name) => {
            const x = v.servers[name]!;
            return [
              name,
              fmt.int(x.rps),
              fmt.ms(x.p50),
              fmt.ms(x.p99),
              fmt.us(x.cpuUs),
              fmt.ratio(x.cpuUs / v.floorUs),
              fmt.mb(x.maxRssBytes),
            ];
          }),
          '    ',
        ),
      );
      out.push(
        `    gateway / adnanh/webhook req/s: ${fmt.ratio(v.gatewayOverWebhook)}   gateway / Node ceiling req/s: ${fmt.pct(v.gatewayOverCeiling)}   ` +
          `gateway CPU/req ÷ floor: ${fmt.ratio(v.gatewayCpuOverFloor)}`,
        `    experiment: the gateway reaches ${fmt.pct(v.gatewayOverPipeline)} of the req/s of its own pipeline on bare node:http ` +
          '(no Express, limits, metrics or log line)',
      );
    }
  }

  if (r.floor) {
    out.push(
      '',
      '2. Floor: CPU per request of the unavoidable work, in-process on the server core (verify + JSON.parse)',
    );
    out.push(
      table(
        ['payload', 'bytes', 'µs/request', 'per repetition'],
        Object.entries(r.floor).map(([name, f]) => [
          name,
          fmt.int(f.bytes),
          fmt.us(median([...f.usPerOp])),
          f.usPerOp.map((u) => u.toFixed(1)).join(' / '),
        ]),
      ),
    );
  }

  if (Object.keys(s.create).length > 0) {
    out.push(
      '',
      `3. Create path: open model (Poisson arrivals), one PipelineRun per webhook through the fake API over TLS, ` +
        `+${st.apiLatencyMs} ms per create; ${st.createSeconds} s per run after ${st.warmupSeconds} s warm-up`,
    );
    out.push(
      table(
        [
          'rate',
          'achieved',
          'p50 ms',
          'p99 ms',
          'added p50',
          'added p99',
          'API ms (mean)',
          'CPU µs/req',
          'late p99',
          'max RSS MiB',
        ],
        Object.entries(s.create).map(([rate, c]) => [
          `${rate}/s`,
          fmt.int(c.achievedRate),
          fmt.ms(c.p50),
          fmt.ms(c.p99),
          fmt.ms(c.addedP50),
          fmt.ms(c.addedP99),
          fmt.ms(c.kubeMeanMs),
          fmt.us(c.cpuUs),
          fmt.ms(c.latenessP99),
          fmt.mb(c.maxRssBytes),
        ]),
      ),
    );
    out.push(
      '  latency is from each request’s scheduled start; "added" = latency − the injected API latency; "API ms" is the',
      '  gateway client’s own kube_request_duration_seconds mean; "late" is the generator’s timer lateness (included in latency)',
    );
  }

  if (Object.keys(s.memory).length > 0) {
    out.push('', '4. Memory (RSS)');
    out.push(
      table(
        ['what', 'MiB'],
        Object.entries(s.memory).map(([k, v]) => [k, fmt.mb(v)]),
      ),
    );
  }

  if (Object.keys(s.sizes).length > 0 || Object.keys(s.routes).length > 0) out.push('', '5. Scaling');
  if (Object.keys(s.sizes).length > 0) {
    out.push('  by payload size (GitHub-shaped push, one connection, filter rejects):');
    out.push(
      table(
        [
          'payload',
          'bytes',
          'gateway µs/req',
          'ceiling µs/req',
          'floor µs',
          'gateway ÷ floor',
          'gateway ÷ ceiling',
          'gateway p50 ms',
        ],
        Object.entries(s.sizes).map(([name, x]) => [
          name,
          fmt.int(x.bytes),
          fmt.us(x.gatewayCpuUs),
          fmt.us(x.ceilingCpuUs),
          fmt.us(x.floorUs),
          fmt.ratio(x.gatewayCpuUs / x.floorUs),
          fmt.ratio(x.gatewayCpuUs / x.ceilingCpuUs),
          fmt.ms(x.gatewayP50),
        ]),
        '    ',
      ),
    );
  }
  if (Object.keys(s.routes).length > 0) {
    out.push('  by route count (3 triggers each; the request goes to the last route; 30 KB push):');
    out.push(
      table(
        [
          'routes',
          'triggers',
          'file KiB',
          'load ms (cold)',
          'load ms (warm)',
          'start-up ms',
          'idle RSS MiB',
          'req/s',
          'p99 ms',
          'CPU µs/req',
        ],
        Object.entries(s.routes).map(([n, x]) => [
          n,
          fmt.int(x.triggers),
          fmt.int(x.fileBytes / 1024),
          fmt.ms(x.loadColdMs),
          fmt.ms(x.loadWarmMs),
          fmt.int(x.startupMs),
          fmt.mb(x.idleRssBytes),
          fmt.int(x.rps),
          fmt.ms(x.p99),
          fmt.us(x.cpuUs),
        ]),
        '    ',
      ),
    );
  }

  if (s.targets.length > 0) {
    out.push('', 'Targets (tracked, not asserted)');
    out.push(
      table(
        ['target', 'measured', ''],
        s.targets.map((t) => [t.target, t.measured, t.met === undefined ? '' : t.met ? 'met' : 'MISSED']),
      ),
    );
  }
  out.push('', `total time: ${Math.round(r.seconds)} s`);
  return out.join('\n');
}
