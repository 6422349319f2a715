// values.yaml, values.schema.json, Chart.yaml and the chart README agree with each other and with the code:
// Helm refuses values the schema rejects, so a schema mistake either blocks users or lets typos through.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { SERVE } from '../../src/cli/spec.js';
import { CHART_DIR, REPO, tryRender } from './render.js';
import { VALUES_SCHEMA, validateValues } from './schema.js';

const valuesYaml = parseYaml(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as Record<
  string,
  unknown
>;

interface SchemaNode {
  additionalProperties?: unknown;
  properties?: Record<string, SchemaNode>;
}

/**
 * The keys a user can set, as the README must list them: a closed object's keys recursively (it names
 * them all), an open one (annotations, resources lists, security contexts) as one key.
 */
function settableKeys(values: Record<string, unknown>, schema: SchemaNode, prefix = ''): string[] {
  return Object.entries(values).flatMap(([key, value]) => {
    const node = schema.properties?.[key];
    const isClosedObject =
      node?.additionalProperties === false &&
      value !== null &&
      typeof value === 'object' &&
      !Array.isArray(value);
    return isClosedObject
      ? settableKeys(value as Record<string, unknown>, node, `${prefix}${key}.`)
      : [`${prefix}${key}`];
  });
}

/** Merges a value set over values.yaml exactly as the renderer (and Helm) do, without rendering. */
function merged(values: Record<string, unknown>): Record<string, unknown> {
  const result = tryRender({ values, valuesOnly: true });
  if (!result.ok) throw new Error(result.error);
  return result.rendered.values;
}

interface Rejected {
  name: string;
  values: Record<string, unknown>;
  /** JSON pointer of the offending value in ajv's report. */
  at: string;
}

const REJECTED: readonly Rejected[] = [
  { name: 'an unknown top-level key (replicas for replicaCount)', values: { replicas: 3 }, at: '/' },
  { name: 'a misspelt nested key', values: { gateway: { loglevel: 'debug' } }, at: '/gateway' },
  {
    name: 'a log level serve does not accept',
    values: { gateway: { logLevel: 'verbose' } },
    at: '/gateway/logLevel',
  },
  { name: 'a port given as a string', values: { ports: { http: '8080' } }, at: '/ports/http' },
  {
    name: 'a fractional memory limit the heap size cannot be derived from',
    values: { resources: { limits: { memory: '0.5Gi' } } },
    at: '/resources/limits/memory',
  },
  {
    name: 'an impersonated account without its namespace',
    values: { rbac: { impersonate: [{ name: 'sa' }] } },
    at: '/rbac/impersonate/0',
  },
  {
    name: 'a target namespace that is not a DNS label',
    values: { rbac: { targetNamespaces: ['CI'] } },
    at: '/rbac/targetNamespaces/0',
  },
  {
    name: 'a Secret name Kubernetes would refuse',
    values: { secrets: ['github_webhook'] },
    at: '/secrets/0',
  },
  {
    name: 'an image digest that is not sha256',
    values: { image: { digest: 'latest' } },
    at: '/image/digest',
  },
  {
    name: 'a grace period of zero',
    values: { terminationGracePeriodSeconds: 0 },
    at: '/terminationGracePeriodSeconds',
  },
  {
    name: 'a ServiceMonitor interval Prometheus cannot parse',
    values: { serviceMonitor: { interval: '30' } },
    at: '/serviceMonitor/interval',
  },
  {
    name: 'a non-string secret value',
    values: { createSecrets: { demo: { token: 42 } } },
    at: '/createSecrets/demo/token',
  },
];

describe('helm values and schema', () => {
  it('values.yaml passes values.schema.json', () => {
    expect(validateValues(valuesYaml)).toEqual([]);
  });

  it.each(REJECTED)('rejects $name', ({ values, at }) => {
    const problems = validateValues(merged(values));
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.map((p) => p.split(' ')[0])).toContain(at);
  });

  it('is draft-07 (the draft every Helm 3 validates) and closed at the top level', () => {
    expect(VALUES_SCHEMA.$schema).toBe('http://json-schema.org/draft-07/schema#');
    expect((VALUES_SCHEMA as SchemaNode).additionalProperties).toBe(false);
  });

  it('describes exactly the keys of values.yaml (plus Helm’s global)', () => {
    expect(Object.keys(VALUES_SCHEMA.properties).sort()).toEqual(
      [...Object.keys(valuesYaml), 'global'].sort(),
    );
  });

  it('allows exactly the log levels serve accepts', () => {
    const logLevel = SERVE.flags.find((f) => f.name === 'log-level');
    expect(VALUES_SCHEMA.properties.gateway?.properties?.logLevel?.enum).toEqual(logLevel?.choices);
  });

  it('defaults the serve options to what serve itself defaults to', () => {
    const defaultOf = (name: string) => Number(SERVE.flags.find((f) => f.name === name)?.default);
    const gateway = valuesYaml.gateway as Record<string, unknown>;
    const ports = valuesYaml.ports as Record<string, unknown>;
    expect(gateway.drainDelaySeconds).toBe(defaultOf('drain-delay'));
    expect(gateway.shutdownTimeoutSeconds).toBe(defaultOf('shutdown-timeout'));
    expect(gateway.logLevel).toBe(SERVE.flags.find((f) => f.name === 'log-level')?.default);
    expect(ports.http).toBe(defaultOf('port'));
    expect(ports.admin).toBe(defaultOf('admin-port'));
  });

  it('the chart README documents every settable key in its values table', () => {
    const readme = readFileSync(path.join(CHART_DIR, 'README.md'), 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]));
    const keys = settableKeys(valuesYaml, VALUES_SCHEMA as SchemaNode);
    expect(keys.length).toBeGreaterThan(40);
    expect(keys.filter((k) => !documented.has(k))).toEqual([]);
    expect([...documented].filter((k) => k !== undefined && !keys.includes(k))).toEqual([]);
  });
});

describe('Chart.yaml', () => {
  const chart = parseYaml(readFileSync(path.join(CHART_DIR, 'Chart.yaml'), 'utf8')) as Record<
    string,
    unknown
  >;
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as {
    version: string;
    name: string;
  };

  it('is a v2 application chart named like the package, with a SemVer version', () => {
    expect(chart).toMatchObject({ apiVersion: 'v2', type: 'application', name: pkg.name });
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  });

  it('deploys the gateway version of package.json by default (appVersion is the image tag)', () => {
    expect(chart.appVersion).toBe(pkg.version);
  });
});
