// Paths into ../shared (the steering repo's reference data) and the fixtures.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const sharedDir = fileURLToPath(new URL('../../../shared/', import.meta.url));

export function sharedPath(relative: string): string {
  return `${sharedDir}${relative}`;
}

export function readShared(relative: string): Buffer {
  return readFileSync(sharedPath(relative));
}

/** A payload from ../shared/fixtures/payloads/<provider>/<file> (go-playground/webhooks, MIT). */
export function payload(relative: string): Buffer {
  return readShared(`fixtures/payloads/${relative}`);
}

export interface VectorFile<V> {
  readonly meta: unknown;
  readonly vectors: readonly V[];
}

export function vectors<V>(name: string): readonly V[] {
  return (JSON.parse(readShared(`vectors/${name}`).toString()) as VectorFile<V>).vectors;
}

/**
 * Tekton's binding and template values are JSON-escaped text (`a"b` is `a\"b`); ours are the decoded
 * string (../shared/vectors/README.md). This is the string a JSON document containing the text would hold.
 */
export function decodeTektonText(text: string): string {
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return text;
  }
}
