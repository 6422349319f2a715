// The admin token file (contract §14, §12.0 items 12 and 17): newline removal, Bearer and Basic parsing, GET-only
// Basic, re-reading on change, and turning off (not failing) when the file is missing or empty.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { adminTokenCheck } from '../../src/http/admin-token.js';

const file = (content: string) => {
  const f = join(mkdtempSync(join(tmpdir(), 'admin-token-')), 'token');
  writeFileSync(f, content);
  return f;
};
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('adminTokenCheck', () => {
  it.each([
    { name: 'Bearer', header: 'Bearer tok3n', basicAllowed: false, kind: 'ok' },
    { name: 'bearer, any case', header: 'bEaReR tok3n', basicAllowed: false, kind: 'ok' },
    {
      name: 'Basic with the token as password',
      header: basic('anyone', 'tok3n'),
      basicAllowed: true,
      kind: 'ok',
    },
    {
      name: 'Basic, password with a colon kept whole',
      header: basic('u', 'tok3n:x'),
      basicAllowed: true,
      kind: 'denied',
    },
    {
      name: 'Basic where only Bearer is allowed',
      header: basic('u', 'tok3n'),
      basicAllowed: false,
      kind: 'denied',
    },
    { name: 'a wrong token', header: 'Bearer tok3m', basicAllowed: true, kind: 'denied' },
    { name: 'a prefix of the token', header: 'Bearer tok', basicAllowed: true, kind: 'denied' },
    { name: 'no header', header: undefined, basicAllowed: true, kind: 'denied' },
    { name: 'another scheme', header: 'Token tok3n', basicAllowed: true, kind: 'denied' },
  ])('$name → $kind', ({ header, basicAllowed, kind }) => {
    const check = adminTokenCheck(file('tok3n\n'));
    const result = check.check(header, { basic: basicAllowed });
    expect(result.kind).toBe(kind);
    if (result.kind === 'denied') expect(result.message).not.toContain('tok3n');
  });

  it('removes one trailing \\r\\n, as for every Secret file', () => {
    const check = adminTokenCheck(file('tok3n\r\n'));
    expect(check.check('Bearer tok3n', { basic: false }).kind).toBe('ok');
  });

  it('is disabled without a file, with a missing file and with an empty one; reports each change', () => {
    expect(adminTokenCheck(undefined).check('Bearer x', { basic: true }).kind).toBe('disabled');
    const changes: (string | undefined)[] = [];
    const f = file('\n');
    const check = adminTokenCheck(f, { onChange: (c) => changes.push(c.problem) });
    expect(check.enabled()).toBe(false);
    expect(check.check('Bearer ', { basic: true }).kind).toBe('disabled');
    writeFileSync(f, 'now-set');
    expect(check.check('Bearer now-set', { basic: false }).kind).toBe('ok');
    rmSync(f);
    expect(check.checkToken('now-set').kind).toBe('disabled');
    expect(changes[0]).toMatch(/empty/);
    expect(changes[1]).toBeUndefined();
    expect(changes[2]).toMatch(/cannot read the admin token file: ENOENT/);
  });
});
