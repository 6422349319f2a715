// Templates → the objects to create (contract §5, §6). Substitution works on the parsed object, never on
// text: a param value lands inside one string and cannot change the structure around it, and every `$(` in
// it becomes `$$(` so Tekton Pipelines does not evaluate payload text (tektoncd/triggers v0.34.0).
import type { JsonObject, JsonValue, KindRule, ResourceRef, Template } from '../model.js';
import { deterministicName, eventIdLabel } from './names.js';

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
   * `generated`: generateName, the API server picks the name.
   */
  readonly naming: 'deterministic' | 'template' | 'generated';
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
    };
    let naming: RenderedResource['naming'] = 'generated';
    if (typeof metadata.name === 'string' && metadata.name !== '') {
      naming = 'template';
    } else if (ctx.dedupeKey !== undefined && typeof metadata.generateName === 'string') {
      metadata.name = deterministicName(
        metadata.generateName,
        ctx.dedupeKey,
        ctx.routePath,
        ctx.triggerName,
        index,
      );
      delete metadata.generateName;
      naming = 'deterministic';
    }
    const apiVersion = object.apiVersion as string;
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = apiVersion.slice(slash + 1);
    // The loader checked every kind against gateway.kinds, so the rule exists.
    const rule = ctx.kinds.find((k) => k.kind === object.kind && k.group === group)!;
    return { object, group, version, plural: rule.plural, namespace, naming };
  });
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
