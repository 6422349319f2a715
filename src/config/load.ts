// routes.yaml → a validated, compiled, frozen Config, or every problem at once with its location
// (contract §2). `serve`, `validate`, `render` and `routes` all load through here.
//
// We parse with the `yaml` package rather than js-yaml (the design card's choice): js-yaml gives positions
// only for syntax errors, while every semantic problem here (an unknown key, a CEL error, an undeclared
// param) must point at its node's line and column, which the `yaml` Document API keeps for every node.
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  LineCounter,
  isScalar,
  loadAllPlain,
  parseAllDocuments,
  type Document,
  type Node,
  type Scalar,
} from '../yaml.js';
import type {
  Binding,
  CelProgram,
  Config,
  GatewaySettings,
  JsonObject,
  JsonValue,
  KindRule,
  Overlay,
  ProviderName,
  Route,
  RouteTracing,
  SecretRef,
  Template,
  TemplateParam,
  Trigger,
} from '../model.js';
import { compileCel, type CelCompileResult } from '../pipeline/cel.js';
import { BindingSyntaxError, compileBindingValue, scanExpressions } from '../pipeline/expressions.js';
import { isReservedKey } from '../pipeline/run-stamp.js';
import { compileFollow, keepOf } from './follow.js';
import { formatProblems, type Problem } from './problems.js';
import { checkRouteBindings, compileSchedules } from './schedules.js';
import { validateNode, validateValue, type PathSegment } from './schema-dsl.js';
import { ROUTES_SCHEMA } from './schema.js';
import { sharedStatusCredentials } from './status-credentials.js';
import { TEKTON_KINDS } from './tekton-kinds.js';
import { unknownEventProblem } from './event-names.js';
import { filtersReadingOverlays, missingCompareSecrets, type Expression } from './trigger-checks.js';

export interface LoadOptions {
  /** When set, every secretRef file must exist under it (serve always sets it; validate only on request). */
  readonly secretsDir?: string | undefined;
  /**
   * `validate --secrets-dir`: also check the secret files that compareSecret calls name literally. `serve`
   * leaves them to request time (a missing one fails its trigger), so a Secret unmounted later never
   * blocks a reload of unrelated routes.
   */
  readonly compareSecrets?: boolean;
  /** Tests: 'positions' skips the fast path, to compare the two parses. */
  readonly parser?: 'auto' | 'positions';
  /** v2 §12.0 item 4: origins a status apiURL may name (serve's --status-api-origins); unset: not checked. */
  readonly statusOrigins?: readonly string[] | undefined;
}

export type LoadResult =
  | { readonly ok: true; readonly config: Config; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly problems: readonly string[] };

export const DEFAULTS = {
  name: 'tekton-gateway',
  namespace: 'default',
  maxBodyBytes: 25 * 1024 * 1024,
  kinds: ['PipelineRun', 'TaskRun'],
  requestTimeoutMs: 9000,
  maxBytesInFlight: 64 * 1024 * 1024,
  bodyTimeoutMs: 5000,
  maxBodyValues: 1_000_000,
  maxValueBytes: 1024 * 1024,
  retryWindowSeconds: 600,
  deliveries: { max: 500, maxBytes: 16 * 1024 * 1024 },
} as const;

export function loadConfigFile(file: string, options: LoadOptions = {}): LoadResult {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    return {
      ok: false,
      problems: [`${file}: cannot read the file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`],
    };
  }
  return loadConfigBytes(bytes, file, options);
}

export function loadConfigBytes(bytes: Buffer, file: string, options: LoadOptions = {}): LoadResult {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return { ok: false, problems: [`${file}: is not valid UTF-8`] };
  }
  if (options.parser !== 'positions') {
    const accepted = loadValid(text, file, bytes, options);
    if (accepted) return accepted;
  }
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const problems: Problem[] = [];
  for (const doc of list) {
    for (const error of doc.errors) problems.push({ offset: error.pos[0], path: [], message: error.message });
  }
  if (problems.length === 0 && list.length !== 1) {
    const second = list[1]?.range[0] ?? 0;
    problems.push({
      offset: second,
      path: [],
      message:
        list.length === 0
          ? 'the file is empty; it needs apiVersion and routes'
          : `holds ${list.length} YAML documents; routes.yaml is one`,
    });
  }
  if (problems.length > 0) return { ok: false, problems: formatProblems(file, problems, lines) };

  const doc = list[0]!;
  for (const p of validateNode(doc, doc.contents, ROUTES_SCHEMA)) {
    problems.push({ offset: (p.node as Node | null)?.range?.[0] ?? 0, path: p.path, message: p.message });
  }
  const compiler = new Compiler(doc, text, options);
  const config = compiler.compile(doc.toJS({ maxAliasCount: 1000 }) as unknown, file, sha256(bytes));
  problems.push(...compiler.problems);
  if (problems.length > 0 || config === undefined) {
    return { ok: false, problems: formatProblems(file, dedupeProblems(problems), lines) };
  }
  return { ok: true, config, warnings: compiler.warnings };
}

// A `*name` alias: the fast path leaves such files to the Document parse, which bounds alias expansion.
const ALIAS = /(^|[\s:[{,-])\*[^\s,\]}]/;

/**
 * The fast path for the usual case, a valid file (every start-up and reload): js-yaml parses it an order of
 * magnitude faster than the Document API (1,000 routes: 66 ms against 863 ms, BENCHMARKS.md), and the same
 * schema walker and compiler check it. Positions only matter when something is wrong, so on any problem
 * (or anything js-yaml refuses, or more than one document) it returns undefined and the Document parse
 * reports every problem with its line and column.
 */
function loadValid(text: string, file: string, bytes: Buffer, options: LoadOptions): LoadResult | undefined {
  if (ALIAS.test(text)) return undefined;
  let docs: unknown[];
  try {
    docs = loadAllPlain(text);
  } catch {
    return undefined;
  }
  if (docs.length !== 1 || validateValue(docs[0], ROUTES_SCHEMA).length > 0) return undefined;
  const compiler = new Compiler(undefined, text, options);
  const config = compiler.compile(docs[0], file, sha256(bytes));
  if (config === undefined || compiler.problems.length > 0) return undefined;
  return { ok: true, config, warnings: compiler.warnings };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The schema pass and the semantic pass can both notice one thing; say it once. */
function dedupeProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const key = `${p.offset}|${p.path.join('.')}|${p.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

// ------------------------------------------------------------------------------------------------
// Loose readers: the schema pass has already reported wrong types, so the semantic pass treats them as absent.

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
const arr = (v: unknown): unknown[] | undefined => (Array.isArray(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const int = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isInteger(v) ? v : undefined;

const RESERVED = ['/healthz', '/readyz'];
const TEMPLATE_PARAM = /^tt\.params\.([_a-zA-Z][_a-zA-Z0-9.-]*)$/;

class Compiler {
  readonly problems: Problem[] = [];
  readonly warnings: string[] = [];
  private kinds: readonly KindRule[] = [];
  private gatewaySettings: GatewaySettings | undefined;
  private readonly bindings = new Map<string, readonly Binding[]>();
  private readonly templates = new Map<string, Template>();
  /**
   * Results by expression text. Routes repeat the same filters and overlays (a tag filter on every
   * repository), and a compiled program holds no per-trigger state, so one compile serves every copy: a
   * 1,000-route file loaded in a third of the time (issue #8, BENCHMARKS.md).
   */
  private readonly compiled = new Map<string, CelCompileResult>();
  /** Secret files already checked: many routes name the same Secret. */
  private readonly secretFiles = new Map<string, boolean>();

  constructor(
    /** Undefined on the fast path, where any problem sends the file to the Document parse anyway. */
    private readonly doc: Document | undefined,
    private readonly text: string,
    private readonly options: LoadOptions,
  ) {}

  compile(root: unknown, file: string, hash: string): Config | undefined {
    const top = obj(root);
    if (!top) return undefined;
    const gateway = this.gateway(obj(top.gateway) ?? {});
    this.gatewaySettings = gateway;
    for (const [name, entries] of Object.entries(obj(top.bindings) ?? {})) {
      this.bindings.set(name, this.bindingList(arr(entries) ?? [], ['bindings', name]));
    }
    for (const [name, spec] of Object.entries(obj(top.templates) ?? {})) {
      const template = this.template(obj(spec), name, ['templates', name]);
      if (template) this.templates.set(name, template);
    }
    const routes: Route[] = [];
    const seenPaths = new Map<string, number>();
    (arr(top.routes) ?? []).forEach((spec, i) => {
      const route = this.route(obj(spec) ?? {}, ['routes', i]);
      if (!route) return;
      const earlier = seenPaths.get(route.path);
      if (earlier !== undefined)
        this.report(['routes', i, 'path'], `path ${route.path} is already used by routes[${earlier}]`);
      seenPaths.set(route.path, i);
      routes.push(route);
    });
    for (const problem of sharedStatusCredentials(
      arr(top.routes) ?? [],
      routes.flatMap((r) => r.secretRefs),
    ))
      this.report(problem.at, problem.message);
    const schedules = compileSchedules(arr(top.schedules) ?? [], {
      report: (p, message, offset) => this.report(p, message, offset),
      trigger: (spec, at) => this.trigger(spec, at, undefined),
      textStart: (p) => this.textStart(p),
      gatewayKeep: gateway.keep,
    });
    if (this.problems.length > 0) return undefined;
    routes.sort((a, b) => b.path.length - a.path.length);
    const secretRefs = uniqueSecretRefs(routes.flatMap((r) => r.secretRefs));
    return deepFreeze({
      file,
      sha256: hash,
      gateway,
      routes,
      templates: this.templates,
      bindings: this.bindings,
      secretRefs,
      schedules,
    });
  }

  // --- positions ---------------------------------------------------------------------------------

  private node(path: readonly PathSegment[]): Node | undefined {
    if (!this.doc) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as Node | undefined;
      if (node && typeof node === 'object' && 'range' in node && node.range) return node;
    }
    return undefined;
  }

  private report(path: readonly PathSegment[], message: string, offset?: number): void {
    this.problems.push({ path, message, offset: offset ?? this.node(path)?.range?.[0] ?? 0 });
  }

  /** Offset of the first character of a scalar's text (inside quotes; after a block scalar's header line). */
  private textStart(path: readonly PathSegment[]): number {
    const node = this.node(path);
    const start = node?.range?.[0] ?? 0;
    if (!isScalar(node)) return start;
    const type = (node as Scalar).type;
    if (type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE') return start + 1;
    if (type === 'BLOCK_LITERAL' || type === 'BLOCK_FOLDED') {
      let i = this.text.indexOf('\n', start) + 1;
      while (this.text[i] === ' ') i++;
      return i;
    }
    return start;
  }

  // --- gateway -------------------------------------------------------------------------------------

  private gateway(spec: Obj): GatewaySettings {
    const kinds: KindRule[] = [];
    const kindSpecs = arr(spec.kinds) ?? DEFAULTS.kinds;
    kindSpecs.forEach((k, i) => {
      const at = ['gateway', 'kinds', i];
      if (typeof k === 'string') {
        const plural = TEKTON_KINDS[k];
        if (plural === undefined) {
          this.report(
            at,
            `"${k}" is not a tekton.dev kind (${Object.keys(TEKTON_KINDS).join(', ')}); write {apiVersion, kind, plural} for other kinds`,
          );
        } else {
          kinds.push({ group: 'tekton.dev', versions: undefined, kind: k, plural });
        }
        return;
      }
      const o = obj(k);
      const apiVersion = str(o?.apiVersion);
      const kind = str(o?.kind);
      const plural = str(o?.plural);
      if (!apiVersion || !kind || !plural) return;
      const parts = apiVersion.split('/');
      if (parts.length > 2 || parts.some((p) => p === '')) {
        this.report(
          [...at, 'apiVersion'],
          `"${apiVersion}" must be group/version (e.g. batch/v1) or a core version (v1)`,
        );
        return;
      }
      const [group, version] = parts.length === 2 ? [parts[0]!, parts[1]!] : ['', parts[0]!];
      kinds.push({ group, versions: [version], kind, plural });
    });
    this.kinds = kinds;
    const requestTimeoutMs = int(spec.requestTimeoutMs) ?? DEFAULTS.requestTimeoutMs;
    const settings = {
      name: str(spec.name) ?? DEFAULTS.name,
      namespace: str(spec.namespace) ?? DEFAULTS.namespace,
      maxBodyBytes: int(spec.maxBodyBytes) ?? DEFAULTS.maxBodyBytes,
      kinds,
      requestTimeoutMs,
      maxBytesInFlight: int(spec.maxBytesInFlight) ?? DEFAULTS.maxBytesInFlight,
      // Unset, it yields to a short requestTimeoutMs (half of it), so configs written before v2 still load.
      bodyTimeoutMs:
        int(spec.bodyTimeoutMs) ??
        (requestTimeoutMs > DEFAULTS.bodyTimeoutMs
          ? DEFAULTS.bodyTimeoutMs
          : Math.floor(requestTimeoutMs / 2)),
      maxBodyValues: int(spec.maxBodyValues) ?? DEFAULTS.maxBodyValues,
      maxValueBytes: int(spec.maxValueBytes) ?? DEFAULTS.maxValueBytes,
      retryWindowSeconds: int(spec.retryWindowSeconds) ?? DEFAULTS.retryWindowSeconds,
      dashboardURL: str(spec.dashboardURL)?.replace(/\/+$/, ''),
      deliveries: {
        max: int(obj(spec.deliveries)?.max) ?? DEFAULTS.deliveries.max,
        maxBytes: int(obj(spec.deliveries)?.maxBytes) ?? DEFAULTS.deliveries.maxBytes,
      },
      keep: keepOf(spec.keep) || undefined,
    };
    // Contract §12.0 item 13 and §3: one body must fit in the byte budget, and the body's deadline must leave
    // time for the work within the answer's.
    if (settings.maxBytesInFlight < settings.maxBodyBytes) {
      this.report(
        ['gateway', spec.maxBytesInFlight === undefined ? 'maxBodyBytes' : 'maxBytesInFlight'],
        `maxBytesInFlight (${settings.maxBytesInFlight}) must be at least maxBodyBytes (${settings.maxBodyBytes})`,
      );
    }
    if (settings.bodyTimeoutMs >= settings.requestTimeoutMs) {
      this.report(
        ['gateway', 'bodyTimeoutMs'],
        `bodyTimeoutMs (${settings.bodyTimeoutMs}) must be less than requestTimeoutMs (${settings.requestTimeoutMs})`,
      );
    }
    return settings;
  }

  // --- bindings ------------------------------------------------------------------------------------

  /** A list of {name, value} params (a reusable binding); duplicate names are an error. */
  private bindingList(entries: readonly unknown[], at: readonly PathSegment[]): Binding[] {
    const out: Binding[] = [];
    entries.forEach((entry, i) => {
      const b = this.bindingParam(obj(entry) ?? {}, [...at, i]);
      if (!b) return;
      if (out.some((o) => o.name === b.name))
        this.report([...at, i, 'name'], `param "${b.name}" is set twice in this binding`);
      out.push(b);
    });
    return out;
  }

  private bindingParam(entry: Obj, at: readonly PathSegment[]): Binding | undefined {
    const name = str(entry.name);
    const value = str(entry.value);
    if (name === undefined || value === undefined) return undefined;
    try {
      return { name, value: compileBindingValue(value) };
    } catch (e) {
      if (!(e instanceof BindingSyntaxError)) throw e;
      this.report([...at, 'value'], e.message);
      return undefined;
    }
  }

  // --- templates -----------------------------------------------------------------------------------

  private template(spec: Obj | undefined, name: string, at: readonly PathSegment[]): Template | undefined {
    if (!spec) return undefined;
    const params: TemplateParam[] = [];
    (arr(spec.params) ?? []).forEach((p, i) => {
      const o = obj(p);
      const paramName = str(o?.name);
      if (!o || paramName === undefined) return;
      if (params.some((q) => q.name === paramName)) {
        this.report([...at, 'params', i, 'name'], `param "${paramName}" is declared twice`);
        return;
      }
      const description = str(o.description);
      const defaultValue = str(o.default);
      params.push({
        name: paramName,
        ...(description !== undefined ? { description } : {}),
        ...(defaultValue !== undefined ? { default: defaultValue } : {}),
      });
    });
    const declared = new Set(params.map((p) => p.name));
    const resourcetemplates: JsonObject[] = [];
    (arr(spec.resourcetemplates) ?? []).forEach((rt, i) => {
      const object = obj(rt);
      if (!object) return;
      if (this.resourceTemplate(object, declared, [...at, 'resourcetemplates', i])) {
        resourcetemplates.push(object as JsonObject);
      }
    });
    return { name, params, resourcetemplates };
  }

  private resourceTemplate(object: Obj, declared: ReadonlySet<string>, at: readonly PathSegment[]): boolean {
    const before = this.problems.length;
    const apiVersion = object.apiVersion;
    const kind = object.kind;
    if (typeof apiVersion !== 'string' || apiVersion === '')
      this.report([...at, 'apiVersion'], 'is required and must be a string');
    if (typeof kind !== 'string' || kind === '')
      this.report([...at, 'kind'], 'is required and must be a string');
    if (typeof apiVersion === 'string' && typeof kind === 'string') {
      if (apiVersion.includes('$(') || kind.includes('$(')) {
        this.report(
          [...at, apiVersion.includes('$(') ? 'apiVersion' : 'kind'],
          'must be literal text: the payload never chooses what is created',
        );
      } else {
        const slash = apiVersion.indexOf('/');
        const group = slash < 0 ? '' : apiVersion.slice(0, slash);
        const version = apiVersion.slice(slash + 1);
        const rule = this.kinds.find((k) => k.kind === kind && k.group === group);
        if (!rule) {
          const allowed = this.kinds.map((k) =>
            k.group === 'tekton.dev' ? k.kind : `${k.kind} (${k.group || 'core'})`,
          );
          this.report(
            [...at, 'kind'],
            `${kind} (${apiVersion}) is not in gateway.kinds [${allowed.join(', ')}]`,
          );
        } else if (rule.versions && !rule.versions.includes(version)) {
          this.report(
            [...at, 'apiVersion'],
            `${apiVersion} is not the version gateway.kinds allows for ${kind} (${rule.versions.join(', ')})`,
          );
        }
      }
    }
    const metadata = obj(object.metadata);
    if (object.metadata !== undefined && !metadata) this.report([...at, 'metadata'], 'must be a mapping');
    const namespace = metadata?.namespace;
    if (namespace !== undefined) {
      if (typeof namespace !== 'string' || namespace.includes('$(')) {
        this.report(
          [...at, 'metadata', 'namespace'],
          'must be literal text: the payload never chooses the namespace',
        );
      } else if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(namespace) || namespace.length > 63) {
        this.report([...at, 'metadata', 'namespace'], `"${namespace}" is not a valid namespace name`);
      }
    }
    if (typeof metadata?.name !== 'string' && typeof metadata?.generateName !== 'string') {
      this.report(
        metadata ? [...at, 'metadata'] : at,
        'needs metadata.generateName (or a fixed metadata.name)',
      );
    }
    for (const field of ['labels', 'annotations'] as const) {
      for (const key of Object.keys(obj(metadata?.[field]) ?? {})) {
        if (isReservedKey(key)) {
          this.report(
            [...at, 'metadata', field, key],
            `${key} is written by the gateway (contract §6, §12.0 item 3): a template may not set it`,
          );
        }
      }
    }
    this.checkTemplateStrings(object, declared, at);
    return this.problems.length === before;
  }

  /** Every `$(` closes, and every `$(tt.params.X)` names a declared param. */
  private checkTemplateStrings(
    value: unknown,
    declared: ReadonlySet<string>,
    at: readonly PathSegment[],
  ): void {
    if (typeof value === 'string') {
      if (!value.includes('$(')) return;
      const { found, unterminated } = scanExpressions(value);
      if (unterminated.length > 0) {
        this.report(at, `"$(" at character ${unterminated[0]! + 1} has no closing ")"`);
      }
      for (const expr of found) {
        if (!expr.inside.startsWith('tt.')) continue;
        const m = TEMPLATE_PARAM.exec(expr.inside);
        if (!m) {
          this.report(at, `$(${expr.inside}) is not a param reference; write $(tt.params.NAME)`);
        } else if (!declared.has(m[1]!)) {
          this.report(at, `$(tt.params.${m[1]}) uses a param the template does not declare under params:`);
        }
      }
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => this.checkTemplateStrings(v, declared, [...at, i]));
    else if (obj(value))
      for (const [k, v] of Object.entries(value as Obj)) this.checkTemplateStrings(v, declared, [...at, k]);
  }

  // --- routes --------------------------------------------------------------------------------------

  private route(spec: Obj, at: readonly PathSegment[]): Route | undefined {
    const routePath = str(spec.path);
    const provider = str(spec.provider) as ProviderName | undefined;
    if (routePath && RESERVED.some((r) => routePath.startsWith(r))) {
      this.report(
        [...at, 'path'],
        `${routePath} is reserved: /healthz and /readyz always answer health checks`,
      );
    }
    const secretRefs = this.secretRefs(spec.secretRef, [...at, 'secretRef']);
    const events = (arr(spec.events) ?? []).filter((e): e is string => typeof e === 'string');
    const hasEvents = spec.events !== undefined;
    if (provider === 'none') {
      if (spec.secretRef !== undefined)
        this.report(
          [...at, 'secretRef'],
          'provider none checks no signature; remove secretRef or name the provider',
        );
      this.warnings.push(
        `route ${routePath}: provider none checks no signature; anyone who can reach the gateway can trigger it`,
      );
    } else if (provider && spec.secretRef === undefined) {
      this.report(
        [...at, 'secretRef'],
        `is required for provider ${provider} (only provider none runs without a secret)`,
      );
    }
    if (provider !== 'generic') {
      for (const key of ['signature', 'eventHeader'] as const) {
        if (spec[key] !== undefined)
          this.report([...at, key], `is only for provider generic (this route's provider is ${provider})`);
      }
      if (provider !== 'none' && spec.deliveryHeader !== undefined) {
        this.report(
          [...at, 'deliveryHeader'],
          `is only for providers generic and none; ${provider} has its own delivery header`,
        );
      }
    } else if (spec.signature === undefined) {
      this.report(
        [...at, 'signature'],
        'is required for provider generic: {header, algorithm, encoding, prefix}',
      );
    }
    if (hasEvents && (provider === 'none' || (provider === 'generic' && spec.eventHeader === undefined))) {
      this.report([...at, 'events'], 'needs an event type header: set eventHeader (provider generic)');
    }
    if (provider) {
      (arr(spec.events) ?? []).forEach((e, k) => {
        const problem = typeof e === 'string' ? unknownEventProblem(provider, e) : undefined;
        if (problem) this.report([...at, 'events', k], problem);
      });
    }
    const signature = obj(spec.signature);
    const triggers: Trigger[] = [];
    const names = new Set<string>();
    (arr(spec.triggers) ?? []).forEach((t, j) => {
      const trigger = this.trigger(
        obj(t) ?? {},
        [...at, 'triggers', j],
        hasEvents ? events : undefined,
        provider,
      );
      if (!trigger) return;
      checkRouteBindings(trigger, [...at, 'triggers', j, 'bindings'], (p, m) => this.report(p, m));
      if (names.has(trigger.name))
        this.report(
          [...at, 'triggers', j, 'name'],
          `trigger "${trigger.name}" is already defined in this route`,
        );
      names.add(trigger.name);
      const follow = compileFollow(
        {
          provider,
          routeSpec: spec,
          triggerSpec: obj(t) ?? {},
          routeAt: at,
          triggerAt: [...at, 'triggers', j],
          gatewayKeep: this.gatewaySettings?.keep,
          template: trigger.template,
          statusOrigins: this.options.statusOrigins,
          hasDashboard: this.gatewaySettings?.dashboardURL !== undefined,
        },
        (path, message) => this.report(path, message),
      );
      triggers.push({ ...trigger, ...follow });
    });
    if (!routePath || !provider) return undefined;
    return {
      path: routePath,
      provider,
      secretRefs,
      namespace: str(spec.namespace),
      serviceAccountName: str(spec.serviceAccountName),
      dedupe: str(spec.dedupe) === 'off' ? 'off' : 'auto',
      events: hasEvents ? events : undefined,
      signature: signature
        ? {
            header: str(signature.header) ?? '',
            algorithm: (str(signature.algorithm) ?? 'sha256') as 'sha256',
            encoding: (str(signature.encoding) ?? 'hex') as 'hex',
            prefix: str(signature.prefix) ?? '',
          }
        : undefined,
      eventHeader: str(spec.eventHeader),
      deliveryHeader: str(spec.deliveryHeader),
      triggers,
      ...this.routeTracing(spec.tracing, provider, [...at, 'tracing']),
    };
  }

  /** `tracing:`; trusting a sender's trace needs a signature to trust it by (contract §12.0 item 16). */
  private routeTracing(
    spec: unknown,
    provider: ProviderName,
    at: readonly PathSegment[],
  ): { tracing?: RouteTracing } {
    const tracing = obj(spec);
    if (!tracing) return {};
    const trustParent = tracing.trustParent === true;
    if (trustParent && provider === 'none') {
      this.report(
        [...at, 'trustParent'],
        'provider none verifies nothing, so its traceparent cannot be trusted; remove trustParent or name the provider',
      );
    }
    return { tracing: { trustParent } };
  }

  private secretRefs(spec: unknown, at: readonly PathSegment[]): SecretRef[] {
    if (spec === undefined) return [];
    const list = Array.isArray(spec) ? spec : [spec];
    const out: SecretRef[] = [];
    list.forEach((entry, i) => {
      const o = obj(entry);
      const secretName = str(o?.secretName);
      const secretKey = str(o?.secretKey);
      if (!secretName || !secretKey) return;
      out.push({ secretName, secretKey });
      if (this.options.secretsDir !== undefined) {
        const file = path.join(this.options.secretsDir, secretName, secretKey);
        let exists = this.secretFiles.get(file);
        if (exists === undefined) this.secretFiles.set(file, (exists = isFile(file)));
        if (!exists) {
          this.report(
            Array.isArray(spec) ? [...at, i] : at,
            `secret file ${file} does not exist (mount Secret ${secretName} with key ${secretKey})`,
          );
        }
      }
    });
    return out;
  }

  private trigger(
    spec: Obj,
    at: readonly PathSegment[],
    routeEvents: readonly string[] | undefined,
    provider?: ProviderName,
  ): Trigger | undefined {
    const name = str(spec.name);
    let events: readonly string[] | undefined = routeEvents;
    if (spec.events !== undefined) {
      const own = (arr(spec.events) ?? []).filter((e): e is string => typeof e === 'string');
      own.forEach((e, k) => {
        const unknown = provider ? unknownEventProblem(provider, e) : undefined;
        if (unknown) this.report([...at, 'events', k], unknown);
        else if (routeEvents && !routeEvents.includes(e)) {
          this.report(
            [...at, 'events', k],
            `"${e}" is not in the route's events [${routeEvents.join(', ')}], so this trigger could never fire`,
          );
        }
      });
      events = own;
    }
    const filterSpec = spec.filter;
    const filters: CelProgram[] = [];
    if (typeof filterSpec === 'string') {
      const p = this.cel(filterSpec, [...at, 'filter']);
      if (p) filters.push(p);
    } else {
      (arr(filterSpec) ?? []).forEach((f, k) => {
        const p = typeof f === 'string' ? this.cel(f, [...at, 'filter', k]) : undefined;
        if (p) filters.push(p);
      });
    }
    const overlays: Overlay[] = [];
    (arr(spec.overlays) ?? []).forEach((o, k) => {
      const key = str(obj(o)?.key);
      const expression = str(obj(o)?.expression);
      if (key === undefined || expression === undefined) return;
      const program = this.cel(expression, [...at, 'overlays', k, 'expression']);
      if (program) overlays.push({ key, expression: program });
    });
    this.celReads(spec, at);
    const { bindings, named } = this.triggerBindings(arr(spec.bindings) ?? [], [...at, 'bindings']);
    let template: Template | undefined;
    if (typeof spec.template === 'string') {
      template = this.templates.get(spec.template);
      if (!template) {
        const known = [...this.templates.keys()];
        this.report(
          [...at, 'template'],
          `template "${spec.template}" is not defined under templates:${known.length ? ` (defined: ${known.join(', ')})` : ''}`,
        );
      }
    } else {
      template = this.template(obj(spec.template), formatTemplateName(at), [...at, 'template']);
    }
    if (template) {
      for (const p of template.params) {
        if (p.default === undefined && !named.has(p.name)) {
          this.report(
            at,
            `param "${p.name}" of template "${template.name}" has no default, so this trigger must bind it`,
          );
        }
      }
    }
    if (name === undefined || template === undefined) return undefined;
    return {
      name,
      events,
      filters,
      overlays,
      bindings,
      template,
      namespace: str(spec.namespace),
      serviceAccountName: str(spec.serviceAccountName),
    };
  }

  /**
   * Inline params and refs flattened in order; a name set twice (directly or through refs) is an error.
   * `named` also holds params whose value failed to compile, so that one mistake is reported once, not
   * again as an unbound param.
   */
  private triggerBindings(
    entries: readonly unknown[],
    at: readonly PathSegment[],
  ): { bindings: Binding[]; named: Set<string> } {
    const out: Binding[] = [];
    const named = new Set<string>();
    const origin = new Map<string, string>();
    entries.forEach((entry, k) => {
      const o = obj(entry) ?? {};
      const here = [...at, k];
      let added: readonly Binding[] = [];
      let label: string;
      if (o.ref !== undefined) {
        const ref = str(o.ref);
        if (o.name !== undefined || o.value !== undefined) {
          this.report(here, 'an entry is either {ref} or {name, value}, not both');
          return;
        }
        if (ref === undefined) return;
        const binding = this.bindings.get(ref);
        if (!binding) {
          const known = [...this.bindings.keys()];
          this.report(
            [...here, 'ref'],
            `binding "${ref}" is not defined under bindings:${known.length ? ` (defined: ${known.join(', ')})` : ''}`,
          );
          return;
        }
        added = binding;
        label = `binding "${ref}"`;
      } else {
        if (o.name === undefined || o.value === undefined) {
          this.report(here, 'needs {ref: NAME} or both name and value');
          return;
        }
        if (typeof o.name === 'string') named.add(o.name);
        const b = this.bindingParam(o, here);
        if (!b) return;
        added = [b];
        label = `bindings[${k}]`;
      }
      for (const b of added) {
        const earlier = origin.get(b.name);
        if (earlier !== undefined) {
          this.report(here, `param "${b.name}" is set twice: by ${earlier} and by ${label}`);
          continue;
        }
        origin.set(b.name, label);
        named.add(b.name);
        out.push(b);
      }
    });
    return { bindings: out, named };
  }

  /** Checks that need what the trigger's expressions read (./trigger-checks.ts). */
  private celReads(spec: Obj, at: readonly PathSegment[]): void {
    const filters: Expression[] =
      typeof spec.filter === 'string'
        ? [{ source: spec.filter, at: [...at, 'filter'] }]
        : (arr(spec.filter) ?? []).flatMap((f, k) =>
            typeof f === 'string' ? [{ source: f, at: [...at, 'filter', k] }] : [],
          );
    const overlays = (arr(spec.overlays) ?? []).flatMap((o, k) => {
      const key = str(obj(o)?.key);
      const expression = str(obj(o)?.expression);
      return key === undefined || expression === undefined
        ? []
        : [{ key, source: expression, at: [...at, 'overlays', k, 'expression'] }];
    });
    const problems = filtersReadingOverlays(filters, overlays);
    const dir = this.options.secretsDir;
    if (dir !== undefined && this.options.compareSecrets === true) {
      problems.push(
        ...missingCompareSecrets([...filters, ...overlays], {
          file: (secretName, secretKey) => path.join(dir, secretName, secretKey),
          exists: (file) => {
            let exists = this.secretFiles.get(file);
            if (exists === undefined) this.secretFiles.set(file, (exists = isFile(file)));
            return exists;
          },
        }),
      );
    }
    for (const p of problems) this.report(p.at, p.message, this.textStart(p.at));
  }

  private cel(source: string, at: readonly PathSegment[]): CelProgram | undefined {
    let result = this.compiled.get(source);
    if (result === undefined) this.compiled.set(source, (result = compileCel(source)));
    if (result.ok) return result.program;
    this.report(at, `CEL: ${result.error}`, this.textStart(at));
    return undefined;
  }
}

function formatTemplateName(at: readonly PathSegment[]): string {
  return (
    at
      .map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`))
      .join('')
      .slice(1) + '.template'
  );
}

function isFile(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function uniqueSecretRefs(refs: readonly SecretRef[]): SecretRef[] {
  const seen = new Map<string, SecretRef>();
  for (const ref of refs) seen.set(`${ref.secretName}/${ref.secretKey}`, ref);
  return [...seen.values()];
}

/** Freezes plain data recursively; compiled CEL programs are left as the library built them. */
function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (typeof (value as { evaluate?: unknown }).evaluate === 'function') return value;
  if (value instanceof Map) {
    for (const v of value.values()) deepFreeze(v);
  } else {
    for (const v of Object.values(value as object)) deepFreeze(v as JsonValue);
  }
  return Object.freeze(value);
}
