// Normalised Tekton objects → the routes document. The decisions (docs/migrating.md explains them to users):
// - each Ingress path that sends traffic to `el-<listener>` becomes a route with that path; a listener no
//   Ingress reaches gets `/<listener name>`; several listeners behind one Ingress become several routes;
// - provider and secretRef belong to a route, while Tekton checks them per trigger. The triggers of one
//   listener are grouped by the check they ran; the first group keeps the listener's path and each other
//   group gets `<path>/<provider>` (a route per secret: a rotation list would let one sender's secret start
//   another sender's triggers);
// - a trigger whose chain checked no secret runs on a `provider: none` route, as unverified as before;
// - TriggerBindings (and ClusterTriggerBindings) and TriggerTemplates become `bindings:`/`templates:` under
//   their own names; objects of the same name with different content get `<namespace>/<name>`;
// - the listener's serviceAccountName (also when set only in its pod template) was the identity that created
//   the runs of every trigger without its own account: it becomes the route's serviceAccountName, so the
//   gateway impersonates it and each listener keeps its RBAC boundary; a Trigger's is the account Tekton
//   impersonated and becomes the trigger's serviceAccountName; Tekton created in the Trigger's namespace,
//   which becomes the route's (or the trigger's) namespace;
// - Secrets are namespaced in Tekton and not in the secrets directory: same-named Secrets of different
//   namespaces get distinct names in the output; compareSecret secrets (./compare-secret-report.ts), callers
//   of the old listener Services (./callers.ts) and accounts impersonated in another namespace
//   (./impersonation.ts) are reported; a template namespace bound to a literal is written as that literal
//   (./template-namespace.ts).
import type { JsonObject, JsonValue, ProviderName, SecretRef } from '../model.js';
import { TEKTON_KINDS } from '../config/tekton-kinds.js';
import type {
  DocBindingEntry,
  DocKind,
  DocRoute,
  DocTemplate,
  DocTrigger,
  RoutesDocument,
} from './document.js';
import type { Findings } from './findings.js';
import {
  CHANGED_FILES_OVERLAY,
  CHANGED_FILES_READ,
  mapInterceptors,
  type MappedChain,
} from './interceptors.js';
import { reportCallers } from './callers.js';
import { reportCompareSecrets } from './compare-secret-report.js';
import { warnImpersonationNamespaces } from './impersonation.js';
import { lookup, resolveListener, type ResolvedTrigger } from './resolve.js';
import { substituteNamespaceParams } from './template-namespace.js';
import {
  describeOrigin,
  type BindingObject,
  type IngressPath,
  type Listener,
  type Origin,
  type TektonObjects,
  type TemplateObject,
  type TemplateSpec,
} from './tekton.js';

/** The route path rule of routes.yaml (src/config/schema.ts). */
const ROUTE_PATH = /^\/([^\s?#]*[^\s?#/])?$/;
/** Characters that make an nginx Ingress path a regular expression (with the use-regex annotation). */
const REGEX_CHARS = /[()[\]{}*+?|^$\\]/;
const OLD_PARAM = /\$\(params\.([^)]*)\)/g;

export function buildDocument(objects: TektonObjects, findings: Findings): RoutesDocument {
  const bindingKeys = assignKeys(objects.bindings, (b) => b.params, findings, 'bindings');
  const templateKeys = assignKeys(objects.templates, (t) => t.spec, findings, 'templates');
  const doc: RoutesDocument = {
    header: [],
    kinds: undefined,
    bindings: new Map(),
    templates: new Map(),
    routes: [],
    schedules: [],
  };
  for (const b of objects.bindings) {
    const key = bindingKeys.get(b)!;
    if (!doc.bindings.has(key))
      doc.bindings.set(key, {
        params: b.params,
        comment: [`from ${describeOrigin(b.origin)}`],
        origin: b.origin,
      });
  }
  for (const t of objects.templates) {
    const key = templateKeys.get(t)!;
    if (doc.templates.has(key)) continue;
    warnOldParams(t.spec, t.origin, findings);
    doc.templates.set(key, { spec: t.spec, comment: [`from ${describeOrigin(t.origin)}`], origin: t.origin });
  }

  const paths = new PathClaims();
  for (const ip of objects.ingressPaths) {
    const path = normaliseIngressPath(ip.path).path;
    if (path !== undefined && objects.listeners.some((l) => leadsTo(ip, l))) paths.reserve(path);
  }
  const secrets = new Map<string, SecretRef & { namespace: string | undefined }>();
  const usedTriggers = new Set<Origin>();
  const lookups: Lookups = { objects, bindingKeys, templateKeys };
  for (const listener of objects.listeners) {
    listenerNotes(listener, findings);
    const resolved = resolveListener(listener, objects, findings);
    const groups = new Map<string, CheckGroup>();
    resolved.forEach((r, i) => {
      usedTriggers.add(r.origin);
      const mapped = mapTrigger(r, i, lookups, findings);
      if (!mapped) return;
      const v = mapped.chain.verifier;
      // Tekton read the Secret in the trigger's namespace: a same-named Secret elsewhere is another secret.
      const key = v
        ? `${v.provider}|${r.namespace ?? ''}|${v.secretRef.secretName}|${v.secretRef.secretKey}`
        : 'none';
      const group = groups.get(key) ?? { chain: mapped.chain, triggers: [], secretNamespace: r.namespace };
      group.triggers.push(mapped.trigger);
      groups.set(key, group);
      if (v)
        secrets.set(`${r.namespace ?? ''}|${v.secretRef.secretName}/${v.secretRef.secretKey}`, {
          ...v.secretRef,
          namespace: r.namespace,
        });
    });
    if (groups.size === 0) {
      // Every trigger was left out (already reported), or there were none.
      if (resolved.length === 0 && listener.triggers.length === 0 && listener.groups.length === 0) {
        findings.warn(listener.origin, 'has no triggers, so it has no route');
      }
      continue;
    }
    doc.routes.push(...listenerRoutes(listener, [...groups.values()], objects.ingressPaths, paths, findings));
  }
  for (const t of objects.triggers) {
    if (!usedTriggers.has(t.origin)) {
      findings.note(t.origin, 'no EventListener in the given files runs this Trigger, so it has no route');
    }
  }
  const renamed = distinctSecretNames([...secrets.values()]);
  doc.routes = doc.routes.map((route) => {
    const out =
      route.secretRef && renamed.get(`${route.secretNamespace ?? ''}|${route.secretRef.secretName}`);
    return out === undefined ? route : { ...route, secretRef: { ...route.secretRef!, secretName: out } };
  });
  for (const s of secrets.values()) {
    const out = renamed.get(`${s.namespace ?? ''}|${s.secretName}`);
    const source = `Secret ${s.namespace === undefined ? '' : `${s.namespace}/`}${s.secretName}`;
    if (out === undefined) {
      findings.note(
        source,
        `the gateway reads key ${s.secretKey} from $SECRETS_DIR/${s.secretName}/${s.secretKey}`,
        'mount the Secret into the gateway (the Helm chart mounts the Secrets that routes name)',
      );
    } else {
      findings.warn(
        source,
        `another namespace has a Secret named ${s.secretName} too, and the secrets directory has no namespaces: this one is secretName ${out} in the output, read from $SECRETS_DIR/${out}/${s.secretKey}`,
        `copy Secret ${s.namespace}/${s.secretName} into a Secret named ${out} in the gateway's namespace, key ${s.secretKey}, and mount it (the Helm chart mounts the Secrets that routes name)`,
      );
    }
  }
  if (doc.routes.length > 0) {
    findings.note(
      'created objects',
      'the label triggers.tekton.dev/eventlistener holds gateway.name (tekton-gateway), not the listener name; triggers.tekton.dev/trigger is unchanged',
      'select runs by triggers.tekton.dev/trigger',
    );
  }
  doc.routes.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  substituteNamespaceParams(doc, findings);
  warnImpersonationNamespaces(doc, (route) => route.origin.namespace, findings);
  reportCompareSecrets(doc, findings);
  reportCallers(objects.others ?? [], objects.listeners, doc, findings);
  doc.kinds = kindsFor(doc, findings);
  return doc;
}

/** Triggers of one listener that ran the same check (provider and secret): they share a route. */
interface CheckGroup {
  readonly chain: MappedChain;
  readonly triggers: DocTrigger[];
  readonly secretNamespace: string | undefined;
}

/**
 * `namespace|secretName` → the output name, for names used by Secrets of more than one namespace: each
 * becomes `<namespace>-<name>`, so one team's secret never verifies another team's route.
 */
function distinctSecretNames(
  secrets: readonly { secretName: string; namespace: string | undefined }[],
): Map<string, string> {
  const namespaces = new Map<string, Set<string>>();
  for (const s of secrets)
    namespaces.set(s.secretName, (namespaces.get(s.secretName) ?? new Set()).add(s.namespace ?? ''));
  const out = new Map<string, string>();
  for (const [name, set] of namespaces) {
    if (set.size < 2) continue;
    for (const ns of set) if (ns !== '') out.set(`${ns}|${name}`, `${ns}-${name}`.slice(0, 253));
  }
  return out;
}

/** A route per path the listener is reached at and per check group; the first group keeps the path. */
function listenerRoutes(
  listener: Listener,
  groups: readonly CheckGroup[],
  ingressPaths: readonly IngressPath[],
  paths: PathClaims,
  findings: Findings,
): DocRoute[] {
  const routes: DocRoute[] = [];
  for (const base of listenerPaths(listener, ingressPaths, paths, findings)) {
    groups.forEach((group, i) => {
      const provider: ProviderName = group.chain.verifier?.provider ?? 'none';
      const path = i === 0 ? base.path : paths.derive(base.path, provider);
      const comment = [...base.comment];
      if (i > 0) {
        comment.push(
          `split from ${base.path}: these triggers check ${checkName(group.chain)}, the others a different one`,
        );
        findings.warn(
          listener.origin,
          `its triggers check different secrets or Git hosts; the ones that check ${checkName(group.chain)} moved to route ${path}`,
          `point the Git host's webhook for ${group.triggers.map((t) => t.name).join(', ')} at ${path}`,
        );
      }
      if (provider === 'none') {
        comment.push(
          'provider none: the listener checked no signature for these triggers, and neither does this route',
        );
        findings.warn(
          listener.origin,
          `route ${path} checks no signature (provider none), as the listener did not`,
          'if the Git host signs its webhooks, set provider and secretRef on the route (docs/migrating.md)',
        );
      }
      routes.push({
        ...makeRoute(path, provider, group.chain, listener, group.triggers, comment, findings),
        secretNamespace: group.secretNamespace,
      });
    });
  }
  return routes;
}

function checkName(chain: MappedChain): string {
  const v = chain.verifier;
  return v ? `the ${v.provider} secret ${v.secretRef.secretName}/${v.secretRef.secretKey}` : 'no signature';
}

function makeRoute(
  path: string,
  provider: ProviderName,
  chain: MappedChain,
  listener: Listener,
  triggers: readonly DocTrigger[],
  comment: readonly string[],
  findings: Findings,
): DocRoute {
  // Events the host interceptor allowed: on the route when every trigger allowed the same list.
  const lists = triggers.map((t) => t.events);
  const same = lists.every((l) => l !== undefined && JSON.stringify(l) === JSON.stringify(lists[0]));
  const routeNamespace = listener.origin.namespace;
  return {
    path,
    provider,
    secretRef: chain.verifier?.secretRef,
    namespace: routeNamespace,
    serviceAccountName: listener.serviceAccountName,
    events: same ? lists[0] : undefined,
    triggers: uniqueNames(
      triggers.map((t) => ({
        ...t,
        events: same ? undefined : t.events,
        namespace: t.namespace === routeNamespace ? undefined : t.namespace,
      })),
      path,
      findings,
    ),
    comment,
    origin: listener.origin,
  };
}

/** Trigger names are unique within a route; Tekton allowed repeats (a Trigger selected twice runs twice). */
function uniqueNames(triggers: DocTrigger[], path: string, findings: Findings): DocTrigger[] {
  const seen = new Set<string>();
  return triggers.map((t) => {
    let name = t.name;
    for (let n = 2; seen.has(name); n++) name = `${t.name}-${n}`;
    seen.add(name);
    if (name === t.name) return t;
    findings.warn(
      { origin: t.origin, subject: t.subject },
      `route ${path} already has a trigger named ${t.name}; this one is ${name} (also its triggers.tekton.dev/trigger label)`,
    );
    return {
      ...t,
      name,
      comment: [...t.comment, `renamed from ${t.name}: the name is already used in this route`],
    };
  });
}

// --- one trigger ---------------------------------------------------------------------------------------

interface Lookups {
  readonly objects: TektonObjects;
  readonly bindingKeys: ReadonlyMap<BindingObject, string>;
  readonly templateKeys: ReadonlyMap<TemplateObject, string>;
}

function mapTrigger(
  r: ResolvedTrigger,
  index: number,
  lookups: Lookups,
  findings: Findings,
): { trigger: DocTrigger; chain: MappedChain } | undefined {
  const about = { origin: r.origin, subject: r.subject };
  const result = mapInterceptors(r.spec.interceptors, (level, message, suggestion) =>
    findings.add(level, about, message, suggestion),
  );
  if (!result.ok) {
    findings.leftOut(about, result.reason, result.suggestion);
    return undefined;
  }
  const chain = result.chain;

  const bindings: DocBindingEntry[] = [];
  const boundNames = new Set<string>();
  const bindingTexts: string[] = [];
  for (const entry of r.spec.bindings) {
    if (entry.type === 'invalid') {
      findings.leftOut(about, `${entry.reason}, so Tekton failed every request`, 'fix the binding');
      return undefined;
    }
    if (entry.type === 'param') {
      bindings.push({ name: entry.name, value: entry.value });
      boundNames.add(entry.name);
      bindingTexts.push(entry.value);
      continue;
    }
    const candidates = lookups.objects.bindings.filter((b) => b.origin.kind === entry.kind);
    const found =
      entry.kind === 'ClusterTriggerBinding'
        ? candidates.find((b) => b.origin.name === entry.ref)
        : lookup(candidates, r.namespace, entry.ref);
    if (!found) {
      findings.leftOut(
        about,
        `binding ${entry.kind} ${entry.ref} is not in the given files`,
        `add the file that defines ${entry.kind} ${entry.ref} to the import command`,
      );
      return undefined;
    }
    bindings.push({ ref: lookups.bindingKeys.get(found)! });
    for (const p of found.params) {
      boundNames.add(p.name);
      bindingTexts.push(p.value);
    }
  }

  let template: string | DocTemplate;
  let spec: TemplateSpec;
  if (r.spec.template.type === 'missing') {
    findings.leftOut(about, 'names no template, so Tekton created nothing', 'give the Trigger a template');
    return undefined;
  } else if (r.spec.template.type === 'inline') {
    spec = r.spec.template.spec;
    template = spec;
    warnOldParams(spec, r.origin, findings, r.subject);
  } else {
    const found = lookup(lookups.objects.templates, r.namespace, r.spec.template.ref);
    if (!found) {
      findings.leftOut(
        about,
        `TriggerTemplate ${r.spec.template.ref} is not in the given files`,
        `add the file that defines TriggerTemplate ${r.spec.template.ref} to the import command`,
      );
      return undefined;
    }
    spec = found.spec;
    template = lookups.templateKeys.get(found)!;
  }
  const unbound = spec.params
    .filter((p) => p.default === undefined && !boundNames.has(p.name))
    .map((p) => p.name);
  if (unbound.length > 0) {
    findings.leftOut(
      about,
      `binds no value for template param${unbound.length > 1 ? 's' : ''} ${unbound.join(', ')}, which ${unbound.length > 1 ? 'have' : 'has'} no default: Tekton created the objects with $(tt.params.${unbound[0]}) left in them, the gateway refuses such a trigger`,
      `bind ${unbound.join(', ')} in the trigger, or give the template param a default`,
    );
    return undefined;
  }
  if (chain.changedFiles) {
    if (bindingTexts.some((t) => t.includes('changed_files'))) {
      findings.leftOut(about, `a binding ${CHANGED_FILES_READ}`, CHANGED_FILES_OVERLAY);
      return undefined;
    }
    findings.leftOut(
      about,
      'addChangedFiles was on: the gateway does not ask GitHub for changed files, so extensions.changed_files is not set (nothing in this trigger reads it)',
      'remove addChangedFiles from the Tekton trigger if nothing else needed it',
    );
  }

  let name = r.name;
  if (name === undefined) {
    name = `${r.listener.origin.name}-${index + 1}`;
    findings.warn(
      about,
      `has no name; it is called ${name}, which is also its triggers.tekton.dev/trigger label`,
    );
  }
  return {
    chain,
    trigger: {
      name,
      events: chain.events,
      filter: chain.filters,
      overlays: chain.overlays,
      bindings,
      template,
      namespace: r.namespace,
      serviceAccountName: r.spec.serviceAccountName,
      comment: [`from ${r.subject}`],
      subject: r.subject,
      origin: r.origin,
    },
  };
}

// --- listener-level settings ---------------------------------------------------------------------------

function listenerNotes(listener: Listener, findings: Findings): void {
  const el = listener.origin;
  if (listener.serviceAccountName !== undefined) {
    findings.note(
      el,
      `serviceAccountName ${listener.serviceAccountName}${listener.serviceAccountInPodTemplate ? ' (set in its pod template)' : ''} created the runs of every trigger without its own account; the route carries it as serviceAccountName, so the gateway impersonates system:serviceaccount:<namespace>:${listener.serviceAccountName} and keeps this listener's RBAC boundary`,
      `keep that account's Role (create on the run kinds) where the runs land; the gateway needs only impersonate on it (the Helm chart grants it from routes.yaml)`,
    );
  }
  if (listener.tlsSecret !== undefined) {
    findings.warn(
      el,
      `served HTTPS itself (TLS_CERT/TLS_KEY from Secret ${listener.tlsSecret}, port 8443); the gateway serves plain HTTP on port 8080`,
      `change in-cluster callers of https://el-${el.name}.${el.namespace ?? '<namespace>'}.svc.cluster.local:8443 to the gateway Service's http URL, or terminate TLS at the Ingress (helm ingress.tls) or a service mesh`,
    );
  }
  if (listener.hasResources) {
    findings.note(
      el,
      "resources/podTemplate configured the listener's own Deployment and Service; the gateway's come from its Helm chart",
    );
  }
  if (listener.cloudEventURI !== undefined) {
    findings.leftOut(
      el,
      `cloudEventURI ${listener.cloudEventURI}: the gateway sends no lifecycle CloudEvents`,
      "use Tekton Pipelines' CloudEvents for run status (config-defaults default-cloud-events-sink)",
    );
  }
  if (!listener.payloadValidation) {
    findings.warn(
      el,
      'payload validation was off (tekton.dev/payload-validation: "false"); the gateway accepts JSON object bodies only',
    );
  }
}

// --- paths -----------------------------------------------------------------------------------------------

/**
 * Route paths in use. Ingress paths that lead to some listener are reserved up front, so a listener without
 * one (`/<name>`) or a split route (`<path>/<provider>`) never takes a path another listener's webhooks use,
 * whatever order the files list the listeners in.
 */
class PathClaims {
  private readonly used = new Set<string>();
  private readonly reserved = new Set<string>();

  reserve(path: string): void {
    this.reserved.add(path);
  }

  /** Taken by a route already (an Ingress path may still be claimed by the listener it leads to). */
  taken(path: string): boolean {
    return this.used.has(path);
  }

  claim(path: string): void {
    this.used.add(path);
  }

  /** `path`, else `path-2`, `path-3`… until neither taken nor reserved; claimed. */
  fresh(path: string): string {
    let candidate = path;
    for (let n = 2; this.used.has(candidate) || this.reserved.has(candidate); n++) candidate = `${path}-${n}`;
    this.used.add(candidate);
    return candidate;
  }

  /** `<base>/<provider>` for a split route. */
  derive(base: string, provider: string): string {
    return this.fresh(`${base === '/' ? '' : base}/${provider}`);
  }
}

interface BasePath {
  readonly path: string;
  readonly comment: readonly string[];
}

function listenerPaths(
  listener: Listener,
  ingressPaths: readonly IngressPath[],
  claims: PathClaims,
  findings: Findings,
): BasePath[] {
  const el = listener.origin;
  const service = `el-${el.name}`;
  const out: BasePath[] = [];
  const from = `from ${describeOrigin(el)}`;
  let lost: string | undefined;
  for (const ip of ingressPaths) {
    if (!leadsTo(ip, listener)) continue;
    const path = ingressRoutePath(ip, findings);
    if (path === undefined || out.some((o) => o.path === path)) continue;
    const via = `${describeOrigin(ip.origin)}${ip.host === undefined ? '' : ` host ${ip.host}`} path ${ip.path}`;
    if (claims.taken(path)) {
      lost = ip.path;
      findings.leftOut(
        ip.origin,
        `path ${ip.path} also leads to another listener (another host, or the same path twice); the gateway routes by path only`,
        `point the webhooks of ${describeOrigin(el)} at the route the output gives it`,
      );
      continue;
    }
    claims.claim(path);
    out.push({ path, comment: [`${from}, ${via}`] });
  }
  if (out.length === 0) {
    const path = claims.fresh(
      claims.taken(`/${el.name}`) && el.namespace !== undefined
        ? `/${el.namespace}/${el.name}`
        : `/${el.name}`,
    );
    const why =
      lost === undefined
        ? `no Ingress path leads to ${service}`
        : `its Ingress path ${lost} belongs to another listener`;
    out.push({ path, comment: [`${from} (${why}: the route is ${path})`] });
  }
  return out;
}

function leadsTo(ip: IngressPath, listener: Listener): boolean {
  const ns = ip.origin.namespace;
  const elNs = listener.origin.namespace;
  return (
    ip.service === `el-${listener.origin.name}` && (ns === undefined || elNs === undefined || ns === elNs)
  );
}

/** An Ingress path as a route path: trailing slashes dropped, a regex cut to its literal prefix. */
function normaliseIngressPath(raw: string): { path: string | undefined; pattern: boolean } {
  const special = raw.search(REGEX_CHARS);
  let path = special >= 0 ? raw.slice(0, special) : raw;
  path = path.replace(/\/+$/, '') || '/';
  return { path: ROUTE_PATH.test(path) ? path : undefined, pattern: special >= 0 };
}

/** The route path for an Ingress path, with a warning where it does not mean the same. */
function ingressRoutePath(ip: IngressPath, findings: Findings): string | undefined {
  const { path, pattern } = normaliseIngressPath(ip.path);
  if (path === undefined) {
    findings.warn(ip.origin, `path ${ip.path} cannot be a route path; the listener gets /<name> instead`);
    return undefined;
  }
  if (pattern) {
    findings.warn(
      ip.origin,
      `path ${ip.path} is a pattern; the route uses its literal prefix ${path}`,
      'check that the webhook URL starts with that prefix',
    );
  }
  if (ip.pathType === 'Exact') {
    findings.warn(
      ip.origin,
      `path ${ip.path} is Exact; a route matches its path and everything below it (${path}/…)`,
    );
  }
  return path;
}

// --- bindings and templates -------------------------------------------------------------------------------

/**
 * Output names for bindings or templates: the object's name, or `<namespace>/<name>` (a cluster binding:
 * `ClusterTriggerBinding/<name>`) when objects of one name differ. Identical copies share one entry.
 */
function assignKeys<T extends { readonly origin: Origin }>(
  list: readonly T[],
  content: (t: T) => unknown,
  findings: Findings,
  section: string,
): Map<T, string> {
  const keys = new Map<T, string>();
  const byName = new Map<string, T[]>();
  for (const t of list) byName.set(t.origin.name, [...(byName.get(t.origin.name) ?? []), t]);
  const taken = new Set<string>();
  for (const [name, same] of byName) {
    const distinct = new Set(same.map((t) => JSON.stringify(content(t))));
    if (distinct.size === 1) {
      for (const t of same) keys.set(t, name);
      taken.add(name);
    }
  }
  for (const [name, same] of byName) {
    if (keys.has(same[0]!)) continue;
    const byContent = new Map<string, string>();
    for (const t of same) {
      const text = JSON.stringify(content(t));
      let key = byContent.get(text);
      if (key === undefined) {
        const qualifier =
          t.origin.kind === 'ClusterTriggerBinding' ? 'ClusterTriggerBinding' : t.origin.namespace;
        key = qualifier === undefined ? name : `${qualifier}/${name}`;
        for (let n = 2; taken.has(key); n++)
          key = `${qualifier === undefined ? '' : `${qualifier}/`}${name}-${n}`;
        taken.add(key);
        byContent.set(text, key);
        findings.warn(
          t.origin,
          `another object is also named ${name}; it is ${section}.${key} in the output`,
        );
      }
      keys.set(t, key);
    }
  }
  return keys;
}

/** `$(params.x)` is the pre-v0.10 spelling; Tekton v0.37 leaves it in the object as text, and so does the gateway. */
function warnOldParams(spec: TemplateSpec, origin: Origin, findings: Findings, subject?: string): void {
  const names = new Set<string>();
  // Inside an embedded taskSpec/pipelineSpec, `$(params.x)` of a param that spec declares is Tekton
  // Pipelines' own syntax, resolved when the run executes: not the old Triggers spelling.
  const visit = (v: JsonValue, scope: ReadonlySet<string>): void => {
    if (typeof v === 'string') {
      for (const m of v.matchAll(OLD_PARAM)) if (!scope.has(m[1]!)) names.add(m[1]!);
    } else if (Array.isArray(v)) v.forEach((x) => visit(x, scope));
    else if (v !== null && typeof v === 'object') {
      for (const [key, value] of Object.entries(v)) {
        visit(value, key === 'taskSpec' || key === 'pipelineSpec' ? withDeclared(scope, value) : scope);
      }
    }
  };
  spec.resourcetemplates.forEach((rt) => visit(rt, new Set()));
  if (names.size === 0) return;
  const list = [...names];
  const declared = new Set(spec.params.map((p) => p.name));
  const fixable = list.filter((n) => declared.has(n));
  findings.warn(
    subject === undefined ? origin : { origin, subject },
    `uses ${list.map((n) => `$(params.${n})`).join(', ')}: Tekton v0.37 does not replace this old syntax and leaves it in the created object as text; the gateway keeps it as text too`,
    fixable.length > 0
      ? `write ${fixable.map((n) => `$(tt.params.${n})`).join(', ')} to use the template param${fixable.length > 1 ? 's' : ''}`
      : `declare ${list.join(', ')} in the template's params and write $(tt.params.NAME), or in the embedded taskSpec/pipelineSpec's params if Tekton Pipelines should resolve it`,
  );
}

/** The scope plus the param names a taskSpec/pipelineSpec declares. */
function withDeclared(scope: ReadonlySet<string>, spec: JsonValue): Set<string> {
  const out = new Set(scope);
  const params = spec !== null && typeof spec === 'object' && !Array.isArray(spec) ? spec.params : undefined;
  if (Array.isArray(params))
    for (const p of params)
      if (p !== null && typeof p === 'object' && !Array.isArray(p) && typeof p.name === 'string')
        out.add(p.name);
  return out;
}

// --- gateway.kinds -------------------------------------------------------------------------------------

/** PipelineRun and TaskRun are allowed by default; anything else a template creates must be listed. */
function kindsFor(doc: RoutesDocument, findings: Findings): DocKind[] | undefined {
  const objects: { object: JsonObject; origin: Origin }[] = [];
  for (const t of doc.templates.values())
    for (const o of t.spec.resourcetemplates) objects.push({ object: o, origin: t.origin });
  for (const r of doc.routes) {
    for (const t of r.triggers) {
      if (typeof t.template !== 'string')
        for (const o of t.template.resourcetemplates) objects.push({ object: o, origin: t.origin });
    }
  }
  const extra = new Map<string, DocKind>();
  for (const { object, origin } of objects) {
    const apiVersion = typeof object.apiVersion === 'string' ? object.apiVersion : '';
    const kind = typeof object.kind === 'string' ? object.kind : '';
    if (apiVersion === '' || kind === '') continue;
    const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
    if (group === 'tekton.dev' && (kind === 'PipelineRun' || kind === 'TaskRun')) continue;
    if (group === 'tekton.dev' && TEKTON_KINDS[kind] !== undefined) {
      extra.set(kind, kind);
      continue;
    }
    const key = `${apiVersion} ${kind}`;
    if (extra.has(key)) continue;
    const plural = guessPlural(kind);
    extra.set(key, { apiVersion, kind, plural });
    findings.warn(
      origin,
      `creates ${kind} (${apiVersion}); gateway.kinds lists it with the REST plural ${plural}, a guess, and the gateway (or the account it impersonates) needs create on ${plural} where it lands`,
      `check the plural with kubectl api-resources | grep ${kind}; grant create on ${group === '' ? '' : `${group}/`}${plural} (Helm values rbac.extraRules: [{apiGroups: ["${group}"], resources: ["${plural}"], verbs: [create]}], or the impersonated account's Role)`,
    );
  }
  if (extra.size === 0) return undefined;
  const sorted = [...extra.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
  return ['PipelineRun', 'TaskRun', ...sorted];
}

function guessPlural(kind: string): string {
  const lower = kind.toLowerCase();
  if (/(s|x|z|ch|sh)$/.test(lower)) return `${lower}es`;
  if (/[^aeiou]y$/.test(lower)) return `${lower.slice(0, -1)}ies`;
  return `${lower}s`;
}
