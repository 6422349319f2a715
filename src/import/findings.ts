// What `import` tells the user about the conversion, as values: the command prints them on stderr and
// the exit code is read from them (3 when anything was left out).
import { describeOrigin, originLocation, type Origin } from './tekton.js';

/**
 * - `left-out`: something the Tekton objects did that the output does not do (the exit code becomes 3);
 * - `warning`: carried over, but the behaviour differs or needs the user's action;
 * - `note`: dropped because the gateway does it differently (the listener's own pod, RBAC…).
 */
export type FindingLevel = 'left-out' | 'warning' | 'note';

export interface Finding {
  readonly level: FindingLevel;
  /** `EventListener flask-app/flask-app-dev, trigger event-dev-branch`. */
  readonly subject: string;
  /** `FILE:LINE` of the source object, when there is one. */
  readonly at: string | undefined;
  readonly message: string;
  readonly suggestion: string | undefined;
}

/** What a finding is about: an object, an object with a more precise subject, or just a subject. */
export type About = Origin | { readonly origin: Origin; readonly subject: string } | string;

/** Collects findings for one conversion; each mapping step reports through it. */
export class Findings {
  readonly list: Finding[] = [];

  add(level: FindingLevel, about: About, message: string, suggestion?: string, detail?: string): void {
    let subject: string;
    let at: string | undefined;
    if (typeof about === 'string') {
      subject = about;
    } else if ('subject' in about) {
      subject = about.subject;
      at = originLocation(about.origin);
    } else {
      subject = describeOrigin(about);
      at = originLocation(about);
    }
    this.list.push({
      level,
      subject: detail === undefined ? subject : `${subject}, ${detail}`,
      at,
      message,
      suggestion,
    });
  }

  leftOut(about: About, message: string, suggestion?: string, detail?: string): void {
    this.add('left-out', about, message, suggestion, detail);
  }

  warn(about: About, message: string, suggestion?: string, detail?: string): void {
    this.add('warning', about, message, suggestion, detail);
  }

  note(about: About, message: string, suggestion?: string, detail?: string): void {
    this.add('note', about, message, suggestion, detail);
  }
}

const ORDER: Record<FindingLevel, number> = { 'left-out': 0, warning: 1, note: 2 };

/** Left-out items first, then warnings, then notes; within a level, in the order they were found. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return findings
    .map((f, i) => ({ f, i }))
    .sort((a, b) => ORDER[a.f.level] - ORDER[b.f.level] || a.i - b.i)
    .map(({ f }) => f);
}

export function formatFinding(f: Finding): string {
  const head = `${f.level}: ${f.subject}${f.at === undefined ? '' : ` (${f.at})`}: ${f.message}`;
  return f.suggestion === undefined ? head : `${head}\n  suggestion: ${f.suggestion}`;
}
