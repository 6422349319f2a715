// Multi-document Tekton YAML → normalised objects (./tekton.ts). Reads EventListener, Trigger,
// TriggerBinding, ClusterTriggerBinding and TriggerTemplate in their v1alpha1 and v1beta1 spellings, and
// Ingress as networking.k8s.io/v1 or the old extensions/v1beta1 (`serviceName`/`servicePort`). A `kind: List`
// (what `kubectl get -o yaml` prints) is read item by item. Anything else is skipped with a note.
import type { JsonObject } from '../model.js';
import { LineCounter, parseAllDocuments, type Document } from '../yaml.js';
import { isCronJob, readCronJob, type CronJobObject } from './cronjob.js';
import type { Findings } from './findings.js';
import { originLocation } from './tekton.js';
import { arr, obj, scalarText, str, stringMap, strings, type Obj } from './loose.js';
import type {
  BindingEntry,
  BindingObject,
  CoreInterceptorName,
  IngressPath,
  InterceptorParam,
  InterceptorSpec,
  LabelSelector,
  Listener,
  ListenerEntry,
  Origin,
  OtherObject,
  TektonObjects,
  TemplateObject,
  TemplateParamSpec,
  TemplateRef,
  TemplateSpec,
  TriggerGroup,
  TriggerObject,
  TriggerSelection,
  TriggerSpec,
} from './tekton.js';

export interface InputFile {
  /** As given on the command line; used in the report. */
  readonly name: string;
  readonly text: string;
}

export type ReadResult =
  | { readonly ok: true; readonly objects: TektonObjects }
  /** The input is not YAML we can read at all (exit code 1). */
  | { readonly ok: false; readonly problems: readonly string[] };

const TRIGGERS_GROUP = 'triggers.tekton.dev/';
const CORE_INTERCEPTORS: readonly CoreInterceptorName[] = ['cel', 'github', 'gitlab', 'bitbucket', 'slack'];

export function readTektonFiles(files: readonly InputFile[], findings: Findings): ReadResult {
  const problems: string[] = [];
  const out = {
    listeners: [] as Listener[],
    triggers: [] as TriggerObject[],
    bindings: [] as BindingObject[],
    templates: [] as TemplateObject[],
    ingressPaths: [] as IngressPath[],
    others: [] as OtherObject[],
    cronJobs: [] as CronJobObject[],
  };
  for (const file of files) {
    const lines = new LineCounter();
    const docs = parseAllDocuments(file.text, { lineCounter: lines, prettyErrors: false });
    const list = Array.isArray(docs) ? docs : [];
    let broken = false;
    for (const doc of list) {
      for (const error of doc.errors) {
        const { line, col } = lines.linePos(error.pos[0]);
        problems.push(`${file.name}:${line}:${col}: ${error.message}`);
        broken = true;
      }
    }
    if (broken) continue;
    for (const doc of list) {
      if (doc.contents === null) continue; // an empty document: `---` followed by comments only
      const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
      const line = lines.linePos(doc.contents.range?.[0] ?? 0).line;
      const o = obj(value);
      if (!o) {
        findings.note(`${file.name}:${line}`, 'skipped: the document is not a Kubernetes object');
        continue;
      }
      const items = arr(o.items);
      if (items && typeof o.kind === 'string' && o.kind.endsWith('List')) {
        items.forEach((item, i) => {
          const itemLine = lineOf(doc, lines, ['items', i]) ?? line;
          const lineAt: LineAt = (path) => lineOf(doc, lines, ['items', i, ...path]) ?? itemLine;
          readObject(obj(item) ?? {}, file.name, itemLine, lineAt, out, findings);
        });
      } else {
        readObject(o, file.name, line, (path) => lineOf(doc, lines, path) ?? line, out, findings);
      }
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    objects: {
      ...out,
      listeners: lastDefinitions(out.listeners, (l) => l.origin, findings),
      triggers: lastDefinitions(out.triggers, (t) => t.origin, findings),
      bindings: lastDefinitions(out.bindings, (b) => b.origin, findings),
      templates: lastDefinitions(out.templates, (t) => t.origin, findings),
    },
  };
}

/**
 * One object per identity (kind, namespace, name), the last one given, as `kubectl apply` of the same files
 * would leave it; each earlier definition is reported, since it would otherwise become a second route or
 * trigger (`-2`) that the cluster never had. v1alpha1 and v1beta1 spellings of one object are one identity.
 */
function lastDefinitions<T>(list: readonly T[], originOf: (t: T) => Origin, findings: Findings): T[] {
  const last = new Map<string, T>();
  for (const t of list) {
    const o = originOf(t);
    last.set(`${o.kind}|${o.namespace ?? ''}|${o.name}`, t);
  }
  const keep = new Set(last.values());
  for (const t of list) {
    if (keep.has(t)) continue;
    const o = originOf(t);
    const winner = originOf(last.get(`${o.kind}|${o.namespace ?? ''}|${o.name}`)!);
    findings.warn(
      o,
      `is defined again at ${originLocation(winner)}; as with kubectl apply, the later definition is the one imported and this one is ignored`,
      'remove one of the two definitions (or give them different names if both are meant to exist)',
    );
  }
  return list.filter((t) => keep.has(t));
}

/** The line of a node inside the object being read, for pointing at one trigger of a listener. */
type LineAt = (path: readonly (string | number)[]) => number;

function lineOf(doc: Document, lines: LineCounter, path: readonly (string | number)[]): number | undefined {
  const node = doc.getIn(path, true) as { range?: [number, number, number] } | undefined;
  return node?.range ? lines.linePos(node.range[0]).line : undefined;
}

/** Strings in an object that mention an EventListener Service (`el-…`), for reporting its callers. */
function listenerMentions(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') {
    if (value.includes('el-')) out.push(value);
  } else if (Array.isArray(value)) value.forEach((v) => listenerMentions(v, out));
  else if (value !== null && typeof value === 'object')
    Object.values(value).forEach((v) => listenerMentions(v, out));
  return out;
}

interface Collected {
  others: OtherObject[];
  listeners: Listener[];
  triggers: TriggerObject[];
  bindings: BindingObject[];
  templates: TemplateObject[];
  ingressPaths: IngressPath[];
  cronJobs: CronJobObject[];
}

function readObject(
  o: Obj,
  file: string,
  line: number,
  lineAt: LineAt,
  out: Collected,
  findings: Findings,
): void {
  const apiVersion = str(o.apiVersion) ?? '';
  const kind = str(o.kind) ?? '';
  const metadata = obj(o.metadata) ?? {};
  const name = str(metadata.name);
  const where = `${file}:${line}`;
  const isTriggers = apiVersion.startsWith(TRIGGERS_GROUP);
  const isIngress =
    kind === 'Ingress' &&
    (apiVersion.startsWith('networking.k8s.io/') || apiVersion === 'extensions/v1beta1');
  if (isCronJob(apiVersion, kind) && name !== undefined) {
    out.cronJobs.push(readCronJob(o, { kind, namespace: str(metadata.namespace), name, file, line }));
    return;
  }
  if (!isTriggers && !isIngress) {
    const texts = listenerMentions(o);
    if (texts.length > 0) {
      out.others.push({
        origin: { kind: kind || 'object', namespace: str(metadata.namespace), name: name ?? '?', file, line },
        texts,
      });
    }
    findings.note(
      where,
      `skipped ${kind || 'an object'} (${apiVersion || 'no apiVersion'}): not a Triggers object`,
    );
    return;
  }
  if (name === undefined) {
    findings.warn(where, `skipped ${kind}: it has no metadata.name`);
    return;
  }
  const origin: Origin = { kind, namespace: str(metadata.namespace), name, file, line };
  const spec = obj(o.spec) ?? {};
  switch (kind) {
    case 'EventListener':
      out.listeners.push(readListener(spec, origin, stringMap(metadata.annotations), lineAt, findings));
      return;
    case 'Trigger':
      out.triggers.push({
        origin,
        labels: stringMap(metadata.labels),
        spec: readTriggerSpec(spec, origin, findings, undefined),
      });
      return;
    case 'TriggerBinding':
    case 'ClusterTriggerBinding':
      out.bindings.push({
        // A ClusterTriggerBinding is cluster-scoped: a namespace in its metadata means nothing.
        origin: kind === 'ClusterTriggerBinding' ? { ...origin, namespace: undefined } : origin,
        params: readBindingParams(spec.params, origin, findings),
      });
      return;
    case 'TriggerTemplate':
      out.templates.push({ origin, spec: readTemplateSpec(spec, origin, findings, undefined) });
      return;
    case 'Ingress':
      out.ingressPaths.push(...readIngress(spec, origin));
      return;
    default:
      // Interceptor, ClusterInterceptor, NamespacedInterceptor: definitions; references to them are reported
      // where a trigger uses them.
      findings.note(origin, `skipped: ${kind} is not something routes.yaml describes`);
  }
}

// --- EventListener and Trigger -----------------------------------------------------------------------

function readListener(
  spec: Obj,
  origin: Origin,
  annotations: Record<string, string>,
  lineAt: LineAt,
  findings: Findings,
): Listener {
  const triggers: ListenerEntry[] = [];
  (arr(spec.triggers) ?? []).forEach((raw, i) => {
    const t = obj(raw) ?? {};
    const triggerRef = str(t.triggerRef);
    // Tekton's merge: an entry with a template is inline even if it also names a triggerRef.
    const line = lineAt(['spec', 'triggers', i]);
    if (triggerRef !== undefined && t.template === undefined)
      triggers.push({ type: 'ref', triggerRef, line });
    else {
      const at = { ...origin, line };
      triggers.push({
        type: 'inline',
        spec: readTriggerSpec(t, at, findings, `triggers[${i}]`),
        line: at.line,
      });
    }
  });
  const groups: TriggerGroup[] = [];
  (arr(spec.triggerGroups) ?? []).forEach((raw, i) => {
    const g = obj(raw) ?? {};
    const name = str(g.name) ?? `triggerGroups[${i}]`;
    const selector = obj(g.triggerSelector) ?? {};
    groups.push({
      name,
      interceptors: readInterceptors(g.interceptors),
      selection: readSelection(selector.labelSelector, selector.namespaceSelector),
    });
  });
  const podSpec = obj(obj(obj(obj(obj(spec.resources)?.kubernetesResource)?.spec)?.template)?.spec);
  const podAccount = str(podSpec?.serviceAccountName);
  return {
    origin,
    serviceAccountName: str(spec.serviceAccountName) ?? podAccount,
    serviceAccountInPodTemplate: str(spec.serviceAccountName) === undefined && podAccount !== undefined,
    tlsSecret: tlsSecret(podSpec),
    triggers,
    groups,
    selection: readSelection(spec.labelSelector, spec.namespaceSelector),
    cloudEventURI: str(spec.cloudEventURI),
    hasResources: ['resources', 'podTemplate', 'replicas', 'serviceType'].some((k) => spec[k] !== undefined),
    payloadValidation: annotations['tekton.dev/payload-validation'] !== 'false',
  };
}

/** The Secret of TLS_CERT/TLS_KEY in the listener's container env: Tekton then served HTTPS on 8443. */
function tlsSecret(podSpec: Obj | undefined): string | undefined {
  for (const c of arr(podSpec?.containers) ?? []) {
    for (const e of arr(obj(c)?.env) ?? []) {
      const env = obj(e);
      if (str(env?.name) !== 'TLS_CERT' && str(env?.name) !== 'TLS_KEY') continue;
      return str(obj(obj(env?.valueFrom)?.secretKeyRef)?.name) ?? '(a literal value)';
    }
  }
  return undefined;
}

function readSelection(labelSelector: unknown, namespaceSelector: unknown): TriggerSelection {
  const ls = obj(labelSelector);
  let selector: LabelSelector | undefined;
  if (ls) {
    selector = {
      matchLabels: stringMap(ls.matchLabels),
      matchExpressions: (arr(ls.matchExpressions) ?? []).map((e) => {
        const x = obj(e) ?? {};
        return { key: str(x.key) ?? '', operator: str(x.operator) ?? '', values: strings(x.values) ?? [] };
      }),
    };
  }
  return { labelSelector: selector, matchNames: strings(obj(namespaceSelector)?.matchNames) ?? [] };
}

/** An inline EventListener trigger or a Trigger's spec: the same fields in both versions. */
function readTriggerSpec(t: Obj, origin: Origin, findings: Findings, at: string | undefined): TriggerSpec {
  return {
    name: str(t.name),
    interceptors: readInterceptors(t.interceptors),
    bindings: (arr(t.bindings) ?? []).map((b) => readBindingEntry(obj(b) ?? {}, origin, findings, at)),
    template: readTemplateRef(t.template, origin, findings, at),
    serviceAccountName: str(t.serviceAccountName),
  };
}

function readInterceptors(raw: unknown): InterceptorSpec[] {
  return (arr(raw) ?? []).map((entry, i) => readInterceptor(obj(entry) ?? {}, i));
}

function readInterceptor(o: Obj, index: number): InterceptorSpec {
  const own = str(o.name);
  const label = (what: string) => `interceptor ${own === undefined ? index + 1 : `"${own}"`} (${what})`;
  const webhook = obj(o.webhook);
  if (webhook) {
    const ref = obj(webhook.objectRef);
    const target = ref
      ? `${str(ref.kind) ?? 'Service'} ${str(ref.namespace) ? `${str(ref.namespace)}/` : ''}${str(ref.name) ?? '?'}`
      : (str(webhook.url) ?? 'no target');
    return { type: 'webhook', label: label('webhook'), target };
  }
  // v1alpha1's deprecated keys: `github: {secretRef, eventTypes}`, `cel: {filter, overlays}`, …
  for (const name of ['github', 'gitlab', 'bitbucket', 'cel'] as const) {
    const deprecated = obj(o[name]);
    if (deprecated) {
      const params: InterceptorParam[] = Object.entries(deprecated).map(([k, value]) => ({ name: k, value }));
      return { type: 'core', name, label: label(name), params };
    }
  }
  const ref = obj(o.ref) ?? {};
  const refName = str(ref.name) ?? '';
  const refKind = str(ref.kind) ?? 'ClusterInterceptor';
  const params: InterceptorParam[] = (arr(o.params) ?? []).flatMap((p) => {
    const po = obj(p);
    const name = str(po?.name);
    return po && name !== undefined ? [{ name, value: po.value }] : [];
  });
  const core = CORE_INTERCEPTORS.find((c) => c === refName);
  if (core !== undefined && refKind === 'ClusterInterceptor') {
    return { type: 'core', name: core, label: label(core), params };
  }
  return { type: 'custom', label: label(refName || 'no ref'), refName, refKind };
}

function readBindingEntry(b: Obj, origin: Origin, findings: Findings, at: string | undefined): BindingEntry {
  const ref = str(b.ref);
  if (ref !== undefined) {
    const kind = str(b.kind) ?? 'TriggerBinding';
    if (kind !== 'TriggerBinding' && kind !== 'ClusterTriggerBinding') {
      return { type: 'invalid', reason: `binding ref "${ref}" has kind ${kind}` };
    }
    return { type: 'ref', ref, kind };
  }
  const name = str(b.name);
  if (name === undefined) return { type: 'invalid', reason: 'a binding entry has neither ref nor name' };
  if (b.value === undefined) {
    // Before Triggers v0.10, `bindings: [{name: x}]` referred to the TriggerBinding x.
    findings.warn(
      origin,
      `binding {name: ${name}} without a value is the pre-v0.10 spelling of {ref: ${name}}; read as a reference`,
      `write {ref: ${name}}`,
      at,
    );
    return { type: 'ref', ref: name, kind: 'TriggerBinding' };
  }
  const value = scalarText(b.value);
  if (value === undefined)
    return { type: 'invalid', reason: `binding param "${name}" has a non-string value` };
  return { type: 'param', name, value };
}

function readTemplateRef(
  raw: unknown,
  origin: Origin,
  findings: Findings,
  at: string | undefined,
): TemplateRef {
  const t = obj(raw);
  if (!t) return { type: 'missing' };
  const ref = str(t.ref);
  if (ref !== undefined) return { type: 'ref', ref };
  const spec = obj(t.spec);
  if (spec) return { type: 'inline', spec: readTemplateSpec(spec, origin, findings, at) };
  const name = str(t.name);
  if (name !== undefined) {
    // v1alpha1's deprecated `template: {name: x}`.
    return { type: 'ref', ref: name };
  }
  return { type: 'missing' };
}

// --- TriggerBinding and TriggerTemplate ------------------------------------------------------------------

function readBindingParams(
  raw: unknown,
  origin: Origin,
  findings: Findings,
): { name: string; value: string }[] {
  const out: { name: string; value: string }[] = [];
  (arr(raw) ?? []).forEach((p, i) => {
    const o = obj(p) ?? {};
    const name = str(o.name);
    const value = scalarText(o.value);
    if (name === undefined || value === undefined) {
      findings.warn(origin, `params[${i}] needs a name and a string value; it was skipped`);
      return;
    }
    out.push({ name, value });
  });
  return out;
}

function readTemplateSpec(
  spec: Obj,
  origin: Origin,
  findings: Findings,
  at: string | undefined,
): TemplateSpec {
  const params: TemplateParamSpec[] = [];
  (arr(spec.params) ?? []).forEach((p) => {
    const o = obj(p) ?? {};
    const name = str(o.name);
    if (name === undefined) return;
    const description = scalarText(o.description);
    const defaultValue = scalarText(o.default);
    params.push({
      name,
      ...(description !== undefined ? { description } : {}),
      ...(defaultValue !== undefined ? { default: defaultValue } : {}),
    });
  });
  const resourcetemplates: JsonObject[] = [];
  // v1alpha1 examples sometimes spell it resourceTemplates; Tekton's JSON tag is resourcetemplates.
  (arr(spec.resourcetemplates) ?? arr(spec.resourceTemplates) ?? []).forEach((rt, i) => {
    const o = obj(rt);
    if (o) resourcetemplates.push(o as JsonObject);
    else findings.warn(origin, `resourcetemplates[${i}] is not an object; it was skipped`, undefined, at);
  });
  return { params, resourcetemplates };
}

// --- Ingress -------------------------------------------------------------------------------------------

/** networking.k8s.io/v1 `backend.service.name`, or extensions/v1beta1 `backend.serviceName`. */
function backendService(backend: unknown): string | undefined {
  const b = obj(backend);
  return str(obj(b?.service)?.name) ?? str(b?.serviceName);
}

function readIngress(spec: Obj, origin: Origin): IngressPath[] {
  const out: IngressPath[] = [];
  const fallback = backendService(spec.defaultBackend) ?? backendService(spec.backend);
  for (const rule of arr(spec.rules) ?? []) {
    const r = obj(rule) ?? {};
    for (const p of arr(obj(r.http)?.paths) ?? []) {
      const po = obj(p) ?? {};
      const service = backendService(po.backend);
      if (service === undefined) continue;
      out.push({
        origin,
        host: str(r.host),
        path: str(po.path) ?? '/',
        pathType: str(po.pathType),
        service,
      });
    }
  }
  if (fallback !== undefined)
    out.push({ origin, host: undefined, path: '/', pathType: 'Prefix', service: fallback });
  return out;
}
