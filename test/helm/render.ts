// Renders the chart with the real `helm template` (test/helm/helm-binary.ts says which helm) and returns the
// objects parsed, plus the merged values and NOTES.txt as that same Helm run rendered them. `lint()` runs
// `helm lint --strict` on the same inputs.

import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { helm } from './helm-binary.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART_DIR = path.join(REPO, 'helm');

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [key: string]: unknown;
}

export interface Manifest {
  /** Template path, e.g. tekton-gateway/templates/deployment.yaml. */
  source: string;
  content: string;
}

export interface Rendered {
  /** values.yaml merged with the value files, as Helm validates and renders them. */
  values: Record<string, unknown>;
  manifests: Manifest[];
  objects: K8sObject[];
  notes: string;
}

export interface RenderOptions {
  /** Values files, relative to the repo root. */
  valueFiles?: readonly string[];
  /** Values written to a temporary file and applied after valueFiles. */
  values?: Record<string, unknown>;
  /** Like helm --set-file KEY=PATH; PATH relative to the repo root. */
  setFiles?: Readonly<Record<string, string>>;
  releaseName?: string;
  namespace?: string;
  kubeVersion?: string;
  chartDir?: string;
  /** Only merge the values (no rendering), to check them against the schema when rendering refuses them. */
  valuesOnly?: boolean;
}

export const RELEASE_NAME = 'gw';
export const RELEASE_NAMESPACE = 'tekton-gateway';

/** The template added to a scratch copy of the chart: what Helm merged and what NOTES.txt renders to. */
const PROBE = 'zz-tekton-gateway-test-probe.yaml';

/** The harness's own output: templates rendered to text, before any YAML parsing. */
export type RawRendered = Omit<Rendered, 'objects'>;

export type Result<T> = { ok: true; rendered: T } | { ok: false; error: string };

/**
 * The arguments every helm command here shares (values, files, release), after the command and the chart.
 * Values passed as data are written into `scratch`.
 */
function valueArgs(options: RenderOptions, scratch: string): string[] {
  const args: string[] = [];
  for (const file of options.valueFiles ?? []) args.push('--values', path.resolve(REPO, file));
  if (options.values) {
    const file = path.join(scratch, 'values.yaml');
    // YAML 1.1, as helm reads values: a bare `off` or `on` would arrive as a boolean.
    writeFileSync(file, stringify(options.values, { version: '1.1' }));
    args.push('--values', file);
  }
  for (const [key, file] of Object.entries(options.setFiles ?? {})) {
    args.push('--set-file', `${key}=${path.resolve(REPO, file)}`);
  }
  return args;
}

function runHelm(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(helm().binary, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw run.error;
  return run;
}

/**
 * A copy of the chart with the probe template added. With valuesOnly, only Chart.yaml and values.yaml are
 * copied: Helm merges the values but renders none of the chart's templates, so their checks do not run.
 */
function probeChart(chartDir: string, scratch: string, valuesOnly: boolean): string {
  const copy = path.join(scratch, 'chart');
  if (valuesOnly) {
    mkdirSync(path.join(copy, 'templates'), { recursive: true });
    copyFileSync(path.join(chartDir, 'Chart.yaml'), path.join(copy, 'Chart.yaml'));
    if (existsSync(path.join(chartDir, 'values.yaml')))
      copyFileSync(path.join(chartDir, 'values.yaml'), path.join(copy, 'values.yaml'));
  } else {
    cpSync(chartDir, copy, { recursive: true });
    mkdirSync(path.join(copy, 'templates'), { recursive: true });
  }
  // Helm parses NOTES.txt with the other templates, so it can be included by name; the JSON stays on one
  // line, so no `---` inside a value can split the document.
  const hasNotes = !valuesOnly && existsSync(path.join(chartDir, 'templates', 'NOTES.txt'));
  const notes = hasNotes ? '{{ include (print .Template.BasePath "/NOTES.txt") . | toJson }}' : '""';
  writeFileSync(path.join(copy, 'templates', PROBE), `{"values": {{ toJson .Values }}, "notes": ${notes}}\n`);
  return copy;
}

/** helm template's stdout → one manifest per `# Source:` document, as Helm splits them. */
export function splitManifests(stdout: string): Manifest[] {
  const manifests: Manifest[] = [];
  const header = /^---\n# Source: (.+)\n/gm;
  const starts = [...stdout.matchAll(header)];
  starts.forEach((match, i) => {
    const from = (match.index ?? 0) + match[0].length;
    const to = starts[i + 1]?.index ?? stdout.length;
    manifests.push({ source: match[1] ?? '', content: stdout.slice(from, to).replace(/\n$/, '') });
  });
  return manifests;
}

/** Runs `helm template`; a template error (fail, required, a bad call) comes back as { ok: false, error }. */
export function runRenderer(options: RenderOptions = {}): Result<RawRendered> {
  const chartDir = options.chartDir ?? CHART_DIR;
  const valuesOnly = options.valuesOnly ?? false;
  const scratch = mkdtempSync(path.join(tmpdir(), 'tekton-gateway-helm-'));
  try {
    const chart = probeChart(chartDir, scratch, valuesOnly);
    const args = ['template', options.releaseName ?? RELEASE_NAME, chart];
    args.push('--namespace', options.namespace ?? RELEASE_NAMESPACE);
    // values-only is how the tests see what the schema is asked to judge, so Helm must not judge it first.
    if (valuesOnly) args.push('--skip-schema-validation');
    else args.push('--kube-version', options.kubeVersion ?? 'v1.31.0');
    args.push(...valueArgs(options, scratch));
    const run = runHelm(args);
    if (run.status !== 0) return { ok: false, error: run.stderr };
    const all = splitManifests(run.stdout);
    const probe = all.find((m) => m.source.endsWith(`/templates/${PROBE}`));
    if (!probe) throw new Error(`helm template printed no ${PROBE}:\n${run.stdout}`);
    const { values, notes } = JSON.parse(probe.content) as { values: Record<string, unknown>; notes: string };
    return { ok: true, rendered: { values, notes, manifests: all.filter((m) => m !== probe) } };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** `helm lint --strict` on the chart with these inputs: ok, or the lint report. */
export function lint(options: Omit<RenderOptions, 'valuesOnly'> = {}): Result<string> {
  const scratch = mkdtempSync(path.join(tmpdir(), 'tekton-gateway-helm-lint-'));
  try {
    const args = [
      'lint',
      options.chartDir ?? CHART_DIR,
      '--strict',
      '--namespace',
      options.namespace ?? RELEASE_NAMESPACE,
    ];
    args.push('--kube-version', options.kubeVersion ?? 'v1.31.0');
    args.push(...valueArgs(options, scratch));
    const run = runHelm(args);
    return run.status === 0
      ? { ok: true, rendered: run.stdout }
      : { ok: false, error: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Renders and parses every manifest into Kubernetes objects. */
export function tryRender(options: RenderOptions = {}): Result<Rendered> {
  const result = runRenderer(options);
  return result.ok ? { ok: true, rendered: parseObjects(result.rendered) } : result;
}

export function render(options: RenderOptions = {}): Rendered {
  const result = tryRender(options);
  if (!result.ok) throw new Error(`chart did not render:\n${result.error}`);
  return result.rendered;
}

function parseObjects(raw: RawRendered): Rendered {
  const objects: K8sObject[] = [];
  for (const manifest of raw.manifests) {
    // YAML 1.1, as the API server's decoder reads it: an unquoted `on` or `yes` is a boolean there.
    for (const doc of parseAllDocuments(manifest.content, { version: '1.1' })) {
      if (doc.errors.length > 0) {
        throw new Error(
          `${manifest.source} is not valid YAML: ${doc.errors.map((e) => e.message).join('; ')}`,
        );
      }
      const value: unknown = doc.toJS();
      if (value === null || value === undefined) continue; // an empty document between two ---
      if (typeof value !== 'object' || Array.isArray(value)) {
        throw new Error(
          `${manifest.source} rendered a document that is not an object: ${JSON.stringify(value)}`,
        );
      }
      objects.push(value as K8sObject);
    }
  }
  return { ...raw, objects };
}
