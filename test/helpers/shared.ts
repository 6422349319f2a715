// Paths and readers shared by the suites: the repository root and the recorded fixtures under test/fixtures
// (test/fixtures/README.md says where each came from and under which licence). Everything a test reads lives
// inside the repository, so a fresh clone passes on its own (test/repo/self-contained.test.ts guards it).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const fixturesDir = fileURLToPath(new URL('../fixtures/', import.meta.url));

export function fixturePath(relative: string): string {
  return `${fixturesDir}${relative}`;
}

export function readFixture(relative: string): Buffer {
  return readFileSync(fixturePath(relative));
}

/** A payload from test/fixtures/payloads/<provider>/<file> (go-playground/webhooks, MIT), byte for byte. */
export function payload(relative: string): Buffer {
  return readFixture(`payloads/${relative}`);
}

export interface VectorFile<V> {
  readonly meta: unknown;
  readonly vectors: readonly V[];
}

/** The vectors of test/fixtures/vectors/<name> (transcribed from tektoncd/triggers' tests, Apache-2.0). */
export function vectors<V>(name: string): readonly V[] {
  return (JSON.parse(readFixture(`vectors/${name}`).toString()) as VectorFile<V>).vectors;
}

/**
 * Tekton's binding and template values are JSON-escaped text (`a"b` is `a\"b`); ours are the decoded
 * string (test/fixtures/vectors/README.md). This is the string a JSON document containing the text would hold.
 */
export function decodeTektonText(text: string): string {
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return text;
  }
}
