// Turns the raw runs into the figures of issue #8 (medians over repetitions; ratios as medians of
// per-repetition ratios, since the three servers of one repetition ran under the same conditions) and
// prints them as one report. The same summary goes into the JSON file next to the raw runs.
import type { CreateResults } from './create.js';
import type { MachineInfo } from './env.js';
import type { Settings } from './context.js';
import type { RouteCountRun, SizeResults } from './scaling.js';
import { fmt, median } from './stats.js';
import type { VerifyResults } from './verify.js';
import { BASELINE, type ServerName } from './verify.js';
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
  /**
   * Issue #15: CPU per create (µs, one per round) of the gateway's client, a bare node:https request and the
   * baseline (bench/create-cpu.ts).
   */
  readonly createCpu?: Readonly<Record<string, readonly number[]>>;
  /** Issue #15: background completion through an API outage (bench/outage.ts). */
  readonly outage?: Readonly<Record<string, number>>;
}

interface Target {
  readonly target: string;
  readonly measured: string;
  /** `met`, `MISSED`, or `MISSED for <what>` when only some of the measured cases miss. */
  readonly status: string;
}

function status(cases: readonly (readonly [name: string, met: boolean])[]): string {
  const missed = cases.filter(([, met]) => !met).map(([name]) => name);
  if (missed.length === 0) return 'met';
  return missed.length === cases.length ? 'MISSED' : `MISSED for ${missed.join(', ')}`;
}

/** The memory figures, by the names the report prints. */
const MEM = {
  idleDry: 'gateway idle, dry run (section 1 routes, before any request)',
  verifyLoad: 'gateway under verify + filter load (max)',
  idleAfterLoad: 'gateway idle again after that load',
  idleCreate: 'gateway idle, creating (after one create)',
  createLoad: 'gateway under create load, up to 500 req/s (max)',
  idle1000: 'gateway idle with 1,000 routes × 3 triggers loaded',
  load1000: 'gateway with 1,000 routes under verify + filter load (max)',
  webhookIdle: 'adnanh/webhook idle',
  webhookLoad: 'adnanh/webhook under the same load (max)',
  ceilingIdle: 'node:http ceiling idle',
} as const;

export interface Summary {
  readonly verify: Record<
    string,
    {
      servers: Record<string, { rps: number; p50: number; p99: number; cpuUs: number; maxRssBytes: number }>;
      gatewayOverWebhook: number;
      gatewayOverCeiling: number;
      /** The experiment: the gateway's req/s as a share of its own pipeline on bare node:http. */
      gatewayOverPipeline: number;
      /** With --baseline: this build's req/s and CPU per request over the baseline build's. */
      overBaseline: { rps: number; cpuUs: number } | undefined;
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
      /** The same from the moment the generator sent (without its own timer lateness). */
      addedP99FromSend: number;
      kubeMeanMs: number;
      cpuUs: number;
      latenessP99: number;
      maxRssBytes: number;
      /** Summed over repetitions: answers that were not 201 (503 at the in-flight limit). */
      notCreated: number;
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
      baselineLoadColdMs: number;
      baselineLoadWarmMs: number;
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
    for (const name of Object.keys(byServer) as ServerName[]) {
      const runs = byServer[name];
      servers[name] = {
        rps: med(runs, 'rps'),
        p50: med(runs, 'p50'),
        p99: med(runs, 'p99'),
        cpuUs: med(runs, 'cpuUsPerRequest'),
        maxRssBytes: Math.max(...runs.map((x) => x.maxRssBytes)),
      };
    }
    const perRep = (other: ServerName) =>
      median(byServer['tekton-gateway'].map((g, i) => g.rps / byServer[other][i]!.rps));
    const baseline = byServer[BASELINE];
    const floor = floorUs(payload);
    verify[payload] = {
      servers,
      gatewayOverWebhook: perRep('adnanh/webhook'),
      gatewayOverCeiling: perRep('node:http ceiling'),
      gatewayOverPipeline: perRep('pipeline on node:http'),
      overBaseline: baseline
        ? {
            rps: perRep(BASELINE),
            cpuUs: median(
              byServer['tekton-gateway'].map((g, i) => g.cpuUsPerRequest / baseline[i]!.cpuUsPerRequest),
            ),
          }
        : undefined,
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
      addedP99FromSend: m((x) => x.result.service.p99 - r.settings.apiLatencyMs),
      kubeMeanMs: m((x) => x.kubeMeanMs),
      cpuUs: m((x) => x.cpuUsPerRequest),
      latenessP99: m((x) => x.result.lateness.p99),
      maxRssBytes: Math.max(...runs.map((x) => x.maxRssBytes)),
      notCreated: runs.reduce((n, x) => n + (x.notCreated ?? 0), 0),
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
      baselineLoadColdMs: median((entry.baselineLoad ?? []).map((l) => l.coldMs)),
      baselineLoadWarmMs: median((entry.baselineLoad ?? []).map((l) => l.warmMs)),
      startupMs: entry.startupMs,
      idleRssBytes: entry.idleRssBytes,
      rps: med(entry.runs, 'rps'),
      p99: med(entry.runs, 'p99'),
      cpuUs: med(entry.runs, 'cpuUsPerRequest'),
      maxRssBytes: Math.max(...entry.runs.map((x) => x.maxRssBytes)),
    };
  }

  const memory: Record<string, number> = {};
  const verifyMax = (server: ServerName) =>
    Math.max(...Object.values(verify).map((v) => v.servers[server]?.maxRssBytes ?? Number.NaN));
  if (r.verify) {
    memory[MEM.idleDry] = r.verify.gatewayIdleRssBytes;
    memory[MEM.verifyLoad] = verifyMax('tekton-gateway');
    memory[MEM.idleAfterLoad] = r.verify.gatewayIdleAfterLoadRssBytes;
  }
  if (r.create) {
    memory[MEM.idleCreate] = r.create.gatewayIdleRssBytes;
    memory[MEM.createLoad] = Math.max(...Object.values(create).map((c) => c.maxRssBytes));
  }
  const thousand = routes['1000'];
  if (thousand) {
    memory[MEM.idle1000] = thousand.idleRssBytes;
    memory[MEM.load1000] = thousand.maxRssBytes;
  }
  const biggest = Object.values(r.sizes?.runs ?? {}).at(-1);
  if (biggest) {
    memory[`gateway, ${fmt.bytes(biggest.bytes)} payloads one at a time (max)`] = Math.max(
      ...biggest.gateway.map((x) => x.maxRssBytes),
    );
  }
  if (r.verify) {
    memory[MEM.webhookIdle] = r.verify.webhookIdleRssBytes;
    memory[MEM.webhookLoad] = verifyMax('adnanh/webhook');
    memory[MEM.ceilingIdle] = r.verify.ceilingIdleRssBytes;
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
  const per = (f: (v: Summary['verify'][string]) => string) =>
    entries.map(([n, v]) => `${n} ${f(v)}`).join(', ');
  const each = (f: (v: Summary['verify'][string]) => boolean) =>
    status(entries.map(([n, v]) => [n, f(v)] as const));
  if (entries.length > 0) {
    out.push(
      {
        target: '≥ 3× adnanh/webhook req/s',
        measured: per((v) => fmt.ratio(v.gatewayOverWebhook)),
        status: each((v) => v.gatewayOverWebhook >= 3),
      },
      {
        target: '≥ 1.5× adnanh/webhook req/s (the minimum to call it done)',
        measured: per((v) => fmt.ratio(v.gatewayOverWebhook)),
        status: each((v) => v.gatewayOverWebhook >= 1.5),
      },
      {
        target: '≥ 75 % of the Node ceiling req/s',
        measured: per((v) => fmt.pct(v.gatewayOverCeiling)),
        status: each((v) => v.gatewayOverCeiling >= 0.75),
      },
    );
    if (entries.every(([, v]) => Number.isFinite(v.floorUs))) {
      out.push({
        target: '≤ 2× the floor, CPU per request',
        measured: per((v) => fmt.ratio(v.gatewayCpuOverFloor)),
        status: each((v) => v.gatewayCpuOverFloor <= 2),
      });
    }
  }
  const at200 = create['200'];
  if (at200) {
    out.push({
      target: '≤ 5 ms added p99 at 200 req/s (create path)',
      measured: `${fmt.ms(at200.addedP99)} ms (${fmt.ms(at200.addedP99FromSend)} ms counted from the actual send)`,
      status: status([['200 req/s', at200.addedP99 <= 5]]),
    });
  }
  const mb = (keys: readonly string[], limit: number, target: string) => {
    const found = keys.filter((k) => memory[k] !== undefined);
    if (found.length === 0) return;
    out.push({
      target,
      measured: found.map((k) => `${fmt.mb(memory[k]!)} MiB`).join(', '),
      status: status(found.map((k) => [k.replace(/^gateway /, ''), memory[k]! < limit] as const)),
    });
  };
  mb([MEM.idleDry, MEM.idleCreate], 80e6, 'RSS < 80 MB idle (dry run, creating)');
  mb([MEM.verifyLoad, MEM.createLoad], 150e6, 'RSS < 150 MB under load (verify + filter, create)');
  mb([MEM.idle1000], 150e6, 'RSS < 150 MB with 1,000 routes × 3 triggers loaded');
  const thousand = routes['1000'];
  if (thousand) {
    out.push({
      target: '1,000 routes × 3 triggers load + compile < 1 s',
      measured: `${fmt.ms(thousand.loadColdMs)} ms cold, ${fmt.ms(thousand.loadWarmMs)} ms warm`,
      status: status([['cold load', thousand.loadColdMs < 1000]]),
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

export function render(r: Results, s: Summary): string {
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
  if (r.machine.tools['taskset'] === 'not installed')
    out.push('WARNING: taskset is missing, nothing is pinned');
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
          (Object.keys(v.servers) as ServerName[]).map((name) => {
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
      if (v.overBaseline) {
        out.push(
          `    this build ÷ baseline build (interleaved): req/s ${fmt.ratio(v.overBaseline.rps)}, CPU/req ${fmt.ratio(v.overBaseline.cpuUs)}`,
        );
      }
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
          'added p99 (sent)',
          'API ms (mean)',
          'CPU µs/req',
          'late p99',
          'max RSS MiB',
          'not 201',
        ],
        Object.entries(s.create).map(([rate, c]) => [
          `${rate}/s`,
          fmt.int(c.achievedRate),
          fmt.ms(c.p50),
          fmt.ms(c.p99),
          fmt.ms(c.addedP50),
          fmt.ms(c.addedP99),
          fmt.ms(c.addedP99FromSend),
          fmt.ms(c.kubeMeanMs),
          fmt.us(c.cpuUs),
          fmt.ms(c.latenessP99),
          fmt.mb(c.maxRssBytes),
          fmt.int(c.notCreated),
        ]),
      ),
    );
    out.push(
      '  latency is from each request’s scheduled start; "added" = latency − the injected API latency ("sent": counted from',
      '  the actual send instead, without the generator’s own lateness); "API ms" is the gateway client’s own',
      '  kube_request_duration_seconds mean; "late" is the generator’s timer lateness (included in latency); "not 201":',
      '  answers of all repetitions that created nothing (503 when the gateway’s in-flight limit is reached)',
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
    const baseline = Object.entries(s.routes).filter(([, x]) => Number.isFinite(x.baselineLoadColdMs));
    for (const [n, x] of baseline) {
      out.push(
        `    baseline build, ${n} routes: load ${fmt.ms(x.baselineLoadColdMs)} ms cold, ${fmt.ms(x.baselineLoadWarmMs)} ms warm ` +
          `(this build ${fmt.ratio(x.loadColdMs / x.baselineLoadColdMs)} / ${fmt.ratio(x.loadWarmMs / x.baselineLoadWarmMs)})`,
      );
    }
  }

  if (s.targets.length > 0) {
    out.push('', 'Targets (tracked, not asserted)');
    out.push(
      table(
        ['target', 'measured', ''],
        s.targets.map((t) => [t.target, t.measured, t.status]),
      ),
    );
  }
  if (r.createCpu) {
    const c = r.createCpu;
    const med = (k: string) => (c[k] && c[k].length > 0 ? median(c[k]) : Number.NaN);
    out.push('');
    out.push(
      "7. CPU per create: the gateway's Kubernetes client against a bare node:https request of the same object",
    );
    out.push(
      '   (fresh processes, 300 warm-up creates, then 1,500 timed; rounds interleaved; bench/create-cpu.ts)',
    );
    for (const [kind, values] of Object.entries(c)) {
      const unit = kind.endsWith('instructions') ? 'instructions' : 'µs';
      out.push(
        `  ${kind.padEnd(24)} median ${fmt.int(med(kind)).padStart(10)} ${unit}   rounds: ${values.map((v) => fmt.int(v)).join(' / ')}`,
      );
    }
    out.push(
      `  gateway ÷ bare: CPU ${(med('gateway') / med('bare')).toFixed(2)}×` +
        (c['gateway instructions']
          ? `, instructions ${(med('gateway instructions') / med('bare instructions')).toFixed(2)}×`
          : '') +
        (c['baseline'] ? `; baseline ÷ bare: CPU ${(med('baseline') / med('bare')).toFixed(2)}×` : '') +
        (c['baseline instructions']
          ? `, instructions ${(med('baseline instructions') / med('bare instructions')).toFixed(2)}×`
          : ''),
    );
  }
  if (r.outage) {
    out.push(
      '',
      '6. Outage: keyed deliveries while the API refuses every create, then recovers (bench/outage.ts)',
    );
    for (const [name, value] of Object.entries(r.outage)) out.push(`  ${name.padEnd(34)} ${value}`);
  }
  out.push('', `total time: ${Math.round(r.seconds)} s`);
  return out.join('\n');
}
