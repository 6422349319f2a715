// The floor (issue #8): CPU time of the work no webhook gateway can skip, measured in-process on the server
// core — verify the sender (HMAC-SHA256 of the raw body, or the token compare GitLab uses) and JSON.parse
// the bytes. The same operations as ceiling-server.ts, without HTTP.
//
// Usage (the bench starts it pinned): node floor.js JSON, JSON = {items: [{name, file, kind}], seconds, reps}
// Prints one JSON line: {name: {usPerOp: [rep…]}}.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GITHUB_SECRET, GITLAB_TOKEN } from './payloads.js';

interface Item {
  readonly name: string;
  readonly file: string;
  readonly kind: 'hmac' | 'token';
}

const { items, seconds, reps } = JSON.parse(process.argv[2]!) as {
  items: Item[];
  seconds: number;
  reps: number;
};
const key = Buffer.from(GITHUB_SECRET);
const token = Buffer.from(GITLAB_TOKEN);
const tokenHeader = GITLAB_TOKEN;

let sink = 0;

function once(body: Buffer, kind: Item['kind'], signature: Buffer): void {
  const ok =
    kind === 'hmac'
      ? timingSafeEqual(createHmac('sha256', key).update(body).digest(), signature)
      : timingSafeEqual(Buffer.from(tokenHeader, 'latin1'), token);
  const value = JSON.parse(body.toString('utf8')) as { ref?: string };
  sink += ok && value.ref !== undefined ? 1 : 0;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const results: Record<string, { usPerOp: number[]; bytes: number }> = {};
for (const item of items) {
  const original = readFileSync(item.file);
  // Fresh copies, as each request brings its own buffer (a few, and fewer of the large ones).
  const copies = Array.from({ length: Math.max(1, Math.min(8, Math.floor(2 ** 26 / original.length))) }, () =>
    Buffer.from(original),
  );
  // Check the clock once per batch: reading it costs more than a 2 KB parse.
  const batch = original.length > 2 ** 20 ? 1 : 8;
  const signature = createHmac('sha256', key).update(original).digest();
  // Warm up the JIT and the allocator for a fifth of the time.
  const warmEnd = performance.now() + (seconds * 1000) / 5;
  for (let i = 0; performance.now() < warmEnd; i++) once(copies[i % copies.length]!, item.kind, signature);
  const usPerOp: number[] = [];
  for (let rep = 0; rep < reps; rep++) {
    const begin = cpuUs();
    const end = performance.now() + seconds * 1000;
    let ops = 0;
    while (performance.now() < end) {
      for (let j = 0; j < batch; j++) once(copies[(ops + j) % copies.length]!, item.kind, signature);
      ops += batch;
    }
    usPerOp.push((cpuUs() - begin) / ops);
  }
  results[item.name] = { usPerOp, bytes: original.length };
}
process.stdout.write(`${JSON.stringify({ results, sink })}\n`);
