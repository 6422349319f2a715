// A Kubernetes Secret volume on disk, written the way the kubelet's AtomicWriter does it: the data in a
// timestamped directory, a `..data` symlink renamed over the old one, and one `<key> -> ..data/<key>` symlink
// per key. Tests use it to rotate secrets exactly as a cluster would.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let generation = 0;

export function tempSecretsDir(): string {
  return mkdtempSync(join(tmpdir(), 'tekton-gateway-secrets-'));
}

/** Creates or atomically replaces the Secret `name` under `root` with `data` (key → file content). */
export function writeSecret(
  root: string,
  name: string,
  data: Readonly<Record<string, string | Buffer>>,
): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const stamp = `..2026_01_01_00_00_00.${process.pid}_${++generation}`;
  mkdirSync(join(dir, stamp));
  for (const [key, value] of Object.entries(data)) writeFileSync(join(dir, stamp, key), value);
  symlinkSync(stamp, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const key of Object.keys(data)) {
    if (!existsSync(join(dir, key))) symlinkSync(join('..data', key), join(dir, key));
  }
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('..20') && entry !== stamp) rmSync(join(dir, entry), { recursive: true });
  }
}
