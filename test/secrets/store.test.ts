// The secret store (src/secrets.ts): Kubernetes Secret volume layout, one trailing newline removed, missing
// files named for the load error, and rotation picked up without a restart.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SecretRef } from '../../src/model.js';
import { verifySignature } from '../../src/pipeline/verify/index.js';
import { SecretStore, trimTrailingNewline, type SecretStoreOptions } from '../../src/secrets.js';
import { delivery, genericSignature, payload, route } from '../verify/support.js';
import { tempSecretsDir, writeSecret } from './volume.js';

const REF: SecretRef = { secretName: 'github-webhook', secretKey: 'secretkey' };
const text = (value: Buffer | undefined) => value?.toString('utf8');

const stores: SecretStore[] = [];
function store(dir: string, options: SecretStoreOptions = {}): SecretStore {
  const created = new SecretStore(dir, options);
  stores.push(created);
  return created;
}
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** Waits for the store to catch up with a change on disk (debounce plus the filesystem's own delay). */
const eventually = (assertion: () => void) => vi.waitFor(assertion, { timeout: 5_000, interval: 20 });

describe('trimTrailingNewline', () => {
  it.each([
    { name: 'one \\n', input: 'token\n', output: 'token' },
    { name: 'one \\r\\n', input: 'token\r\n', output: 'token' },
    { name: 'only one of two newlines', input: 'token\n\n', output: 'token\n' },
    { name: 'a lone \\r (not a newline)', input: 'token\r', output: 'token\r' },
    { name: 'nothing', input: 'token', output: 'token' },
    { name: 'a newline inside', input: 'to\nken', output: 'to\nken' },
    { name: 'just a newline', input: '\n', output: '' },
  ])('removes $name', ({ input, output }) => {
    expect(trimTrailingNewline(Buffer.from(input)).toString()).toBe(output);
  });
});

describe('SecretStore.lookup and missing', () => {
  it('reads <dir>/<secretName>/<secretKey> through the kubelet symlinks, one trailing newline removed', () => {
    const dir = tempSecretsDir();
    writeSecret(dir, 'github-webhook', { secretkey: 's3cr3t\n', other: 'x\r\n' });
    const s = store(dir);
    expect(text(s.lookup(REF))).toBe('s3cr3t');
    expect(text(s.lookup({ secretName: 'github-webhook', secretKey: 'other' }))).toBe('x');
  });

  it('does not remember an absent file nobody configured (a name from a payload cannot grow the cache)', () => {
    const dir = tempSecretsDir();
    const s = store(dir);
    const ref = { secretName: 'later', secretKey: 'key' };
    expect(s.lookup(ref)).toBeUndefined();
    writeSecret(dir, 'later', { key: 'now here' });
    expect(text(s.lookup(ref))).toBe('now here');
  });

  it('keeps binary content byte for byte', () => {
    const dir = tempSecretsDir();
    const bytes = Buffer.from([0x00, 0xff, 0x0a, 0x0d, 0x80, 0x0a]);
    writeSecret(dir, 'bin', { key: bytes });
    expect(store(dir).lookup({ secretName: 'bin', secretKey: 'key' })).toEqual(bytes.subarray(0, -1));
  });

  it('answers undefined for an absent file, and missing() names each missing file by its full path once', () => {
    const dir = tempSecretsDir();
    writeSecret(dir, 'github-webhook', { secretkey: 'present' });
    const s = store(dir);
    const absentKey = { secretName: 'github-webhook', secretKey: 'nope' };
    const absentSecret = { secretName: 'gitlab-webhook', secretKey: 'token' };
    expect(s.lookup(absentKey)).toBeUndefined();
    expect(s.missing([REF, absentKey, absentSecret, absentKey])).toEqual([
      join(dir, 'github-webhook', 'nope'),
      join(dir, 'gitlab-webhook', 'token'),
    ]);
    expect(s.missing([REF])).toEqual([]);
  });

  it.each([
    {
      name: 'a secretName that climbs out of the directory',
      ref: { secretName: '../outside', secretKey: 'key' },
    },
    { name: 'a secretKey with a slash', ref: { secretName: 'outside', secretKey: '../outside/key' } },
    { name: "the kubelet's ..data directory", ref: { secretName: 'github-webhook', secretKey: '..data' } },
    {
      name: 'an upper-case secretName (not a Kubernetes name)',
      ref: { secretName: 'GitHub', secretKey: 'key' },
    },
  ])('refuses $name, even when the file exists', ({ ref }) => {
    const root = tempSecretsDir();
    const dir = join(root, 'secrets');
    mkdirSync(join(root, 'outside'), { recursive: true });
    writeFileSync(join(root, 'outside', 'key'), 'not a secret of ours');
    mkdirSync(join(dir, 'outside'), { recursive: true });
    writeFileSync(join(dir, 'outside', 'key'), 'inside');
    writeSecret(dir, 'github-webhook', { secretkey: 'x' });
    mkdirSync(join(dir, 'GitHub'));
    writeFileSync(join(dir, 'GitHub', 'key'), 'x');
    const s = store(dir);
    expect(s.lookup(ref)).toBeUndefined();
    expect(s.missing([ref])).toEqual([expect.stringContaining('not a valid Secret name and key')]);
  });

  it('reports an unreadable file once, by path and error code, and treats it as missing', () => {
    const dir = tempSecretsDir();
    mkdirSync(join(dir, 'github-webhook', 'secretkey'), { recursive: true });
    const errors: Error[] = [];
    const s = store(dir, { onError: (e) => errors.push(e) });
    expect(s.lookup(REF)).toBeUndefined();
    expect(s.missing([REF])).toEqual([join(dir, 'github-webhook', 'secretkey')]);
    expect(errors.map((e) => e.message)).toEqual([
      `cannot read secret file ${join(dir, 'github-webhook', 'secretkey')} (EISDIR)`,
    ]);
  });

  it('serves the demo secrets in test/fixtures/secrets/ (used by npm run demo)', () => {
    const s = store(fileURLToPath(new URL('../fixtures/secrets/', import.meta.url)));
    const refs = [
      { secretName: 'github-webhook', secretKey: 'secretkey' },
      { secretName: 'gitlab-webhook', secretKey: 'token' },
      { secretName: 'gitlab-webhook', secretKey: 'signing-token' },
      { secretName: 'gitea-webhook', secretKey: 'secret' },
    ];
    expect(s.missing(refs)).toEqual([]);
    for (const ref of refs) {
      const value = text(s.lookup(ref)) ?? '';
      expect(value).toMatch(/^(demo-|whsec_)/);
      expect(value).not.toMatch(/\s$/);
    }
  });
});

describe('SecretStore.watch', () => {
  it('sees a kubelet ..data swap through fs.watch, without waiting for a poll', async () => {
    const dir = tempSecretsDir();
    writeSecret(dir, 'github-webhook', { secretkey: 'old-value\n' });
    const changes: { file: string; present: boolean }[] = [];
    const s = store(dir, { pollIntervalMs: 600_000, onChange: (c) => changes.push(c) });
    s.watch([REF]);
    expect(text(s.lookup(REF))).toBe('old-value');

    writeSecret(dir, 'github-webhook', { secretkey: 'new-value\n' });
    await eventually(() => expect(text(s.lookup(REF))).toBe('new-value'));
    expect(changes).toEqual([{ file: join(dir, 'github-webhook', 'secretkey'), present: true }]);
  });

  it('falls back to polling when fs.watch is not used', async () => {
    const dir = tempSecretsDir();
    writeSecret(dir, 'github-webhook', { secretkey: 'old-value' });
    const s = store(dir, { fsWatch: false, pollIntervalMs: 50 });
    s.watch([REF]);
    writeSecret(dir, 'github-webhook', { secretkey: 'polled-value' });
    await eventually(() => expect(text(s.lookup(REF))).toBe('polled-value'));
  });

  it('picks up a Secret that appears after start-up, and one that disappears', async () => {
    const dir = tempSecretsDir();
    const changes: { file: string; present: boolean }[] = [];
    const s = store(dir, { pollIntervalMs: 600_000, onChange: (c) => changes.push(c) });
    s.watch([REF]);
    expect(s.lookup(REF)).toBeUndefined();

    writeSecret(dir, 'github-webhook', { secretkey: 'arrived' });
    await eventually(() => expect(text(s.lookup(REF))).toBe('arrived'));
    rmSync(join(dir, 'github-webhook'), { recursive: true });
    await eventually(() => expect(s.lookup(REF)).toBeUndefined());
    expect(changes.map((c) => c.present)).toEqual([true, false]);
  });

  it('re-creates its watch when the Secret directory is replaced', async () => {
    const dir = tempSecretsDir();
    writeSecret(dir, 'github-webhook', { secretkey: 'first' });
    const s = store(dir, { pollIntervalMs: 600_000 });
    s.watch([REF]);

    const staging = join(dir, 'staging');
    writeSecret(staging, 'github-webhook', { secretkey: 'second' });
    rmSync(join(dir, 'github-webhook'), { recursive: true });
    renameSync(join(staging, 'github-webhook'), join(dir, 'github-webhook'));
    await eventually(() => expect(text(s.lookup(REF))).toBe('second'));

    // Only the new directory's watch can report this one.
    writeSecret(dir, 'github-webhook', { secretkey: 'third' });
    await eventually(() => expect(text(s.lookup(REF))).toBe('third'));
  });

  it('keeps refs looked up later (e.g. by compareSecret) current as well', async () => {
    const dir = tempSecretsDir();
    writeSecret(dir, 'github-webhook', { secretkey: 'a' });
    writeSecret(dir, 'ci-token', { token: 'one' });
    const s = store(dir, { pollIntervalMs: 600_000 });
    s.watch([REF]);
    const later = { secretName: 'ci-token', secretKey: 'token' };
    expect(text(s.lookup(later))).toBe('one');
    writeSecret(dir, 'ci-token', { token: 'two' });
    await eventually(() => expect(text(s.lookup(later))).toBe('two'));
  });

  it('reports changes by path only, never by value', async () => {
    const dir = tempSecretsDir();
    writeSecret(dir, 'github-webhook', { secretkey: 'visible-old' });
    const reports: unknown[] = [];
    const s = store(dir, {
      pollIntervalMs: 600_000,
      onChange: (c) => reports.push(c),
      onError: (e) => reports.push(e.message),
    });
    s.watch([REF]);
    writeSecret(dir, 'github-webhook', { secretkey: 'visible-new' });
    await eventually(() => expect(reports.length).toBeGreaterThan(0));
    expect(JSON.stringify(reports)).not.toMatch(/visible-/);
  });

  it('stops after close()', async () => {
    const dir = tempSecretsDir();
    writeSecret(dir, 'github-webhook', { secretkey: 'before' });
    const changes: unknown[] = [];
    const s = store(dir, { pollIntervalMs: 20, debounceMs: 5, onChange: (c) => changes.push(c) });
    s.watch([REF]);
    s.close();
    writeSecret(dir, 'github-webhook', { secretkey: 'after' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(changes).toEqual([]);
    expect(text(s.lookup(REF))).toBe('before');
  });
});

describe('rotation end to end: a new secret works without a restart', () => {
  const signature = {
    header: 'X-Hub-Signature-256',
    algorithm: 'sha256',
    encoding: 'hex',
    prefix: 'sha256=',
  } as const;
  const body = payload('github/push.json');
  const signedWith = (secret: string) =>
    delivery({ 'X-Hub-Signature-256': genericSignature(signature, secret, body) }, body);

  function verifyWith(s: SecretStore, refs: readonly SecretRef[], secret: string) {
    const secrets = refs.flatMap((ref) => s.lookup(ref) ?? []);
    return verifySignature(route('github', { secretRefs: refs }), signedWith(secret), secrets, Date.now());
  }

  it('replacing the Secret swaps the accepted signature', async () => {
    const dir = tempSecretsDir();
    writeSecret(dir, 'github-webhook', { secretkey: 'before-rotation\n' });
    const s = store(dir, { pollIntervalMs: 600_000 });
    s.watch([REF]);
    expect(verifyWith(s, [REF], 'before-rotation')).toEqual({ ok: true });
    expect(verifyWith(s, [REF], 'after-rotation').ok).toBe(false);

    writeSecret(dir, 'github-webhook', { secretkey: 'after-rotation\n' });
    await eventually(() => expect(verifyWith(s, [REF], 'after-rotation')).toEqual({ ok: true }));
    expect(verifyWith(s, [REF], 'before-rotation').ok).toBe(false);
  });

  it('with two secretRefs during a rotation, both hosts-side secrets pass; then the old one is retired', async () => {
    const dir = tempSecretsDir();
    const next: SecretRef = { secretName: 'github-webhook-next', secretKey: 'secretkey' };
    writeSecret(dir, 'github-webhook', { secretkey: 'current' });
    const s = store(dir, { pollIntervalMs: 600_000 });
    s.watch([REF, next]);
    expect(verifyWith(s, [REF, next], 'current')).toEqual({ ok: true });

    writeSecret(dir, 'github-webhook-next', { secretkey: 'upcoming' });
    await eventually(() => expect(verifyWith(s, [REF, next], 'upcoming')).toEqual({ ok: true }));
    expect(verifyWith(s, [REF, next], 'current')).toEqual({ ok: true });

    rmSync(join(dir, 'github-webhook'), { recursive: true });
    await eventually(() => expect(verifyWith(s, [REF, next], 'current').ok).toBe(false));
    expect(verifyWith(s, [REF, next], 'upcoming')).toEqual({ ok: true });
  });
});
