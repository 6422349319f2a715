// The OTEL_* variables → tracing on or off, and start-up errors for what cannot work (contract §15, §12.0
// item 16). Pure: the environment is a parameter.
import { describe, expect, it } from 'vitest';
import { tracingSettings, type TracingOn } from '../../src/tracing/settings.js';

const ENDPOINT = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };

function on(env: NodeJS.ProcessEnv): TracingOn {
  const result = tracingSettings(env);
  if (!result.ok) throw new Error(result.message);
  if (!result.settings.enabled) throw new Error(`off: ${result.settings.reason}`);
  return result.settings;
}

describe('tracingSettings', () => {
  it.each([
    { name: 'no variables', env: {}, reason: 'neither OTEL_EXPORTER_OTLP_ENDPOINT nor' },
    { name: 'an empty endpoint', env: { OTEL_EXPORTER_OTLP_ENDPOINT: ' ' }, reason: 'neither' },
    {
      name: 'OTEL_SDK_DISABLED=true',
      env: { ...ENDPOINT, OTEL_SDK_DISABLED: 'TRUE' },
      reason: 'OTEL_SDK_DISABLED=true',
    },
    {
      name: 'OTEL_TRACES_EXPORTER=none',
      env: { ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none' },
      reason: 'OTEL_TRACES_EXPORTER=none',
    },
    {
      name: 'none wins over a bad protocol',
      env: { ...ENDPOINT, OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      reason: 'OTEL_TRACES_EXPORTER=none',
    },
  ])('off: $name', ({ env, reason }) => {
    const result = tracingSettings(env);
    expect(result.ok && !result.settings.enabled && result.settings.reason).toContain(reason);
  });

  it('on with the defaults: protobuf, /v1/traces appended, parent-based sampling, 5 s batches', () => {
    expect(on(ENDPOINT)).toEqual({
      enabled: true,
      protocol: 'http/protobuf',
      url: 'http://collector:4318/v1/traces',
      headers: {},
      serviceName: 'tekton-gateway',
      resourceAttributes: {},
      sampler: { kind: 'parentbased_always_on' },
      batch: {
        scheduledDelayMillis: 5000,
        exportTimeoutMillis: 30000,
        maxQueueSize: 2048,
        maxExportBatchSize: 512,
      },
    });
  });

  it('reads every variable it honours', () => {
    const settings = on({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://ignored:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://collector.example/otlp/traces',
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20a,x-tenant=t1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'authorization=Bearer%20b',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes,deployment.environment=prod',
      OTEL_SERVICE_NAME: 'edge',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
      OTEL_BSP_SCHEDULE_DELAY: '200',
      OTEL_BSP_EXPORT_TIMEOUT: '1000',
      OTEL_BSP_MAX_QUEUE_SIZE: '100',
      OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10',
    });
    expect(settings).toEqual({
      enabled: true,
      protocol: 'http/json',
      url: 'https://collector.example/otlp/traces',
      headers: { authorization: 'Bearer b', 'x-tenant': 't1' },
      serviceName: 'edge',
      resourceAttributes: { 'deployment.environment': 'prod' },
      sampler: { kind: 'parentbased_traceidratio', ratio: 0.25 },
      batch: {
        scheduledDelayMillis: 200,
        exportTimeoutMillis: 1000,
        maxQueueSize: 100,
        maxExportBatchSize: 10,
      },
    });
  });

  it('takes service.name from OTEL_RESOURCE_ATTRIBUTES without OTEL_SERVICE_NAME; a trailing / is not doubled', () => {
    const settings = on({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/',
      OTEL_RESOURCE_ATTRIBUTES: 'service.name=ci',
    });
    expect(settings.serviceName).toBe('ci');
    expect(settings.url).toBe('http://c:4318/v1/traces');
  });

  it.each([
    {
      name: 'grpc',
      env: { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      message: 'OTEL_EXPORTER_OTLP_PROTOCOL="grpc" is not supported',
    },
    {
      name: 'a traces protocol of its own',
      env: { OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/thrift' },
      message: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL="http/thrift" is not supported',
    },
    {
      name: 'another exporter',
      env: { OTEL_TRACES_EXPORTER: 'otlp,console' },
      message: 'OTEL_TRACES_EXPORTER="console"',
    },
    {
      name: 'an unknown sampler',
      env: { OTEL_TRACES_SAMPLER: 'jaeger_remote' },
      message: 'OTEL_TRACES_SAMPLER="jaeger_remote"',
    },
    {
      name: 'a ratio above 1',
      env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '1.5' },
      message: 'OTEL_TRACES_SAMPLER_ARG="1.5" must be a number from 0 to 1',
    },
    {
      name: 'a delay that is not a number',
      env: { OTEL_BSP_SCHEDULE_DELAY: '5s' },
      message: 'OTEL_BSP_SCHEDULE_DELAY="5s"',
    },
    {
      name: 'a batch larger than the queue',
      env: { OTEL_BSP_MAX_QUEUE_SIZE: '10', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '20' },
      message: 'must not exceed OTEL_BSP_MAX_QUEUE_SIZE',
    },
    {
      name: 'an endpoint that is not a URL',
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' },
      message: 'OTEL_EXPORTER_OTLP_ENDPOINT is not a valid URL',
    },
    {
      name: 'a non-HTTP endpoint',
      env: { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://c:4317' },
      message: 'must be an http:// or https:// URL',
    },
  ])('start-up error: $name', ({ env, message }) => {
    const result = tracingSettings({ ...ENDPOINT, ...env });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toContain(message);
  });

  it('never echoes a header value or an endpoint in its errors: they carry credentials', () => {
    const headers = tracingSettings({
      ...ENDPOINT,
      OTEL_EXPORTER_OTLP_HEADERS: 'authorization=%E0%A4%A-secret-key',
    });
    const endpoint = tracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:hunter2@[bad' });
    expect(headers).toEqual({
      ok: false,
      message: 'tracing: OTEL_EXPORTER_OTLP_HEADERS: entry 1 ("authorization") has a broken percent-encoding',
    });
    expect(endpoint.ok).toBe(false);
    if (!endpoint.ok) expect(endpoint.message).not.toContain('hunter2');
  });
});
