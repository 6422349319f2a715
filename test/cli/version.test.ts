// `tekton-gateway --version` and `-v` print the package version (issue #12), from any working directory.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, mainJs } from '../helpers/cli.js';
import { repoRoot } from '../helpers/shared.js';

const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

describe('tekton-gateway --version', () => {
  it.each(['--version', '-v'])('%s prints the package version and exits 0', async (flag) => {
    const r = await cli([flag]);
    expect(r).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });

  it('reads the package.json beside dist/, not the one in the working directory', () => {
    const out = execFileSync(process.execPath, [mainJs, '--version'], { cwd: tmpdir(), encoding: 'utf8' });
    expect(out).toBe(`${version}\n`);
  });

  it('the top-level help mentions it', async () => {
    expect((await cli(['--help'])).stdout).toContain("'tekton-gateway --version'");
  });
});
