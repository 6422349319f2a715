// src/tracing/otel.ts in-process, for what a spawned serve cannot easily show: spans linked to a delivery's
// trace from outside any webhook (background retries, status reports), a delivery whose client left, and
// export failures reported through the hook, rate-limited.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Route } from '../../src/model.js';
import { startTracing, type Tracing } from '../../src/tracing/otel.js';
import { tracingSettings, type TracingOn } from '../../src/tracing/settings.js';
import { startOtlpReceiver, type OtlpReceiver } from './otlp-receiver.js';

function settings(endpoint: string): TracingOn {
  const result = tracingSettings({
    OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_BSP_SCHEDULE_DELAY: '20',
  });
  if (!result.ok || !result.settings.enabled) throw new Error('tracing should be on');
  return result.settings;
}

const route = { path: '/hook', provider: 'github', triggers: [] } as unknown as Route;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('startTracing', () => {
  let receiver: OtlpReceiver;
  let tracing: Tracing;
  const errors: string[] = [];

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    tracing = await startTracing(settings(receiver.url), { onError: (m) => errors.push(m) });
  });
  afterAll(async () => {
    await tracing?.shutdown(1000);
    await receiver?.close();
  });

  it('a linked span starts its own trace and links the delivery’s; its traceparent is its own', async () => {
    const span = tracing.linked('status report', `00-${TRACE}-${SPAN}-01`, {
      'tekton_gateway.route': '/hook',
    });
    expect(span.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(span.traceparent).not.toContain(TRACE);
    span.end('host answered 503');
    const [got] = (await receiver.waitFor((all) => all.some((s) => s.name === 'status report'))).filter(
      (s) => s.name === 'status report',
    );
    expect(got).toMatchObject({
      parentSpanId: '',
      links: [{ traceId: TRACE, spanId: SPAN }],
      attributes: { 'tekton_gateway.route': '/hook' },
      status: { code: 2, message: 'host answered 503' },
    });
    expect(`00-${got!.traceId}-${got!.spanId}-01`).toBe(span.traceparent);
  });

  it('a linked span without a valid delivery context has no link', async () => {
    tracing.linked('retry', '00-00000000000000000000000000000000-0000000000000000-01').end();
    const [got] = (await receiver.waitFor((all) => all.some((s) => s.name === 'retry'))).filter(
      (s) => s.name === 'retry',
    );
    expect(got!.links).toEqual([]);
    expect(got!.status.code).toBe(0);
  });

  it('cuts a sender-chosen value (the delivery id) to 256 characters', async () => {
    const delivery = tracing.delivery(route, {}, Date.now());
    const eventId = `long-${'x'.repeat(1000)}`;
    delivery.end({ kind: 'rejected', route, eventId, rejection: { kind: 'body', message: 'not JSON' } }, 400);
    const [got] = (
      await receiver.waitFor((all) => all.some((s) => s.attributes['tekton_gateway.outcome'] === 'body'))
    ).filter((s) => s.attributes['tekton_gateway.outcome'] === 'body');
    expect(got!.attributes['tekton_gateway.event_id']).toBe(eventId.slice(0, 256));
    expect(got!.attributes['http.response.status_code']).toBe(400);
    expect(got!.status.code).toBe(0);
  });

  it('a delivery whose client left ends as aborted, an error, with no status code', async () => {
    const delivery = tracing.delivery(route, {}, Date.now());
    delivery.end('aborted', undefined);
    const [got] = (
      await receiver.waitFor((all) => all.some((s) => s.attributes['tekton_gateway.outcome'] === 'aborted'))
    ).filter((s) => s.attributes['tekton_gateway.outcome'] === 'aborted');
    expect(got!.attributes['http.response.status_code']).toBeUndefined();
    expect(got!.status).toEqual({ code: 2, message: 'aborted' });
  });
});

describe('export failures', () => {
  it('reach the hook without header values, at most once a minute', async () => {
    let posts = 0;
    const refusing = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        posts++;
        res.writeHead(400).end();
      });
    });
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    const errors: string[] = [];
    const tracing = await startTracing(
      { ...settings(url), headers: { authorization: 'Bearer collector-secret' } },
      { onError: (m) => errors.push(m) },
    );
    try {
      for (let i = 0; i < 3; i++) {
        tracing.linked(`span ${i}`, undefined).end();
        const before = posts;
        await new Promise<void>((resolve) => {
          const poll = setInterval(() => {
            if (posts > before) {
              clearInterval(poll);
              resolve();
            }
          }, 10);
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(posts).toBeGreaterThanOrEqual(3);
      expect(errors).toHaveLength(1);
      expect(errors[0]).not.toContain('collector-secret');
    } finally {
      await tracing.shutdown(500);
      refusing.close();
    }
  });
});
