// Load problems and how they print: `FILE:LINE:COL: <path>: <message>` (contract §2).
import type { LineCounter } from '../yaml.js';
import type { PathSegment } from './schema-dsl.js';

export interface Problem {
  /** 0-based offset into the file of the character the problem points at. */
  readonly offset: number;
  readonly path: readonly PathSegment[];
  readonly message: string;
}

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** `routes[0].triggers[1].filter`, `templates.build-image.resourcetemplates[0].kind`. */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (PLAIN_KEY.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out === '' ? '(document)' : out;
}

export function formatProblems(file: string, problems: readonly Problem[], lines: LineCounter): string[] {
  return [...problems]
    .sort((a, b) => a.offset - b.offset)
    .map((p) => {
      const { line, col } = lines.linePos(p.offset);
      return `${file}:${line}:${col}: ${formatPath(p.path)}: ${p.message}`;
    });
}
