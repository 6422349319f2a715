// Tekton YAML files → routes.yaml text and the findings, as one pure function:
//   read (normalise both API versions) → build (listeners → routes, interceptors → provider/filters) →
//   write (YAML with comments) → load it with the gateway's own loader.
// The last step keeps the promise that the output always loads: anything the loader refuses (a CEL
// function the gateway lacks, a template namespace taken from the payload…) is removed from the document
// and reported as left out, and the document is written again.
import { reportCallers } from './callers.js';
import { loadConfigBytes } from '../config/load.js';
import type { PathSegment } from '../config/schema-dsl.js';
import { buildDocument } from './build.js';
import { buildSchedules } from './cronjob.js';
import type { DocRoute, DocTrigger, RoutesDocument } from './document.js';
import { Findings, sortFindings, type Finding } from './findings.js';
import { readTektonFiles, type InputFile } from './read.js';
import { writeRoutes } from './write.js';

export type { InputFile } from './read.js';

export interface ImportSummary {
  readonly routes: number;
  readonly triggers: number;
  readonly bindings: number;
  readonly templates: number;
  readonly schedules: number;
}

export type ImportResult =
  | {
      readonly ok: true;
      readonly yaml: string;
      readonly findings: readonly Finding[];
      /** False when something was left out (exit code 3). */
      readonly complete: boolean;
      readonly summary: ImportSummary;
    }
  /** Unreadable input, or nothing that could become a route (exit code 1). */
  | { readonly ok: false; readonly problems: readonly string[]; readonly findings: readonly Finding[] };

/** The name the self-check loads the output under; it appears only in internal messages. */
const OUTPUT = 'routes.yaml';

const HEADER = [
  'yaml-language-server: $schema=./routes.schema.json',
  '',
  'Written by `tekton-gateway import` from Tekton Triggers objects; each entry names the object it came from.',
  'The import report (stderr) lists what changed and what could not be carried over; docs/migrating.md explains it.',
];

export function importTekton(files: readonly InputFile[]): ImportResult {
  const findings = new Findings();
  const read = readTektonFiles(files, findings);
  if (!read.ok) return { ok: false, problems: read.problems, findings: findings.list };
  if (read.objects.listeners.length === 0) {
    return {
      ok: false,
      problems: ['no EventListener in the given files: import turns listeners into routes'],
      findings: sortFindings(findings.list),
    };
  }
  const doc = buildDocument(read.objects, findings);
  doc.schedules = buildSchedules(read.objects.cronJobs, doc.routes, doc.bindings, findings, (job) =>
    reportCallers(
      [{ origin: job.origin, texts: (job.curl ?? []).filter((w) => w.includes('el-')) }],
      read.objects.listeners,
      doc,
      findings,
    ),
  );
  // Each round removes at least one entry, so this ends; the bound only guards against a bug.
  for (let round = 0; round < 1000; round++) {
    if (doc.routes.length === 0) {
      return {
        ok: false,
        problems: ['nothing could be imported: every trigger was left out (see the report above)'],
        findings: sortFindings(findings.list),
      };
    }
    doc.header = [...HEADER, ...leftOutLines(findings.list)];
    const text = writeRoutes(doc);
    const loaded = loadConfigBytes(Buffer.from(text), OUTPUT);
    if (loaded.ok) {
      return {
        ok: true,
        yaml: text,
        findings: sortFindings(findings.list),
        complete: !findings.list.some((f) => f.level === 'left-out'),
        summary: {
          routes: doc.routes.length,
          triggers: doc.routes.reduce((n, r) => n + r.triggers.length, 0),
          bindings: doc.bindings.size,
          templates: doc.templates.size,
          schedules: doc.schedules.length,
        },
      };
    }
    if (!removeRefused(doc, loaded.problems, findings)) {
      throw new Error(`import wrote a routes.yaml it cannot load:\n${loaded.problems.join('\n')}`);
    }
  }
  throw new Error('import could not settle on a routes.yaml that loads');
}

function leftOutLines(findings: readonly Finding[]): string[] {
  const left = findings.filter((f) => f.level === 'left-out');
  if (left.length === 0) return [];
  return ['', `Left out (${left.length}):`, ...left.map((f) => `- ${f.subject}: ${f.message}`)];
}

// --- mapping the loader's problems back to entries ---------------------------------------------------

interface Refusal {
  readonly path: PathSegment[];
  readonly text: string;
}

/** `FILE:LINE:COL: <path>: <message>` → the path segments and `<path>: <message>`. */
export function parseProblem(line: string): Refusal | undefined {
  const m = /^[^:]*:\d+:\d+: (.*)$/s.exec(line);
  if (!m) return undefined;
  const text = m[1]!;
  if (text.startsWith('(document): ')) return { path: [], text };
  const path: PathSegment[] = [];
  let i = 0;
  const ident = /^[A-Za-z0-9_-]+/;
  const first = ident.exec(text);
  if (!first) return undefined;
  path.push(first[0]);
  i = first[0].length;
  for (;;) {
    const rest = text.slice(i);
    if (rest.startsWith(': ')) return { path, text };
    let n: RegExpExecArray | null;
    if ((n = /^\.([A-Za-z0-9_-]+)/.exec(rest))) path.push(n[1]!);
    else if ((n = /^\[(\d+)\]/.exec(rest))) path.push(Number(n[1]));
    else if ((n = /^\[("(?:[^"\\]|\\.)*")\]/.exec(rest))) path.push(JSON.parse(n[1]!) as string);
    else return undefined;
    i += n[0].length;
  }
}

/** Removes every entry a problem points into; false when a problem points at nothing removable. */
function removeRefused(doc: RoutesDocument, problems: readonly string[], findings: Findings): boolean {
  const routes = new Map<DocRoute, string>();
  const triggers = new Map<DocTrigger, string>();
  const templates = new Map<string, string>();
  const bindings = new Map<string, string>();
  const schedules = new Map<number, string>();
  for (const problem of problems) {
    const refusal = parseProblem(problem);
    if (!refusal) return false;
    const [section, a, b, c] = refusal.path;
    if (section === 'routes' && typeof a === 'number' && doc.routes[a]) {
      const route = doc.routes[a];
      if (b === 'triggers' && typeof c === 'number' && route.triggers[c]) {
        if (!triggers.has(route.triggers[c])) triggers.set(route.triggers[c], refusal.text);
      } else if (!routes.has(route)) routes.set(route, refusal.text);
    } else if (section === 'templates' && typeof a === 'string' && doc.templates.has(a)) {
      if (!templates.has(a)) templates.set(a, refusal.text);
    } else if (section === 'bindings' && typeof a === 'string' && doc.bindings.has(a)) {
      if (!bindings.has(a)) bindings.set(a, refusal.text);
    } else if (section === 'schedules' && typeof a === 'number' && doc.schedules[a]) {
      if (!schedules.has(a)) schedules.set(a, refusal.text);
    } else {
      return false;
    }
  }
  const fix =
    'fix the Tekton object (or the output) by hand; the message is what `tekton-gateway validate` says';
  for (const [key, text] of templates) {
    findings.leftOut(doc.templates.get(key)!.origin, `the gateway refuses it: ${text}`, fix);
    doc.templates.delete(key);
  }
  for (const [key, text] of bindings) {
    findings.leftOut(doc.bindings.get(key)!.origin, `the gateway refuses it: ${text}`, fix);
    doc.bindings.delete(key);
  }
  for (const [route, text] of routes) {
    findings.leftOut(route.origin, `route ${route.path}: the gateway refuses it: ${text}`, fix);
  }
  doc.routes = doc.routes.filter((r) => !routes.has(r));
  for (const route of doc.routes) {
    const keep: DocTrigger[] = [];
    for (const t of route.triggers) {
      const about = { origin: t.origin, subject: t.subject };
      const refused = triggers.get(t);
      const template = typeof t.template === 'string' && templates.has(t.template) ? t.template : undefined;
      const binding = t.bindings.find((e) => 'ref' in e && bindings.has(e.ref));
      if (refused !== undefined) findings.leftOut(about, `the gateway refuses it: ${refused}`, fix);
      else if (template !== undefined) findings.leftOut(about, `its template ${template} was left out`);
      else if (binding !== undefined && 'ref' in binding)
        findings.leftOut(about, `its binding ${binding.ref} was left out`);
      else keep.push(t);
    }
    route.triggers.splice(0, route.triggers.length, ...keep);
  }
  doc.routes = doc.routes.filter((r) => r.triggers.length > 0);
  for (const [i, text] of schedules) {
    findings.leftOut(
      doc.schedules[i]!.origin,
      `schedule ${doc.schedules[i]!.name}: the gateway refuses it: ${text}`,
      fix,
    );
  }
  doc.schedules = doc.schedules.filter((_, i) => !schedules.has(i));
  return true;
}
