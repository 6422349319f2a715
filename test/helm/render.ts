// Renders the chart with test/helm/render (Go text/template + sprig, the engine Helm uses) and returns the
// objects parsed. Helm itself cannot be installed here; see shared/reference/kubernetes.md §4.

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CHART_DIR = path.join(REPO, 'helm');
const RENDER_SRC = path.join(REPO, 'test/helm/render');

// Debian's Go packages live in this GOPATH; its sprig is imported without /v3 (GOPATH mode, no modules).
const DEBIAN_GOPATH = '/usr/share/gocode';
const DEBIAN_PACKAGES = 'golang-go golang-github-masterminds-sprig-dev golang-gopkg-yaml.v3-dev';
const MISSING_TOOLCHAIN =
  `The Helm chart tests render the chart with Go + sprig from Debian (${DEBIAN_PACKAGES}). ` +
  `Run .ci/run, which installs them, or: apt-get install -y --no-install-recommends ${DEBIAN_PACKAGES}`;

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

function goEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOPATH: DEBIAN_GOPATH };
  // go refuses to build without a cache directory, and CI may run without HOME.
  if (!env.GOCACHE && !env.HOME && !env.XDG_CACHE_HOME)
    env.GOCACHE = path.join(tmpdir(), 'tekton-gateway-gocache');
  return env;
}

/**
 * Throws, never skips, when Go or Debian's sprig/yaml packages are missing, with the command that fixes it.
 * Returns `go version`'s output.
 */
export function requireToolchain(env: NodeJS.ProcessEnv = goEnv(), gopath = DEBIAN_GOPATH): string {
  const version = spawnSync('go', ['version'], { env, encoding: 'utf8' });
  if (version.error || version.status !== 0) {
    throw new Error(`${MISSING_TOOLCHAIN}\n(go version: ${version.error?.message ?? version.stderr})`);
  }
  for (const pkg of ['src/github.com/Masterminds/sprig', 'src/gopkg.in/yaml.v3']) {
    if (!existsSync(path.join(gopath, pkg)))
      throw new Error(`${MISSING_TOOLCHAIN}\n(${gopath}/${pkg} is missing)`);
  }
  return version.stdout;
}

let rendererPath: string | undefined;

/**
 * Builds the renderer once per source version into the temp directory (later calls and later runs reuse it)
 * and returns its path.
 */
export function buildRenderer(): string {
  if (rendererPath) return rendererPath;
  const env = goEnv();
  const goVersion = requireToolchain(env);
  const hash = createHash('sha256')
    .update(goVersion)
    .update(readFileSync(path.join(RENDER_SRC, 'main.go')))
    .digest('hex')
    .slice(0, 16);
  const dir = path.join(tmpdir(), `tekton-gateway-helm-render-${hash}`);
  const binary = path.join(dir, 'render');
  if (!existsSync(binary)) {
    mkdirSync(dir, { recursive: true });
    // Build beside the final name and rename, so parallel test workers never run a half-written file.
    const partial = `${binary}.${process.pid}.tmp`;
    const build = spawnSync('go', ['build', '-o', partial, '.'], { cwd: RENDER_SRC, env, encoding: 'utf8' });
    if (build.status !== 0) {
      throw new Error(`building test/helm/render failed:\n${build.stderr}\n${MISSING_TOOLCHAIN}`);
    }
    renameSync(partial, binary);
  }
  rendererPath = binary;
  return binary;
}

/** The renderer's own output: templates rendered to text, before any YAML parsing. */
export type RawRendered = Omit<Rendered, 'objects'>;

export type Result<T> = { ok: true; rendered: T } | { ok: false; error: string };

/** Runs the renderer; a template error (fail, required, a bad call) comes back as { ok: false, error }. */
export function runRenderer(options: RenderOptions = {}): Result<RawRendered> {
  const binary = buildRenderer();
  const args = [
    '-chart',
    options.chartDir ?? CHART_DIR,
    '-name',
    options.releaseName ?? RELEASE_NAME,
    '-namespace',
    options.namespace ?? RELEASE_NAMESPACE,
    '-kube-version',
    options.kubeVersion ?? 'v1.31.0',
  ];
  if (options.valuesOnly) args.push('-values-only');
  for (const file of options.valueFiles ?? []) args.push('-values', path.resolve(REPO, file));
  let scratch: string | undefined;
  try {
    if (options.values) {
      scratch = mkdtempSync(path.join(tmpdir(), 'tekton-gateway-values-'));
      const file = path.join(scratch, 'values.yaml');
      writeFileSync(file, stringify(options.values));
      args.push('-values', file);
    }
    for (const [key, file] of Object.entries(options.setFiles ?? {})) {
      args.push('-set-file', `${key}=${path.resolve(REPO, file)}`);
    }
    const run = spawnSync(binary, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    if (run.error) throw run.error;
    if (run.status !== 0) return { ok: false, error: run.stderr };
    return { ok: true, rendered: JSON.parse(run.stdout) as RawRendered };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
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
