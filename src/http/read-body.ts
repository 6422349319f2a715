// Reads a webhook's raw body within its three bounds (contract §3 item 2): gateway.maxBodyBytes for this
// body, the shared byte budget (gateway.maxBytesInFlight) for all bodies at once, and gateway.bodyTimeoutMs
// from the end of the headers. Each way it can end is a value; nothing here throws for what a client does.
import type { IncomingMessage } from 'node:http';
import { Deadlines } from '../deadlines.js';
import type { ByteBudget } from './byte-budget.js';

export type BodyRead =
  | { readonly kind: 'body'; readonly body: Buffer }
  /** Declared or received bytes past maxBodyBytes (413). */
  | { readonly kind: 'too-large' }
  /** The byte budget cannot hold the next bytes (503, Retry-After: 1). */
  | { readonly kind: 'over-budget' }
  /** The body did not arrive in full in time (408). */
  | { readonly kind: 'timeout' }
  /** The client went away first: no answer is possible. */
  | { readonly kind: 'aborted' };

export interface BodyLimits {
  /** The Content-Length header's value, if any. */
  readonly contentLength: string | undefined;
  readonly maxBytes: number;
  readonly budget: ByteBudget | undefined;
  /** Milliseconds left to receive the body. */
  readonly timeoutMs: number;
}

export interface PendingBody {
  readonly result: Promise<BodyRead>;
  /** Gives back every byte this body reserved; call once the request is answered. Idempotent. */
  release(): void;
}

const TOO_LARGE: BodyRead = { kind: 'too-large' };
const OVER_BUDGET: BodyRead = { kind: 'over-budget' };
const TIMEOUT: BodyRead = { kind: 'timeout' };
const ABORTED: BodyRead = { kind: 'aborted' };

/** Body timeouts are seconds long and rarely fire: they share one coarse interval (../deadlines.ts). */
const bodyDeadlines = new Deadlines();

export function readBody(req: IncomingMessage, limits: BodyLimits): PendingBody {
  let reserved = 0;
  const release = () => {
    limits.budget?.release(reserved);
    reserved = 0;
  };
  const reserve = (bytes: number) => {
    if (limits.budget && !limits.budget.reserve(bytes)) return false;
    if (limits.budget) reserved += bytes;
    return true;
  };
  const declared = limits.contentLength === undefined ? NaN : Number(limits.contentLength);
  const known = Number.isSafeInteger(declared) && declared >= 0;
  const done = (r: BodyRead) => ({ result: Promise.resolve(r), release });
  if (known && declared > limits.maxBytes) return done(TOO_LARGE);
  // The whole declared length before any byte is read: a body that could not be finished is not started.
  if (known && !reserve(declared)) return done(OVER_BUDGET);
  // The client may have gone while the request was being routed: its 'close' has passed already.
  if (req.destroyed) return done(ABORTED);
  const result = new Promise<BodyRead>((resolve) => {
    // With a declared length, one buffer of that size receives the chunks: no chunk list and no second copy
    // by Buffer.concat (part of the amplification measured in BENCHMARKS.md, "Hostile load").
    const whole = known ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (r: BodyRead) => {
      cleanup();
      if (r.kind !== 'body') req.pause();
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      if (size + chunk.length > limits.maxBytes) return finish(TOO_LARGE);
      if (whole) {
        // Node's parser never delivers more than the declared length.
        chunk.copy(whole, size);
      } else {
        if (!reserve(chunk.length)) return finish(OVER_BUDGET);
        chunks.push(chunk);
      }
      size += chunk.length;
    };
    const onEnd = () => {
      if (whole)
        return finish({ kind: 'body', body: size === whole.length ? whole : whole.subarray(0, size) });
      finish({ kind: 'body', body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size) });
    };
    const onAbort = () => finish(ABORTED);
    const cancelTimer = bodyDeadlines.after(limits.timeoutMs, () => finish(TIMEOUT));
    const cleanup = () => {
      cancelTimer();
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
  return { result, release };
}
