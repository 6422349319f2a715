// The v2 settings that follow created runs (contract §12.1–§12.3, §12.0 items 1, 4, 6, 7), resolved per
// trigger at load: precedence (trigger, route, gateway), defaults per provider, and the load errors with
// their locations. The loader calls it once per trigger after the schema check.
import type {
  BindingExpression,
  Concurrency,
  Keep,
  ProviderName,
  SecretRef,
  StatusConfig,
  StatusHost,
  Template,
} from '../model.js';
import { BindingSyntaxError, compileBindingValue } from '../pipeline/expressions.js';
import type { PathSegment } from './schema-dsl.js';

type Obj = Record<string, unknown>;
type Report = (path: readonly PathSegment[], message: string) => void;

export interface FollowInput {
  readonly provider: ProviderName | undefined;
  readonly routeSpec: Obj;
  readonly triggerSpec: Obj;
  readonly routeAt: readonly PathSegment[];
  readonly triggerAt: readonly PathSegment[];
  readonly gatewayKeep: Keep | undefined;
  readonly template: Template;
  /** Origins status calls may go to (§12.0 item 4); undefined: not checked (validate without the flag). */
  readonly statusOrigins: readonly string[] | undefined;
  readonly hasDashboard: boolean;
}

export interface FollowSettings {
  readonly keep: Keep | undefined;
  readonly concurrency: Concurrency | undefined;
  readonly status: StatusConfig | undefined;
}

const obj = (v: unknown): Obj | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined;
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const DEFAULT_API: Partial<Record<StatusHost, string>> = {
  github: 'https://api.github.com',
  gitlab: 'https://gitlab.com/api/v4',
  'bitbucket-cloud': 'https://api.bitbucket.org/2.0',
};

export function keepOf(spec: unknown): Keep | false | undefined {
  if (spec === undefined) return undefined;
  if (spec === false) return false;
  if (typeof spec === 'number') return { total: spec };
  const o = obj(spec);
  if (!o) return undefined;
  const n = (v: unknown) => (typeof v === 'number' ? v : undefined);
  return { successful: n(o['successful']), failed: n(o['failed']) };
}

/** Whether a template renders a run that §12 follows (a tekton.dev PipelineRun or TaskRun). */
function rendersRun(template: Template): boolean {
  return template.resourcetemplates.some((rt) => {
    const apiVersion = String(rt['apiVersion'] ?? '');
    return apiVersion.startsWith('tekton.dev/') && (rt['kind'] === 'PipelineRun' || rt['kind'] === 'TaskRun');
  });
}

function binding(
  text: string | undefined,
  at: readonly PathSegment[],
  report: Report,
): BindingExpression | undefined {
  if (text === undefined) return undefined;
  try {
    return compileBindingValue(text);
  } catch (error) {
    if (!(error instanceof BindingSyntaxError)) throw error;
    report(at, error.message);
    return undefined;
  }
}

function secretRef(v: unknown): SecretRef | undefined {
  const o = obj(v);
  const secretName = str(o?.['secretName']);
  const secretKey = str(o?.['secretKey']);
  return secretName && secretKey ? { secretName, secretKey } : undefined;
}

export function compileFollow(input: FollowInput, report: Report): FollowSettings {
  const { triggerSpec: t, routeSpec: r, triggerAt, routeAt } = input;
  // keep: trigger, then route, then gateway; false turns an inherited keep off.
  const own = keepOf(t['keep']);
  const routeKeep = keepOf(r['keep']);
  const resolved = own !== undefined ? own : routeKeep !== undefined ? routeKeep : input.gatewayKeep;
  const keep = resolved === false ? undefined : resolved;

  let concurrency: Concurrency | undefined;
  const c = obj(t['concurrency']);
  if (c) {
    const key = binding(str(c['key']), [...triggerAt, 'concurrency', 'key'], report);
    const limit = typeof c['limit'] === 'number' ? c['limit'] : undefined;
    const cancelInProgress = c['cancelInProgress'] === true;
    if (cancelInProgress && limit !== undefined && limit !== 1) {
      report([...triggerAt, 'concurrency', 'limit'], 'with cancelInProgress, limit must be 1 (§12.0 item 7)');
    }
    if (key) concurrency = { key, cancelInProgress, limit };
  }

  const statusSpec = t['status'] !== undefined ? t['status'] : r['status'];
  const statusAt = t['status'] !== undefined ? [...triggerAt, 'status'] : [...routeAt, 'status'];
  const status = statusSpec === false ? undefined : compileStatus(obj(statusSpec), statusAt, input, report);

  if ((keep && (t['keep'] !== undefined || r['keep'] !== undefined)) || concurrency || status) {
    if (!rendersRun(input.template)) {
      const which = concurrency ? 'concurrency' : status ? 'status' : 'keep';
      report(
        triggerAt,
        `${which} needs a template that renders a tekton.dev PipelineRun or TaskRun (§12.0 item 1)`,
      );
    }
  }
  return { keep, concurrency, status };
}

function compileStatus(
  s: Obj | undefined,
  at: readonly PathSegment[],
  input: FollowInput,
  report: Report,
): StatusConfig | undefined {
  if (!s) return undefined;
  const provider = input.provider;
  let host: StatusHost | undefined;
  switch (provider) {
    case 'github':
    case 'gitlab':
      host = provider;
      break;
    case 'gitea':
    case 'forgejo':
      host = 'gitea';
      break;
    case 'bitbucket': {
      const flavor = str(s['flavor']);
      if (flavor === undefined) report(at, 'provider bitbucket needs status.flavor: cloud or datacenter');
      host = flavor === 'datacenter' ? 'bitbucket-datacenter' : 'bitbucket-cloud';
      break;
    }
    default:
      report(at, `provider ${provider ?? '(none)'} has no commit status API; remove status`);
      return undefined;
  }
  if (s['flavor'] !== undefined && provider !== 'bitbucket')
    report([...at, 'flavor'], 'is only for provider bitbucket');
  const tokenRef = secretRef(s['tokenRef']);
  const appSpec = obj(s['app']);
  const app =
    appSpec && typeof appSpec['id'] === 'number' && secretRef(appSpec['privateKeyRef'])
      ? { id: appSpec['id'], privateKeyRef: secretRef(appSpec['privateKeyRef'])! }
      : undefined;
  const basic = obj(s['basicAuthRef']);
  const basicAuthRef =
    basic && secretRef(basic['usernameRef']) && secretRef(basic['passwordRef'])
      ? { usernameRef: secretRef(basic['usernameRef'])!, passwordRef: secretRef(basic['passwordRef'])! }
      : undefined;
  if (appSpec && host !== 'github') report([...at, 'app'], 'a GitHub App is for provider github only');
  if (basic && host !== 'bitbucket-cloud') report([...at, 'basicAuthRef'], 'is for Bitbucket Cloud only');
  const credentials = [tokenRef, appSpec, basic].filter((x) => x !== undefined).length;
  if (credentials !== 1)
    report(at, 'needs exactly one of tokenRef, app (github) or basicAuthRef (Bitbucket Cloud)');

  const given = str(s['apiURL']);
  const apiURL = (given ?? DEFAULT_API[host] ?? '').replace(/\/+$/, '');
  if (apiURL === '') {
    report(at, `needs apiURL: ${host} has no public default (e.g. https://HOST/api/v1)`);
  } else {
    let url: URL | undefined;
    try {
      url = new URL(apiURL);
    } catch {
      report([...at, 'apiURL'], `"${apiURL}" is not a URL`);
    }
    if (url && input.statusOrigins !== undefined && !originAllowed(url, input.statusOrigins)) {
      report(
        given ? [...at, 'apiURL'] : at,
        `${url.origin} is not in --status-api-origins (STATUS_API_ORIGINS); status calls go only to listed origins`,
      );
    }
  }
  const targetURL = str(s['targetURL']);
  if (host.startsWith('bitbucket') && targetURL === undefined && !input.hasDashboard) {
    report(at, 'Bitbucket requires a link: set targetURL or gateway.dashboardURL');
  }
  return {
    host,
    tokenRef,
    app,
    basicAuthRef,
    apiURL,
    context: str(s['context']),
    targetURL,
    repository: binding(str(s['repository']), [...at, 'repository'], report),
    commit: binding(str(s['commit']), [...at, 'commit'], report),
  };
}

/** §12.0 item 4: `scheme://host[:port]`; no port = any port; https only unless an http origin is listed. */
export function originAllowed(url: URL, origins: readonly string[]): boolean {
  return origins.some((origin) => {
    let o: URL;
    try {
      o = new URL(origin);
    } catch {
      return false;
    }
    if (o.protocol !== url.protocol || o.hostname !== url.hostname) return false;
    return o.port === '' || o.port === url.port;
  });
}
