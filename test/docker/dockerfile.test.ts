// Static checks of the Dockerfile and .dockerignore (no Docker engine here): the image must build the way
// issue #7 asks and run the way the Helm chart and the shutdown sequence expect.

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SERVE } from '../../src/cli/spec.js';
import {
  type Instruction,
  type Stage,
  execForm,
  isIgnored,
  parseDockerfile,
  parseInstructions,
  parseLabels,
  readDockerignore,
} from './dockerfile.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dockerfile = parseDockerfile(readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'));
const ignore = readDockerignore(readFileSync(path.join(REPO, '.dockerignore'), 'utf8'));
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { license: string };

const runtime = dockerfile.stages[dockerfile.stages.length - 1] as Stage;
const all = (stage: Stage, keyword: string): Instruction[] =>
  stage.instructions.filter((i) => i.keyword === keyword);
const last = (stage: Stage, keyword: string): Instruction | undefined => all(stage, keyword).at(-1);
const runs = (stage: Stage): string[] => all(stage, 'RUN').map((i) => i.args);

/** `COPY --from=<stage> <src> <dest>` instructions of a stage, by source stage. */
function copiesFrom(stage: Stage): { from: string; src: string; dest: string }[] {
  return all(stage, 'COPY').flatMap((copy) => {
    const from = /--from=(\S+)/.exec(copy.args)?.[1];
    const words = copy.args.split(/\s+/).filter((w) => !w.startsWith('--'));
    return from ? [{ from, src: words[0] ?? '', dest: words[words.length - 1] ?? '' }] : [];
  });
}

/** Node major version of an official node or distroless nodejs image reference. */
function nodeMajor(image: string): number | undefined {
  const match = /(?:^|\/)node:(\d+)|distroless\/nodejs(\d+)/.exec(image);
  return match ? Number(match[1] ?? match[2]) : undefined;
}

describe('Dockerfile', () => {
  it('builds in several stages: npm ci + build, then production dependencies only', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(3);
    const build = dockerfile.stages.find((s) => runs(s).some((r) => /\bnpm run build\b/.test(r)));
    expect(build, 'a stage runs npm run build').toBeDefined();
    expect(runs(build as Stage).some((r) => /\bnpm ci\b/.test(r) && !/--omit=dev/.test(r))).toBe(true);
    const prodDeps = dockerfile.stages.find((s) => runs(s).some((r) => /\bnpm ci\b.*--omit=dev/.test(r)));
    expect(prodDeps, 'a stage runs npm ci --omit=dev').toBeDefined();
    expect(prodDeps).not.toBe(runtime);

    // The runtime image gets dist/ from the build and node_modules from the production-only install.
    const copies = copiesFrom(runtime);
    expect(copies.find((c) => c.src.endsWith('/dist'))?.from).toBe(build?.name);
    expect(copies.find((c) => c.src.endsWith('/node_modules'))?.from).toBe(prodDeps?.name);
  });

  it('runs on Node 22 LTS (distroless nodejs22 or node:22-slim), built with the same major', () => {
    expect(runtime.image).toMatch(
      /^(gcr\.io\/distroless\/nodejs22-debian\d+(:[\w.-]+)?|node:22[\w.-]*-slim)(@sha256:[a-f0-9]{64})?$/,
    );
    for (const stage of dockerfile.stages.slice(0, -1))
      expect(nodeMajor(stage.image), stage.name).toBe(nodeMajor(runtime.image));
  });

  it('runs as a numeric non-root user, which Kubernetes runAsNonRoot can verify', () => {
    const user = last(runtime, 'USER')?.args ?? '';
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(Number(user.split(':')[0])).toBeGreaterThan(0);
  });

  it('starts `node dist/main.js serve` in exec form, so node is PID 1 and gets SIGTERM', () => {
    const cmd = execForm(last(runtime, 'CMD')?.args ?? '');
    expect(cmd).toEqual(['dist/main.js', SERVE.name]);
    const entrypoint = last(runtime, 'ENTRYPOINT');
    if (entrypoint) expect(execForm(entrypoint.args)).toBeDefined();
    // Without an ENTRYPOINT of our own the base image's must be node itself, which distroless nodejs is.
    else expect(runtime.image).toMatch(/distroless\/nodejs/);
    expect(last(runtime, 'WORKDIR')?.args).toBe('/app');
  });

  it('never starts through npm (npm would be PID 1 and swallow SIGTERM)', () => {
    for (const instruction of parseInstructions(readFileSync(path.join(REPO, 'Dockerfile'), 'utf8'))) {
      if (instruction.keyword === 'CMD' || instruction.keyword === 'ENTRYPOINT') {
        expect(instruction.args).not.toMatch(/\bnpm\b/);
      }
      expect(instruction.args).not.toMatch(/npm start/);
    }
  });

  it('copies package.json into the runtime image: its "type": "module" makes dist/*.js ESM', () => {
    const copies = all(runtime, 'COPY').filter((c) => !c.args.includes('--from='));
    expect(copies.some((c) => c.args.split(/\s+/).includes('package.json'))).toBe(true);
  });

  it('has no RUN in the runtime stage (distroless has no shell) and sets NODE_ENV=production', () => {
    expect(runs(runtime)).toEqual([]);
    expect(all(runtime, 'ENV').map((e) => e.args)).toContain('NODE_ENV=production');
  });

  it('exposes the webhook and admin ports that serve listens on by default', () => {
    const exposed = all(runtime, 'EXPOSE').flatMap((e) => e.args.split(/\s+/));
    const port = SERVE.flags.find((f) => f.name === 'port')?.default;
    const admin = SERVE.flags.find((f) => f.name === 'admin-port')?.default;
    expect(exposed.sort()).toEqual([port, admin].sort());
    expect(exposed).toEqual(expect.arrayContaining(['8080', '9090']));
  });

  it('carries the OCI image labels', () => {
    const labels = Object.assign({}, ...all(runtime, 'LABEL').map((l) => parseLabels(l.args))) as Record<
      string,
      string
    >;
    for (const key of ['title', 'description', 'source', 'licenses', 'version', 'revision']) {
      expect(labels[`org.opencontainers.image.${key}`], key).toBeTruthy();
    }
    expect(labels['org.opencontainers.image.licenses']).toBe(pkg.license);
  });

  it('copies only build-context files that exist and that .dockerignore keeps', () => {
    for (const stage of dockerfile.stages) {
      for (const copy of all(stage, 'COPY').filter((c) => !c.args.includes('--from='))) {
        const sources = copy.args
          .split(/\s+/)
          .filter((w) => !w.startsWith('--'))
          .slice(0, -1);
        for (const source of sources) {
          expect(existsSync(path.join(REPO, source)), `${source} exists`).toBe(true);
          expect(isIgnored(ignore, source), `${source} is not in .dockerignore`).toBe(false);
        }
      }
    }
  });
});

describe('.dockerignore', () => {
  it.each(['node_modules', '.git', 'test', 'dist', 'helm', 'coverage', '.tools'])('excludes %s', (entry) => {
    expect(isIgnored(ignore, entry)).toBe(true);
    expect(isIgnored(ignore, `${entry}/some/file`)).toBe(true);
  });

  it('excludes local secrets and logs anywhere in the tree', () => {
    for (const file of ['.env', 'src/.env', 'deep/dir/.env.local', 'npm-debug.log', 'src/x.log']) {
      expect(isIgnored(ignore, file), file).toBe(true);
    }
  });
});

describe('test/docker/dockerfile.ts reads Dockerfile syntax', () => {
  it('joins continuation lines, skips comments and resolves global ARGs in FROM', () => {
    const parsed = parseDockerfile(
      [
        '# syntax=docker/dockerfile:1',
        'ARG BASE=node:22-slim',
        'FROM ${BASE} AS one',
        'RUN a \\',
        '  && b',
        'FROM one',
        'CMD node x.js',
      ].join('\n'),
    );
    expect(parsed.stages.map((s) => [s.image, s.name])).toEqual([
      ['node:22-slim', 'one'],
      ['one', undefined],
    ]);
    expect(parsed.stages[0]?.instructions).toEqual([{ keyword: 'RUN', args: 'a && b', line: 4 }]);
    expect(execForm(parsed.stages[1]?.instructions[0]?.args ?? '')).toBeUndefined();
  });

  it('reads quoted LABEL pairs and .dockerignore patterns with negation and **', () => {
    expect(parseLabels('a="x y" b=z c=\'q\'')).toEqual({ a: 'x y', b: 'z', c: 'q' });
    const patterns = ['**/*.log', 'docs', '!docs/keep.md', '/dist/'];
    expect([
      isIgnored(patterns, 'a/b.log'),
      isIgnored(patterns, 'docs/x.md'),
      isIgnored(patterns, 'docs/keep.md'),
    ]).toEqual([true, true, false]);
    expect([isIgnored(patterns, 'dist/main.js'), isIgnored(patterns, 'src/dist.ts')]).toEqual([true, false]);
  });
});
