// Issue #13: the admin port's PUT /loglevel needs the admin token once --admin-token-file is set; the token is
// re-read when its file changes, and a file that cannot be read refuses every change without stopping serve.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { demoSecretsDir, startGateway, type RunningGateway } from '../helpers/gateway.js';
import { repoRoot } from '../helpers/shared.js';

let gw: RunningGateway | undefined;
afterEach(async () => {
  await gw?.stop();
  gw = undefined;
});

async function gateway(tokenFile: string): Promise<RunningGateway> {
  gw = await startGateway([
    '--dry-run',
    '--routes',
    join(repoRoot, 'routes.yaml'),
    '--secrets-dir',
    demoSecretsDir,
    '--admin-token-file',
    tokenFile,
  ]);
  return gw;
}

const put = (gw: RunningGateway, level: string, authorization?: string) =>
  fetch(`${gw.adminUrl}/loglevel`, {
    method: 'PUT',
    body: level,
    headers: authorization ? { authorization } : {},
  });

describe('PUT /loglevel with --admin-token-file', () => {
  it('401 without the token, with a wrong one or with Basic; Bearer with the token changes the level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'admin-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 's3cret-admin-token\n');
    const gw = await gateway(file);

    const none = await put(gw, 'debug');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const wrong = await put(gw, 'debug', 'Bearer s3cret-admin-tokeX');
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).not.toContain('s3cret');
    expect(await (await fetch(`${gw.adminUrl}/loglevel`)).text()).toBe('info\n');

    expect((await put(gw, 'debug', 'Bearer s3cret-admin-token')).status).toBe(200);
    expect(await (await fetch(`${gw.adminUrl}/loglevel`)).text()).toBe('debug\n');
    // A browser attaches cached Basic credentials to any request, a cross-site one included: changes need Bearer.
    const basic = `Basic ${Buffer.from('anyone:s3cret-admin-token').toString('base64')}`;
    expect((await put(gw, 'warn', basic)).status).toBe(401);
    expect(await (await fetch(`${gw.adminUrl}/loglevel`)).text()).toBe('debug\n');
    expect(gw.logs.join('')).not.toContain('s3cret');
  });

  it('a rotated token file takes over; a removed one refuses every change (503) while serve goes on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'admin-token-'));
    const file = join(dir, 'token');
    writeFileSync(file, 'first-token');
    const gw = await gateway(file);
    expect((await put(gw, 'warn', 'Bearer first-token')).status).toBe(200);

    writeFileSync(file, 'second-token-longer');
    expect((await put(gw, 'info', 'Bearer first-token')).status).toBe(401);
    expect((await put(gw, 'info', 'Bearer second-token-longer')).status).toBe(200);

    rmSync(file);
    const gone = await put(gw, 'debug', 'Bearer second-token-longer');
    expect(gone.status).toBe(503);
    expect((await fetch(`${gw.url}/healthz`)).status).toBe(200);
  });

  it('a token file missing at start-up is an error log line, not a failed start', async () => {
    const gw = await gateway(join(mkdtempSync(join(tmpdir(), 'admin-token-')), 'absent'));
    const line = gw.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.level === 'error');
    expect(line?.msg).toContain('admin token unusable');
    expect((await put(gw, 'debug', 'Bearer anything')).status).toBe(503);
  });
});
