// An open-model load generator: requests start on a fixed schedule (Poisson arrivals at `rate`), whether or
// not earlier ones have been answered, and each latency is measured from the request's *scheduled* start.
// A closed-model tool such as wrk waits for answers before sending more, so a slow server sends itself
// fewer requests and its queueing delay never shows ("coordinated omission"); webhooks arrive on the Git
// host's schedule, not ours.
//
// Usage (the bench starts it pinned to the load core): node open-model.js JSON with the Options below.
// Prints one JSON line (OpenModelResult).
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { distribution, seededRandom, type Distribution } from './stats.js';

export interface OpenModelOptions {
  readonly url: string;
  readonly bodyFile: string;
  readonly headers: Readonly<Record<string, string>>;
  /** Set to a fresh UUID on every request, so each delivery is new to the gateway's dedupe. */
  readonly deliveryHeader: string | undefined;
  readonly rate: number;
  /** Sent but not measured (JIT, connection pool). */
  readonly warmupSeconds: number;
  readonly seconds: number;
  readonly seed: number;
  readonly timeoutMs: number;
}

export interface OpenModelResult {
  readonly scheduled: number;
  /** Requests in the measured window. */
  readonly measured: number;
  readonly statuses: Readonly<Record<string, number>>;
  readonly errors: number;
  /** From the scheduled start to the end of the answer, ms (the figure to quote). */
  readonly latency: Distribution;
  /** From the actual send to the end of the answer, ms. */
  readonly service: Distribution;
  /** How late the generator itself sent, ms (timer granularity); included in `latency`. */
  readonly lateness: Distribution;
  readonly achievedRate: number;
  /** One answer body, to check what the server did. */
  readonly sample: string;
}

function main(options: OpenModelOptions): void {
  const body = readFileSync(options.bodyFile);
  const url = new URL(options.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const random = seededRandom(options.seed);
  const totalMs = (options.warmupSeconds + options.seconds) * 1000;
  const warmupMs = options.warmupSeconds * 1000;
  const schedule: number[] = [];
  for (let t = 0; ;) {
    t += (-Math.log(1 - random()) / options.rate) * 1000;
    if (t >= totalMs) break;
    schedule.push(t);
  }

  const latency: number[] = [];
  const service: number[] = [];
  const lateness: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let pending = schedule.length;
  let sample = '';
  let firstMeasured = Infinity;
  let lastMeasured = 0;
  const origin = performance.now() + 50;

  const finish = () => {
    const result: OpenModelResult = {
      scheduled: schedule.length,
      measured: latency.length,
      statuses,
      errors,
      latency: distribution(latency),
      service: distribution(service),
      lateness: distribution(lateness),
      achievedRate: latency.length / ((lastMeasured - firstMeasured) / 1000),
      sample,
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
    agent.destroy();
  };

  const fire = (scheduledAt: number) => {
    const sentAt = performance.now();
    const measured = scheduledAt >= warmupMs;
    const headers: Record<string, string | number> = { ...options.headers, 'Content-Length': body.length };
    if (options.deliveryHeader) headers[options.deliveryHeader] = randomUUID();
    const done = (status: string, text: string) => {
      const end = performance.now();
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (measured) {
        latency.push(end - (origin + scheduledAt));
        service.push(end - sentAt);
        lateness.push(sentAt - (origin + scheduledAt));
        firstMeasured = Math.min(firstMeasured, origin + scheduledAt);
        lastMeasured = Math.max(lastMeasured, origin + scheduledAt);
      }
      if (!sample && text) sample = text;
      if (--pending === 0) finish();
    };
    const req = http.request(
      { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => done(String(res.statusCode), Buffer.concat(chunks).toString()));
      },
    );
    req.setTimeout(options.timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      errors++;
      done('error', '');
    });
    req.end(body);
  };

  let next = 0;
  const pump = () => {
    const now = performance.now() - origin;
    while (next < schedule.length && schedule[next]! <= now) fire(schedule[next++]!);
    // No busy-wait: the load core also runs the fake API. Timer lateness is measured and reported instead.
    if (next < schedule.length) setTimeout(pump, Math.max(0, schedule[next]! - (performance.now() - origin)));
  };
  setTimeout(pump, 50);
}

main(JSON.parse(process.argv[2]!) as OpenModelOptions);
