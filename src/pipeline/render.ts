// Templates → the objects to create (contract §5, §6). Substitution works on the parsed object, never on
// text: a param value lands inside one string and cannot change the structure around it, and every `$(` in
// it becomes `$$(` so Tekton Pipelines does not evaluate payload text (tektoncd/triggers v0.34.0).
import type { JsonObject, JsonValue, KindRule, ResourceRef, Template } from '../model.js';
import { STATUS_CONTEXT } from './follow-stamp.js';
import { deterministicName, eventIdLabel, randomName } from './names.js';
import {
  INSTANCE_LABEL,
  RECEIVED_AT_ANNOTATION,
  ROUTE_ANNOTATION,
  receivedAtValue,
  signRun,
} from './run-stamp.js';

export const PARAM_REF = /\$\(tt\.params\.([_a-zA-Z][_a-zA-Z0-9.-]*)\)/g;
const TOKEN = /\$\(tt\.params\.([_a-zA-Z][_a-zA-Z0-9.-]*)\)|\$\(uid\)/g;

/** `$(` → `$$(` in an inserted value (Tekton's escape; `$$(x)` becomes `$$$(x)`). */
export function escapeParamValue(value: string): string {
  return value.replaceAll('$(', '$$$$(');
}

/**
 * Replaces `$(tt.params.X)` and `$(uid)` in every string value of `node`, in one pass over the template's
 * own text: inserted values are never scanned again, so a payload containing `$(uid)` stays inert.
 * Params without a value are left as written (the loader guarantees every used param is declared).
 */
export function substitute(node: JsonValue, params: ReadonlyMap<string, string>, uid: string): JsonValue {
  if (typeof node === 'string') {
    if (!node.includes('$(')) return node;
    return node.replace(TOKEN, (whole, name: string | undefined) => {
      if (name === undefined) return uid;
      const value = params.get(name);
      return value === undefined ? whole : escapeParamValue(value);
    });
  }
  if (Array.isArray(node)) return node.map((item) => substitute(item, params, uid));
  if (node !== null && typeof node === 'object') {
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(node)) out[key] = substitute(value, params, uid);
    return out;
  }
  return node;
}

export interface RenderContext {
  readonly gatewayName: string;
  readonly routePath: string;
  readonly triggerName: string;
  /** trigger, else route, else gateway namespace; a template's literal metadata.namespace wins over it. */
  readonly namespace: string;
  readonly eventId: string;
  readonly dedupeKey: string | undefined;
  readonly uid: string;
  readonly kinds: readonly KindRule[];
  /** The `tekton-gateway.dev/instance` label value (§12.0 item 2); also part of the fixed-name hash. */
  readonly instance: string;
  /** Epoch milliseconds when the webhook (or slot) arrived: the `received-at` annotation. */
  readonly receivedAt: number;
  /** The state key that signs runs (§12.0 item 3); without one, objects are not signed. */
  readonly stateKey: Buffer | undefined;
  /** §12.1/§12.3 stamps of a followed trigger: extra labels and annotations, and whether runs start pending. */
  readonly follow?: {
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations: Readonly<Record<string, string>>;
    readonly pending: boolean;
  };
}

export interface RenderedResource {
  readonly object: JsonObject;
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly namespace: string;
  /**
   * `deterministic`: a name derived from the delivery (AlreadyExists means duplicate);
   * `template`: a fixed metadata.name from the template (AlreadyExists is a failure);
   * `random`: generateName plus 10 random characters drawn here (a new draw on AlreadyExists, §12.0 item 3);
   * `generated`: no name and no generateName in the template (the API server refuses it).
   */
  readonly naming: 'deterministic' | 'template' | 'random' | 'generated';
  /** The generateName a `random` name was drawn from. */
  readonly generateName?: string;
}

export function renderResources(
  template: Template,
  params: ReadonlyMap<string, string>,
  ctx: RenderContext,
): RenderedResource[] {
  return template.resourcetemplates.map((resourceTemplate, index) => {
    const object = substitute(resourceTemplate, params, ctx.uid) as JsonObject;
    const metadata = (object.metadata ?? {}) as JsonObject;
    object.metadata = metadata;
    const namespace = typeof metadata.namespace === 'string' ? metadata.namespace : ctx.namespace;
    metadata.namespace = namespace;
    metadata.labels = {
      ...((metadata.labels ?? {}) as JsonObject),
      'triggers.tekton.dev/eventlistener': ctx.gatewayName,
      'triggers.tekton.dev/trigger': ctx.triggerName,
      'triggers.tekton.dev/triggers-eventid': eventIdLabel(ctx.eventId),
      'app.kubernetes.io/managed-by': 'tekton-gateway',
      [INSTANCE_LABEL]: ctx.instance,
    };
    metadata.annotations = {
      ...((metadata.annotations ?? {}) as JsonObject),
      [ROUTE_ANNOTATION]: ctx.routePath,
      [RECEIVED_AT_ANNOTATION]: receivedAtValue(ctx.receivedAt),
    };
    const isRun =
      typeof object.apiVersion === 'string' &&
      object.apiVersion.startsWith('tekton.dev/') &&
      (object.kind === 'PipelineRun' || object.kind === 'TaskRun');
    if (ctx.follow && isRun) {
      metadata.labels = { ...(metadata.labels as JsonObject), ...ctx.follow.labels };
      const annotations: JsonObject = { ...(metadata.annotations as JsonObject), ...ctx.follow.annotations };
      // §12.1: several runs from one template each report under their own context.
      const context = annotations[STATUS_CONTEXT];
      if (typeof context === 'string' && runCount(template) > 1) {
        const base =
          typeof metadata.generateName === 'string' ? metadata.generateName.replace(/-$/, '') : metadata.name;
        annotations[STATUS_CONTEXT] = `${context}/${String(base)}`;
      }
      metadata.annotations = annotations;
      if (ctx.follow.pending) {
        const spec = (object.spec ?? {}) as JsonObject;
        spec.status = object.kind === 'TaskRun' ? 'TaskRunPending' : 'PipelineRunPending';
        object.spec = spec;
      }
    }
    let naming: RenderedResource['naming'] = 'generated';
    let generateName: string | undefined;
    if (typeof metadata.name === 'string' && metadata.name !== '') {
      naming = 'template';
    } else if (ctx.dedupeKey !== undefined && typeof metadata.generateName === 'string') {
      metadata.name = deterministicName(
        metadata.generateName,
        ctx.dedupeKey,
        ctx.routePath,
        ctx.triggerName,
        index,
        ctx.instance,
      );
      delete metadata.generateName;
      naming = 'deterministic';
    } else if (typeof metadata.generateName === 'string') {
      // The gateway names the run itself so that the name can be signed before the object exists.
      generateName = metadata.generateName;
      metadata.name = randomName(generateName);
      delete metadata.generateName;
      naming = 'random';
    }
    if (ctx.stateKey) signRun(object, ctx.stateKey);
    const apiVersion = object.apiVersion as string;
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = apiVersion.slice(slash + 1);
    // The loader checked every kind against gateway.kinds, so the rule exists.
    const rule = ctx.kinds.find((k) => k.kind === object.kind && k.group === group)!;
    return { object, group, version, plural: rule.plural, namespace, naming, generateName };
  });
}

function runCount(template: Template): number {
  return template.resourcetemplates.filter(
    (rt) =>
      typeof rt.apiVersion === 'string' &&
      rt.apiVersion.startsWith('tekton.dev/') &&
      (rt.kind === 'PipelineRun' || rt.kind === 'TaskRun'),
  ).length;
}

/** A new random name for a `random` resource whose name was taken, signed again (the name is signed). */
export function redrawName(resource: RenderedResource, stateKey: Buffer | undefined): RenderedResource {
  const object = structuredClone(resource.object);
  (object.metadata as JsonObject).name = randomName(resource.generateName ?? '');
  if (stateKey) signRun(object, stateKey);
  return { ...resource, object };
}

export function resourceRef(object: JsonObject): ResourceRef {
  const metadata = object.metadata as JsonObject;
  return {
    apiVersion: object.apiVersion as string,
    kind: object.kind as string,
    namespace: metadata.namespace as string,
    name: (metadata.name ?? '') as string,
  };
}
