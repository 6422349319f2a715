// `import` of the CronJob pattern (issue #18, contract §13): a Kubernetes CronJob whose container `curl`s
// an EventListener (`el-<listener>[.<ns>[.svc[.cluster.local]]][:port]`, as tektoncd/triggers'
// examples/*/cron do) becomes a schedule that runs the listener's triggers with the curled body, when that
// body is a literal JSON object. What cannot be carried over is reported, never guessed: a body read from a
// file or built by the shell, a listener not in the input, a trigger whose filter, events or overlays
// decided per request (a schedule has no request to decide on).
import type { JsonObject } from '../model.js';
import type { DocBindingEntry, DocRoute, DocTemplate } from './document.js';
import type { Findings } from './findings.js';
import { arr, obj, str, type Obj } from './loose.js';
import type { Origin } from './tekton.js';

export interface CronJobObject {
  readonly origin: Origin;
  readonly schedule: string;
  readonly timeZone: string | undefined;
  readonly startingDeadlineSeconds: number | undefined;
  readonly suspended: boolean;
  /** The first container command line that runs curl, as words. */
  readonly curl: readonly string[] | undefined;
}

export interface DocSchedule {
  readonly name: string;
  readonly cron: string;
  readonly timeZone: string | undefined;
  readonly namespace: string | undefined;
  readonly serviceAccountName: string | undefined;
  readonly body: JsonObject;
  readonly bindings: readonly DocBindingEntry[];
  readonly template: string | DocTemplate;
  readonly startingDeadlineSeconds: number | undefined;
  readonly comment: readonly string[];
  readonly origin: Origin;
}

export function isCronJob(apiVersion: string, kind: string): boolean {
  return kind === 'CronJob' && apiVersion.startsWith('batch/');
}

export function readCronJob(o: Obj, origin: Origin): CronJobObject {
  const spec = obj(o.spec) ?? {};
  let schedule = str(spec.schedule) ?? '';
  let timeZone = str(spec.timeZone);
  // `CRON_TZ=Europe/Berlin 0 3 * * *`: the zone prefix Kubernetes accepted before spec.timeZone.
  const prefixed = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(schedule);
  if (prefixed) {
    timeZone ??= prefixed[1];
    schedule = prefixed[2]!;
  }
  const deadline = spec.startingDeadlineSeconds;
  const pod = obj(obj(obj(obj(spec.jobTemplate)?.spec)?.template)?.spec) ?? {};
  let curl: string[] | undefined;
  for (const c of arr(pod.containers) ?? []) {
    const container = obj(c) ?? {};
    const words = [...(arr(container.command) ?? []), ...(arr(container.args) ?? [])].filter(
      (w): w is string => typeof w === 'string',
    );
    curl = curlWords(words);
    if (curl) break;
  }
  return {
    origin,
    schedule,
    timeZone,
    startingDeadlineSeconds: typeof deadline === 'number' ? deadline : undefined,
    suspended: spec.suspend === true,
    curl,
  };
}

/** The words from `curl` on, whether exec form or `sh -c "… curl …"`. */
function curlWords(words: readonly string[]): string[] | undefined {
  const shell = words.findIndex((w, i) => /(^|\/)(ba|da|a)?sh$/.test(w) && words[i + 1] === '-c');
  const argv = shell >= 0 && words[shell + 2] !== undefined ? shellWords(words[shell + 2]!) : [...words];
  if (argv === undefined) return undefined;
  const at = argv.findIndex((w) => /(^|\/)curl$/.test(w));
  return at < 0 ? undefined : argv.slice(at);
}

/**
 * A shell command line split into words: quotes and backslashes as sh reads them; anything the shell
 * would compute ($VAR, $(…), backquotes, pipes, redirections) makes the line unreadable for us.
 */
function shellWords(line: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) return undefined;
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === '"') {
      let text = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === '\\' && '"\\$`'.includes(line[j + 1] ?? '')) text += line[++j];
        else if (line[j] === '$' || line[j] === '`') return undefined;
        else text += line[j];
      }
      if (j >= line.length) return undefined;
      word = (word ?? '') + text;
      i = j;
    } else if (c === '\\') {
      if (line[i + 1] === '\n') i++;
      else word = (word ?? '') + (line[++i] ?? '');
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ('$`|&;<>()'.includes(c)) {
      // `;`, `&&` and the like end the curl command: what follows is another command.
      if (';&|'.includes(c) && words.some((w) => /(^|\/)curl$/.test(w))) break;
      if (c === '$' || c === '`' || c === '<' || c === '>' || c === '(' || c === ')') return undefined;
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** curl options that take a value (the ones a CronJob plausibly uses); others are switches. */
const WITH_VALUE = new Set([
  '-X',
  '--request',
  '-H',
  '--header',
  '-d',
  '--data',
  '--data-raw',
  '--data-binary',
  '--data-ascii',
  '--json',
  '-o',
  '--output',
  '-u',
  '--user',
  '-A',
  '--user-agent',
  '-m',
  '--max-time',
  '--connect-timeout',
  '--retry',
  '--retry-delay',
  '--retry-max-time',
  '-w',
  '--write-out',
  '--cacert',
  '-E',
  '--cert',
  '--key',
  '-e',
  '--referer',
  '--url',
]);
const DATA = new Set(['-d', '--data', '--data-raw', '--data-binary', '--data-ascii', '--json']);

interface CurlCall {
  readonly url: string | undefined;
  readonly data: string[];
}

function parseCurl(words: readonly string[]): CurlCall {
  let url: string | undefined;
  const data: string[] = [];
  for (let i = 1; i < words.length; i++) {
    const w = words[i]!;
    const eq = w.startsWith('--') ? w.indexOf('=') : -1;
    const flag = eq > 0 ? w.slice(0, eq) : w;
    // `-dVALUE` and `-XPOST`: a short option with its value attached.
    const attached = /^-[dXHo]./.test(w) && !w.startsWith('--') ? w.slice(0, 2) : undefined;
    if (attached) {
      if (DATA.has(attached)) data.push(w.slice(2));
    } else if (WITH_VALUE.has(flag)) {
      const value = eq > 0 ? w.slice(eq + 1) : words[++i];
      if (value === undefined) break;
      if (DATA.has(flag)) data.push(value);
      if (flag === '--url') url ??= value;
    } else if (!w.startsWith('-')) {
      url ??= w;
    }
  }
  return { url, data };
}

const LISTENER_URL =
  /^(?:https?:\/\/)?el-([a-z0-9]([-a-z0-9]*[a-z0-9])?)(?:\.([a-z0-9]([-a-z0-9]*[a-z0-9])?))?(?:\.svc(?:\.cluster\.local)?)?\.?(?::\d+)?(?:\/[^?#]*)?(?:[?#].*)?$/;

/** The CronJobs that curl an imported listener with a literal JSON object → schedules; the rest reported. */
export function buildSchedules(
  cronJobs: readonly CronJobObject[],
  routes: readonly DocRoute[],
  /** The document's reusable bindings, which a trigger's `{ref}` entries name. */
  named: ReadonlyMap<string, unknown>,
  findings: Findings,
  /**
   * A CronJob whose call a schedule cannot express (a body from a file, triggers that read the request) keeps
   * running: it is reported like any other caller of the old Service, with the gateway URL to call instead.
   */
  keepAsCaller: (job: CronJobObject) => void,
): DocSchedule[] {
  const out: DocSchedule[] = [];
  const names = new Set<string>();
  for (const job of cronJobs) {
    const about = job.origin;
    if (!job.curl) {
      findings.note(about, 'skipped: no container of this CronJob runs curl, so it does not call a listener');
      continue;
    }
    const call = parseCurl(job.curl);
    const target = call.url === undefined ? undefined : LISTENER_URL.exec(call.url);
    if (!target) {
      findings.note(
        about,
        `skipped: its curl calls ${call.url ?? 'no URL'}, not an EventListener service (el-<name>)`,
      );
      continue;
    }
    const listener = target[1]!;
    const namespace = target[3] ?? job.origin.namespace;
    const listenerRoutes = routes.filter(
      (r) =>
        r.origin.kind === 'EventListener' &&
        r.origin.name === listener &&
        (namespace === undefined || r.origin.namespace === undefined || r.origin.namespace === namespace),
    );
    if (listenerRoutes.length === 0) {
      findings.leftOut(
        about,
        `it calls EventListener ${listener}, which is not in the imported files (or was left out)`,
        'import the CronJob together with the listener it calls',
      );
      continue;
    }
    const body = literalBody(call.data);
    if (typeof body === 'string') {
      findings.note(
        about,
        `not made a schedule: its request body cannot become a schedule's body (${body}); write the JSON object under a schedule's body: by hand, or keep the CronJob`,
      );
      keepAsCaller(job);
      continue;
    }
    if (job.suspended) {
      findings.warn(
        about,
        'the CronJob is suspended; its schedule is imported and will run',
        'leave the schedule out of routes.yaml until it should run',
      );
    }
    const triggers = listenerRoutes.flatMap((r) => r.triggers.map((t) => ({ route: r, trigger: t })));
    // A slot has no request: a trigger that decides on it, or binds its headers or overlays, cannot be a
    // schedule. Then the CronJob stays and calls the gateway instead (keepAsCaller), which serves it as is.
    const blockers = triggers.flatMap(({ route, trigger }) => {
      const decides = [
        ...(trigger.filter.length > 0 ? ['a filter'] : []),
        ...(trigger.overlays.length > 0 ? ['overlays'] : []),
        ...(trigger.events !== undefined || route.events !== undefined ? ['an event list'] : []),
        ...(trigger.bindings.some((b) => bindingReadsRequest('ref' in b ? named.get(b.ref) : b))
          ? ['bindings that read request headers']
          : []),
      ];
      return decides.length > 0
        ? [`trigger ${trigger.name} of ${listener} has ${decides.join(' and ')}`]
        : [];
    });
    if (blockers.length > 0) {
      findings.note(
        about,
        `not made a schedule: ${blockers.join('; ')}, which a schedule cannot evaluate (a slot has no request); keep the CronJob, or add a schedule by hand`,
      );
      keepAsCaller(job);
      continue;
    }
    for (const { route, trigger } of triggers) {
      let name = triggers.length === 1 ? job.origin.name : `${job.origin.name}-${trigger.name}`;
      for (let n = 2; names.has(name); n++) name = `${job.origin.name}-${n}`;
      names.add(name);
      out.push({
        name,
        cron: job.schedule,
        timeZone: job.timeZone,
        namespace: trigger.namespace ?? route.namespace,
        serviceAccountName: trigger.serviceAccountName,
        body,
        bindings: trigger.bindings,
        template: trigger.template,
        // The contract's minimum is 60 s; a CronJob without one waits forever, 300 s is the gateway's default.
        startingDeadlineSeconds:
          job.startingDeadlineSeconds === undefined ? undefined : Math.max(60, job.startingDeadlineSeconds),
        comment: [
          `From CronJob ${describe(job.origin)}, which curled EventListener ${listener} (trigger ${trigger.name})`,
        ],
        origin: job.origin,
      });
    }
    findings.note(about, 'became a schedule: delete the CronJob once the gateway runs it');
  }
  return out;
}

function describe(origin: Origin): string {
  return `${origin.namespace === undefined ? '' : `${origin.namespace}/`}${origin.name}`;
}

/** The one literal JSON object curl sends, or why there is none. */
function literalBody(data: readonly string[]): JsonObject | string {
  if (data.length === 0)
    return 'it sends no body (-d); give the schedule an explicit body: {} if that is meant';
  if (data.length > 1) return 'it sends several -d parts, which curl joins with "&"';
  const text = data[0]!;
  if (text.startsWith('@')) return `it is read from a file (${text}) when the job runs`;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'it is not JSON';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return 'it is not a JSON object';
  return value as JsonObject;
}

/** Whether a binding entry reads `$(header…)` or `$(extensions…)`, which a schedule's slot never has. */
function bindingReadsRequest(binding: unknown): boolean {
  return /\$\((header|extensions)\b/.test(JSON.stringify(binding));
}
