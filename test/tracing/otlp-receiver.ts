// An OTLP/HTTP trace receiver on loopback, standing in for an OpenTelemetry Collector: it accepts
// POST /v1/traces in both encodings the gateway may use (contract §15) and decodes every span into one
// plain shape. http/json is parsed as JSON; http/protobuf is decoded by the small wire-format reader below,
// written from opentelemetry-proto's trace.proto / common.proto / resource.proto (field numbers cited
// there), so the test needs no protobuf package.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type AttributeValue = string | number | boolean;

export interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  /** '' for a root span. */
  readonly parentSpanId: string;
  readonly name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client. */
  readonly kind: number;
  readonly attributes: Readonly<Record<string, AttributeValue>>;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  /** 0 unset, 1 ok, 2 error. */
  readonly status: { readonly code: number; readonly message: string };
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly resource: Readonly<Record<string, AttributeValue>>;
  readonly scope: string;
}

export interface ReceivedExport {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly spans: readonly ReceivedSpan[];
}

export interface OtlpReceiver {
  /** The base endpoint, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  readonly url: string;
  readonly exports: readonly ReceivedExport[];
  spans(): ReceivedSpan[];
  /** Resolves once `match` accepts the spans received so far. */
  waitFor(match: (spans: readonly ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const exports: ReceivedExport[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const type = req.headers['content-type'] ?? '';
      let spans: ReceivedSpan[];
      try {
        spans = type.startsWith('application/x-protobuf')
          ? fromProtobuf(body)
          : type.startsWith('application/json')
            ? fromJson(JSON.parse(body.toString('utf8')))
            : [];
      } catch (error) {
        res.writeHead(400).end(String(error));
        return;
      }
      exports.push({ path: req.url ?? '', headers: req.headers, spans });
      res.writeHead(200, { 'content-type': type || 'application/json' });
      // An empty ExportTraceServiceResponse in either encoding.
      res.end(type.startsWith('application/x-protobuf') ? Buffer.alloc(0) : '{}');
      for (const w of waiters) w();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const all = () => exports.flatMap((e) => e.spans);
  return {
    url: `http://127.0.0.1:${port}`,
    exports,
    spans: all,
    waitFor: (match, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!match(all())) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(all());
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `spans not received within ${timeoutMs} ms; got ${all()
                .map((s) => s.name)
                .join(', ')}`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---------------------------------------------------------------------------------------------------
// http/json (ids as hex strings, as the OTLP/JSON mapping specifies)

type Json = Record<string, any>;

function fromJson(request: Json): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of (request.resourceSpans ?? []) as Json[]) {
    const resource = jsonAttributes(rs.resource?.attributes);
    for (const ss of (rs.scopeSpans ?? []) as Json[]) {
      for (const s of (ss.spans ?? []) as Json[]) {
        out.push({
          traceId: s.traceId ?? '',
          spanId: s.spanId ?? '',
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind ?? 0,
          attributes: jsonAttributes(s.attributes),
          links: ((s.links ?? []) as Json[]).map((l) => ({ traceId: l.traceId, spanId: l.spanId })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          startNs: BigInt(s.startTimeUnixNano),
          endNs: BigInt(s.endTimeUnixNano),
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

function jsonAttributes(list: Json[] | undefined): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list ?? []) {
    const v = kv.value ?? {};
    if ('stringValue' in v) out[kv.key] = v.stringValue;
    else if ('boolValue' in v) out[kv.key] = v.boolValue;
    else if ('intValue' in v) out[kv.key] = Number(v.intValue);
    else if ('doubleValue' in v) out[kv.key] = Number(v.doubleValue);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// http/protobuf: the wire format (varint = 0, fixed64 = 1, length-delimited = 2, fixed32 = 5)

interface Field {
  readonly number: number;
  readonly varint?: bigint;
  readonly bytes?: Buffer;
  readonly fixed?: bigint;
}

function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let at = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (at >= buffer.length) throw new Error('truncated varint');
      const byte = buffer[at++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (at < buffer.length) {
    const key = Number(varint());
    const number = key >>> 3;
    switch (key & 7) {
      case 0:
        out.push({ number, varint: varint() });
        break;
      case 1:
        out.push({ number, fixed: buffer.readBigUInt64LE(at) });
        at += 8;
        break;
      case 2: {
        const length = Number(varint());
        out.push({ number, bytes: buffer.subarray(at, at + length) });
        at += length;
        break;
      }
      case 5:
        out.push({ number, fixed: BigInt(buffer.readUInt32LE(at)) });
        at += 4;
        break;
      default:
        throw new Error(`unsupported wire type ${key & 7}`);
    }
  }
  return out;
}

const each = (list: Field[], n: number) => list.filter((f) => f.number === n);
const one = (list: Field[], n: number) => list.find((f) => f.number === n);
const text = (f: Field | undefined) => f?.bytes?.toString('utf8') ?? '';
const hex = (f: Field | undefined) => f?.bytes?.toString('hex') ?? '';

function fromProtobuf(body: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  // ExportTraceServiceRequest: 1 resource_spans
  for (const rs of each(fields(body), 1)) {
    const rsFields = fields(rs.bytes!);
    // ResourceSpans: 1 resource (Resource: 1 attributes), 2 scope_spans
    const resourceField = one(rsFields, 1);
    const resource = protoAttributes(resourceField ? each(fields(resourceField.bytes!), 1) : []);
    for (const ss of each(rsFields, 2)) {
      const ssFields = fields(ss.bytes!);
      // ScopeSpans: 1 scope (InstrumentationScope: 1 name), 2 spans
      const scopeField = one(ssFields, 1);
      const scope = scopeField ? text(one(fields(scopeField.bytes!), 1)) : '';
      for (const s of each(ssFields, 2)) {
        // Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind, 7 start, 8 end, 9 attributes,
        // 13 links, 15 status
        const f = fields(s.bytes!);
        const statusField = one(f, 15);
        const status = statusField ? fields(statusField.bytes!) : [];
        out.push({
          traceId: hex(one(f, 1)),
          spanId: hex(one(f, 2)),
          parentSpanId: hex(one(f, 4)),
          name: text(one(f, 5)),
          kind: Number(one(f, 6)?.varint ?? 0n),
          attributes: protoAttributes(each(f, 9)),
          // Link: 1 trace_id, 2 span_id
          links: each(f, 13).map((l) => {
            const lf = fields(l.bytes!);
            return { traceId: hex(one(lf, 1)), spanId: hex(one(lf, 2)) };
          }),
          // Status: 2 message, 3 code
          status: { code: Number(one(status, 3)?.varint ?? 0n), message: text(one(status, 2)) },
          startNs: one(f, 7)?.fixed ?? 0n,
          endNs: one(f, 8)?.fixed ?? 0n,
          resource,
          scope,
        });
      }
    }
  }
  return out;
}

/** KeyValue: 1 key, 2 value (AnyValue: 1 string, 2 bool, 3 int, 4 double). */
function protoAttributes(list: Field[]): Record<string, AttributeValue> {
  const out: Record<string, AttributeValue> = {};
  for (const kv of list) {
    const f = fields(kv.bytes!);
    const key = text(one(f, 1));
    const valueField = one(f, 2);
    if (!valueField) continue;
    const v = fields(valueField.bytes!);
    const s = one(v, 1);
    const b = one(v, 2);
    const i = one(v, 3);
    const d = one(v, 4);
    if (s) out[key] = text(s);
    else if (b) out[key] = b.varint === 1n;
    else if (i) out[key] = Number(BigInt.asIntN(64, i.varint!));
    else if (d) {
      const buffer = Buffer.alloc(8);
      buffer.writeBigUInt64LE(d.fixed!);
      out[key] = buffer.readDoubleLE(0);
    }
  }
  return out;
}
