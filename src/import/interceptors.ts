// A trigger's interceptor chain → what routes.yaml can say: the Git host check (provider, secretRef,
// events), CEL filters and overlays. Tekton runs the chain in order and passes each interceptor's extensions
// to the next; the gateway checks the event type, then every filter, then every overlay, all against the
// request alone. Chains whose meaning depends on that difference, or on an interceptor the gateway does
// not have, cannot be carried over: the result says why, and the trigger is left out.
import type { SecretRef } from '../model.js';
import { dropCompareSecretNamespace } from './compare-secret.js';
import type { FindingLevel } from './findings.js';
import { arr, obj, str } from './loose.js';
import type { InterceptorParam, InterceptorSpec } from './tekton.js';

export type GitHost = 'github' | 'gitlab' | 'bitbucket';

export interface MappedOverlay {
  readonly key: string;
  readonly expression: string;
}

export interface MappedChain {
  /** The Git host whose interceptor checked a secret; undefined when the chain checked no signature. */
  readonly verifier: { readonly provider: GitHost; readonly secretRef: SecretRef } | undefined;
  /** With a verifier: the event types it allowed (undefined = any). */
  readonly events: readonly string[] | undefined;
  readonly filters: readonly string[];
  readonly overlays: readonly MappedOverlay[];
  /** GitHub's addChangedFiles was on: `extensions.changed_files` will not exist. */
  readonly changedFiles: boolean;
}

export type ChainResult =
  | { readonly ok: true; readonly chain: MappedChain }
  | { readonly ok: false; readonly reason: string; readonly suggestion: string };

export type Report = (level: FindingLevel, message: string, suggestion?: string) => void;

/** The header each host's interceptor compared `eventTypes` with (canonical, as CEL's `header` holds it). */
const EVENT_HEADER: Record<GitHost, string> = {
  github: 'X-Github-Event',
  gitlab: 'X-Gitlab-Event',
  bitbucket: 'X-Event-Key',
};

export const CHANGED_FILES_READ =
  'reads extensions.changed_files, which only the GitHub interceptor set (addChangedFiles); the gateway does not ask GitHub for changed files';
/** The changed files of a push, from the payload: what the GitHub interceptor listed, for push events. */
export const CHANGED_FILES_EXPRESSION =
  "body.commits.map(c, c.added + c.modified + c.removed).flatten().join(',')";

/**
 * A filter or overlay that read `extensions.changed_files` cannot read an overlay instead: filters and
 * overlays run before overlays are set (contract §5). The working rewrite computes the list in place.
 */
export function changedFilesRewrite(source: string): string {
  return `for push events, compute the list in place: ${source.replaceAll('extensions.changed_files', `(${CHANGED_FILES_EXPRESSION})`)} (filters run before overlays, so an overlay would not be set yet); pull requests need the GitHub API`;
}

export const CHANGED_FILES_OVERLAY =
  "for push events, an overlay with key changed_files and expression body.commits.map(c, c.added + c.modified + c.removed).flatten().join(',') builds the list from the payload; pull requests need the GitHub API";

const celString = (s: string) => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

/** Whether an expression reads `extensions` (a word match; a false positive only makes import cautious). */
const readsExtensions = (source: string) => /\bextensions\b/.test(source);

export function mapInterceptors(interceptors: readonly InterceptorSpec[], report: Report): ChainResult {
  let host: GitHost | undefined;
  let secretRef: SecretRef | undefined;
  let events: string[] | undefined;
  /** Where, among the filters, the host's event check ran; used when it has no secret (see below). */
  let eventsAt = 0;
  const filters: string[] = [];
  const overlays: MappedOverlay[] = [];
  let extensionsSoFar = false;
  let changedFiles = false;

  for (const interceptor of interceptors) {
    if (interceptor.type === 'webhook') {
      return fail(
        `${interceptor.label} calls ${interceptor.target}, which may reject the request or rewrite its body; the gateway has no webhook interceptors`,
        'move the check into a CEL filter, or into the first task of the pipeline',
      );
    }
    if (interceptor.type === 'custom') {
      return fail(
        interceptor.refName === ''
          ? `${interceptor.label} names no interceptor`
          : `${interceptor.label} is a custom ${interceptor.refKind}; the gateway runs only the core interceptors' logic`,
        'express its check as a CEL filter, or move it into the first task of the pipeline',
      );
    }
    const params = interceptor.params;
    switch (interceptor.name) {
      case 'slack':
        return fail(
          `${interceptor.label} reads form-encoded Slack requests; the gateway accepts JSON bodies only`,
          'send Slack commands to a small adapter that posts JSON, or keep this listener',
        );
      case 'cel': {
        const result = celInterceptor(interceptor.label, params, extensionsSoFar, changedFiles, report);
        if (!result.ok) return result;
        filters.push(...result.filters);
        overlays.push(...result.overlays);
        if (result.overlays.length > 0) extensionsSoFar = true;
        break;
      }
      default: {
        const name = interceptor.name;
        if (host !== undefined && host !== name) {
          return fail(
            `the chain runs both the ${host} and the ${name} interceptor: no request passes both`,
            'keep one of them',
          );
        }
        if (host === undefined) eventsAt = filters.length;
        host = name;
        const p = lastParams(
          interceptor.label,
          params,
          ['secretRef', 'eventTypes', 'addChangedFiles', 'githubOwners'],
          report,
        );
        if (p.secretRef !== undefined) {
          const ref = obj(p.secretRef);
          const secretName = str(ref?.secretName);
          const secretKey = str(ref?.secretKey);
          if (secretName === undefined || secretKey === undefined) {
            return fail(
              `${interceptor.label} has a secretRef without secretName or secretKey, so Tekton rejected every request`,
              'give the secretRef both secretName and secretKey',
            );
          }
          if (str(ref?.namespace) !== undefined) {
            report(
              'warning',
              `${interceptor.label}: secretRef.namespace ${str(ref?.namespace)} is ignored; the gateway reads Secret ${secretName} from its secrets directory`,
            );
          }
          if (secretRef && (secretRef.secretName !== secretName || secretRef.secretKey !== secretKey)) {
            return fail(
              `the chain checks two different ${name} secrets (${secretRef.secretName}/${secretRef.secretKey} and ${secretName}/${secretKey}); a route checks one (or any of a rotation list)`,
              'keep one interceptor with the secret the Git host signs with',
            );
          }
          secretRef = { secretName, secretKey };
        }
        if (p.eventTypes !== undefined) {
          const list = (arr(p.eventTypes) ?? []).filter((e): e is string => typeof e === 'string');
          if (list.length === 0) {
            return fail(
              `${interceptor.label} allows an empty list of event types, so Tekton let no request through`,
              'list the event types the trigger is for',
            );
          }
          events = events === undefined ? list : events.filter((e) => list.includes(e));
          if (events.length === 0) {
            return fail(
              'the chain allows no event type: its interceptors allow disjoint lists',
              'list the event types the trigger is for',
            );
          }
        }
        if (name === 'github' && enabled(p.githubOwners)) {
          return fail(
            `${interceptor.label} has githubOwners on: only org or repo members and OWNERS may start pull request and comment builds; the gateway cannot ask GitHub`,
            "keep the owners check in the pipeline's first task, or filter in CEL on a fixed list, e.g. body.sender.login in ['alice', 'bob']",
          );
        }
        if (name === 'github' && enabled(p.addChangedFiles)) {
          changedFiles = true;
          extensionsSoFar = true;
        }
        break;
      }
    }
  }
  // A host interceptor without a secretRef checked nothing but the event type (Tekton reads the secret
  // only when one is named). The gateway verifies whenever a provider is named, so such a chain becomes
  // provider none, and the event type check a filter on the same header, where the interceptor ran.
  if (host !== undefined && secretRef === undefined && events !== undefined) {
    const header = EVENT_HEADER[host];
    filters.splice(eventsAt, 0, `header.canonical('${header}') in [${events.map(celString).join(', ')}]`);
  }
  return {
    ok: true,
    chain: {
      verifier: host !== undefined && secretRef !== undefined ? { provider: host, secretRef } : undefined,
      events: secretRef !== undefined ? events : undefined,
      filters,
      overlays,
      changedFiles,
    },
  };
}

function fail(reason: string, suggestion: string): ChainResult {
  return { ok: false, reason, suggestion };
}

function enabled(v: unknown): boolean {
  return obj(v)?.enabled === true;
}

/** Tekton turns the params list into a map, so for a repeated name the last value is the one it used. */
function lastParams(
  label: string,
  params: readonly InterceptorParam[],
  known: readonly string[],
  report: Report,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of params) {
    if (!known.includes(p.name)) {
      report('warning', `${label}: param "${p.name}" means nothing to this interceptor; it was ignored`);
      continue;
    }
    out[p.name] = p.value;
  }
  return out;
}

type CelResult =
  | { ok: true; filters: string[]; overlays: MappedOverlay[] }
  | { ok: false; reason: string; suggestion: string };

function celInterceptor(
  label: string,
  params: readonly InterceptorParam[],
  extensionsSoFar: boolean,
  changedFiles: boolean,
  report: Report,
): CelResult {
  const filters: string[] = [];
  const overlays: MappedOverlay[] = [];
  let filterParams = 0;
  let overlayParams = 0;
  for (const p of params) {
    if (p.name === 'filter') {
      filterParams++;
      if (typeof p.value !== 'string') {
        return {
          ok: false,
          reason: `${label}: a filter is not a string, so Tekton failed every request`,
          suggestion: 'write the filter as one CEL string',
        };
      }
      // Tekton skips an empty filter.
      if (p.value.trim() !== '') filters.push(p.value);
    } else if (p.name === 'overlays') {
      overlayParams++;
      for (const o of arr(p.value) ?? []) {
        const key = str(obj(o)?.key);
        const expression = str(obj(o)?.expression);
        if (key === undefined || expression === undefined) {
          return {
            ok: false,
            reason: `${label}: an overlay needs a key and an expression`,
            suggestion: 'complete or remove the overlay',
          };
        }
        overlays.push({ key, expression });
      }
    } else {
      report('warning', `${label}: param "${p.name}" means nothing to the CEL interceptor; it was ignored`);
    }
  }
  if (filterParams > 1) {
    report(
      'warning',
      `${label} has ${filterParams} filter params; Tekton turns params into a map and evaluated only the last one, the gateway requires all of them (a filter list)`,
      'check that the earlier filters still hold for the deliveries you expect; they are now enforced',
    );
  }
  if (overlayParams > 1) {
    report(
      'warning',
      `${label} has ${overlayParams} overlays params; Tekton used only the last list, the gateway evaluates them all`,
    );
  }
  const rewrite = (source: string, what: string): string => {
    const r = dropCompareSecretNamespace(source);
    if (r.dropped.length > 0) {
      report(
        'warning',
        `${label}: ${what} calls compareSecret with a namespace (${r.dropped.join(', ')}); the gateway reads secrets from its secrets directory, so the namespace argument was removed`,
        'mount the Secret into the gateway (the Helm chart mounts the Secrets routes name)',
      );
    }
    return r.source;
  };
  const outFilters = filters.map((f) => rewrite(f, `filter ${f}`));
  const outOverlays = overlays.map((o) => ({
    key: o.key,
    expression: rewrite(o.expression, `overlay ${o.key}`),
  }));
  if (extensionsSoFar) {
    const reader = [...outFilters, ...outOverlays.map((o) => o.expression)].find(readsExtensions);
    if (reader !== undefined && changedFiles && reader.includes('changed_files')) {
      return { ok: false, reason: `${label} ${CHANGED_FILES_READ}`, suggestion: changedFilesRewrite(reader) };
    }
    if (reader !== undefined) {
      return {
        ok: false,
        reason: `${label} reads extensions set by an earlier interceptor (${reader}); the gateway evaluates every filter and overlay against the request alone`,
        suggestion: "repeat the earlier overlay's expression inside this one instead of reading extensions",
      };
    }
  }
  return { ok: true, filters: outFilters, overlays: outOverlays };
}
