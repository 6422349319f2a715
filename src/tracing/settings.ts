// Whether to trace, and how, from the standard OpenTelemetry variables (contract §15, §12.0 item 16). Read
// once at start-up. This file imports no OpenTelemetry package: with tracing off, `serve` never loads the SDK
// (./otel.ts is imported only when `tracingSettings` says "on").
//
// We use the SDK directly (no sdk-node auto-configuration; the 3.x packages, which need Node 22, read none
// of these either), and the exporter reads
// `process.env` where in-process tests hand `serve` their own environment, so every variable we honour is
// read here and passed to the SDK explicitly. Variables: https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export type SamplerSetting =
  | { readonly kind: 'always_on' | 'always_off' | 'parentbased_always_on' | 'parentbased_always_off' }
  | { readonly kind: 'traceidratio' | 'parentbased_traceidratio'; readonly ratio: number };

export interface TracingOn {
  readonly enabled: true;
  readonly protocol: OtlpProtocol;
  /** Where spans are POSTed: the traces endpoint as given, or `<OTEL_EXPORTER_OTLP_ENDPOINT>/v1/traces`. */
  readonly url: string;
  /** OTEL_EXPORTER_OTLP_HEADERS, then OTEL_EXPORTER_OTLP_TRACES_HEADERS (often credentials: never logged). */
  readonly headers: Readonly<Record<string, string>>;
  readonly serviceName: string;
  /** OTEL_RESOURCE_ATTRIBUTES, without service.name (that is `serviceName`). */
  readonly resourceAttributes: Readonly<Record<string, string>>;
  readonly sampler: SamplerSetting;
  /** The batch span processor's knobs (OTEL_BSP_*), in its own option names. */
  readonly batch: {
    readonly scheduledDelayMillis: number;
    readonly exportTimeoutMillis: number;
    readonly maxQueueSize: number;
    readonly maxExportBatchSize: number;
  };
}

export type TracingSettings = TracingOn | { readonly enabled: false; readonly reason: string };

export type TracingSettingsResult =
  | { readonly ok: true; readonly settings: TracingSettings }
  | { readonly ok: false; readonly message: string };

export const DEFAULT_SERVICE_NAME = 'tekton-gateway';

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** Values longer than this are refused: an environment is config, but one typo should not become a 1 MB header. */
const MAX_VALUE_LENGTH = 8192;

class SettingError extends Error {}

export function tracingSettings(env: NodeJS.ProcessEnv): TracingSettingsResult {
  try {
    return { ok: true, settings: read(env) };
  } catch (error) {
    if (error instanceof SettingError) return { ok: false, message: `tracing: ${error.message}` };
    throw error;
  }
}

function read(env: NodeJS.ProcessEnv): TracingSettings {
  const get = (name: string): string | undefined => {
    const value = env[name]?.trim();
    if (value === undefined || value === '') return undefined;
    if (value.length > MAX_VALUE_LENGTH)
      throw new SettingError(`${name} is longer than ${MAX_VALUE_LENGTH} characters`);
    return value;
  };
  if (get('OTEL_SDK_DISABLED')?.toLowerCase() === 'true') {
    return { enabled: false, reason: 'OTEL_SDK_DISABLED=true' };
  }
  const exporters = (get('OTEL_TRACES_EXPORTER') ?? 'otlp').split(',').map((e) => e.trim().toLowerCase());
  if (exporters.includes('none')) return { enabled: false, reason: 'OTEL_TRACES_EXPORTER=none' };
  const tracesEndpoint = get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT');
  const endpoint = get('OTEL_EXPORTER_OTLP_ENDPOINT');
  if (tracesEndpoint === undefined && endpoint === undefined) {
    return {
      enabled: false,
      reason: 'neither OTEL_EXPORTER_OTLP_ENDPOINT nor OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set',
    };
  }
  const other = exporters.find((e) => e !== 'otlp');
  if (other !== undefined) {
    throw new SettingError(
      `OTEL_TRACES_EXPORTER=${quoted(other)} is not supported: tekton-gateway exports traces over OTLP (otlp) or not at all (none)`,
    );
  }

  const protocolVariable = get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL')
    ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'
    : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = get(protocolVariable) ?? 'http/protobuf';
  if (protocol !== 'http/protobuf' && protocol !== 'http/json') {
    throw new SettingError(
      `${protocolVariable}=${quoted(protocol)} is not supported: set http/protobuf (the default) or http/json` +
        (protocol === 'grpc' ? ' (OpenTelemetry Collectors accept both on port 4318)' : ''),
    );
  }

  const url =
    tracesEndpoint !== undefined
      ? checkUrl('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', tracesEndpoint)
      : checkUrl('OTEL_EXPORTER_OTLP_ENDPOINT', `${endpoint!.replace(/\/+$/, '')}/v1/traces`);

  const headers = {
    ...keyValues('OTEL_EXPORTER_OTLP_HEADERS', get('OTEL_EXPORTER_OTLP_HEADERS')),
    ...keyValues('OTEL_EXPORTER_OTLP_TRACES_HEADERS', get('OTEL_EXPORTER_OTLP_TRACES_HEADERS')),
  };
  const { 'service.name': fromAttributes, ...resourceAttributes } = keyValues(
    'OTEL_RESOURCE_ATTRIBUTES',
    get('OTEL_RESOURCE_ATTRIBUTES'),
  );
  const serviceName = get('OTEL_SERVICE_NAME') ?? fromAttributes ?? DEFAULT_SERVICE_NAME;

  const batch = {
    scheduledDelayMillis: count(get, 'OTEL_BSP_SCHEDULE_DELAY', 5000),
    exportTimeoutMillis: count(get, 'OTEL_BSP_EXPORT_TIMEOUT', 30_000),
    maxQueueSize: count(get, 'OTEL_BSP_MAX_QUEUE_SIZE', 2048, 1),
    maxExportBatchSize: count(get, 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512, 1),
  };
  if (batch.maxExportBatchSize > batch.maxQueueSize) {
    throw new SettingError(
      `OTEL_BSP_MAX_EXPORT_BATCH_SIZE (${batch.maxExportBatchSize}) must not exceed OTEL_BSP_MAX_QUEUE_SIZE (${batch.maxQueueSize})`,
    );
  }

  return {
    enabled: true,
    protocol,
    url,
    headers,
    serviceName,
    resourceAttributes,
    sampler: sampler(get),
    batch,
  };
}

function sampler(get: (name: string) => string | undefined): SamplerSetting {
  const name = (get('OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on').toLowerCase();
  const known = SAMPLERS.find((s) => s === name);
  if (known === undefined) {
    throw new SettingError(
      `OTEL_TRACES_SAMPLER=${quoted(name)} is not supported: set one of ${SAMPLERS.join(', ')}`,
    );
  }
  if (known !== 'traceidratio' && known !== 'parentbased_traceidratio') return { kind: known };
  const arg = get('OTEL_TRACES_SAMPLER_ARG');
  const ratio = arg === undefined ? 1 : Number(arg);
  if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
    throw new SettingError(`OTEL_TRACES_SAMPLER_ARG=${quoted(arg ?? '')} must be a number from 0 to 1`);
  }
  return { kind: known, ratio };
}

function checkUrl(name: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // Not echoed: an endpoint may carry credentials in its user-info.
    throw new SettingError(`${name} is not a valid URL (write http://HOST:4318 or https://HOST…)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingError(
      `${name} must be an http:// or https:// URL (OTLP over HTTP), not ${url.protocol}`,
    );
  }
  return url.href;
}

/**
 * `key1=value1,key2=value2`, values percent-decoded (the W3C Baggage form the specification uses). Values
 * are never echoed in errors: these variables carry API keys.
 */
function keyValues(name: string, value: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (value === undefined) return out;
  value.split(',').forEach((pair, i) => {
    if (pair.trim() === '') return;
    const eq = pair.indexOf('=');
    const key = eq < 0 ? '' : pair.slice(0, eq).trim();
    if (key === '') throw new SettingError(`${name}: entry ${i + 1} is not key=value`);
    try {
      out[decodeURIComponent(key)] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new SettingError(`${name}: entry ${i + 1} (${quoted(key)}) has a broken percent-encoding`);
    }
  });
  return out;
}

function count(get: (name: string) => string | undefined, name: string, fallback: number, min = 0): number {
  const value = get(name);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min) {
    throw new SettingError(`${name}=${quoted(value)} must be a whole number of at least ${min}`);
  }
  return n;
}

/** A short, printable rendering of a value for an error message. */
function quoted(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}
