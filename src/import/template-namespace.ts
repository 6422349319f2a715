// Tekton's getting-started template sets `metadata.namespace: $(tt.params.namespace)` and binds that param to
// a literal. The gateway refuses a namespace computed from params (the payload never chooses it), but a
// literal bound by every trigger that uses the template chooses nothing: import writes the literal into the
// template when all triggers agree, or moves it to each trigger's `namespace` when they differ. A value read
// from the payload stays refused, with a suggestion that says how to write it.
import type { JsonObject } from '../model.js';
import type { DocRoute, DocTemplate, DocTrigger, RoutesDocument } from './document.js';
import type { Findings } from './findings.js';

const PARAM_ONLY = /^\$\(tt\.params\.([_a-zA-Z][_a-zA-Z0-9.-]*)\)$/;

interface Use {
  readonly route: DocRoute;
  readonly trigger: DocTrigger;
  /** The param's value for this trigger: a binding's text or the template default; undefined if unbound. */
  readonly value: string | undefined;
}

export function substituteNamespaceParams(doc: RoutesDocument, findings: Findings): void {
  const templates: { key: string | DocTrigger; spec: DocTemplate; set: (spec: DocTemplate) => void }[] = [];
  for (const [key, entry] of doc.templates)
    templates.push({ key, spec: entry.spec, set: (spec) => doc.templates.set(key, { ...entry, spec }) });
  for (const route of doc.routes)
    for (const t of route.triggers)
      if (typeof t.template !== 'string') {
        const trigger = t;
        templates.push({
          key: trigger,
          spec: trigger.template as DocTemplate,
          set: (spec) => replaceTrigger(doc, trigger, { ...trigger, template: spec }),
        });
      }
  for (const template of templates) {
    const params = new Set<string>();
    for (const rt of template.spec.resourcetemplates) {
      const ns = metadataOf(rt).namespace;
      const m = typeof ns === 'string' ? PARAM_ONLY.exec(ns) : null;
      if (m) params.add(m[1]!);
    }
    for (const param of params) {
      const uses = usesOf(doc, template.key, param, template.spec);
      if (uses.length === 0) continue;
      const computed = uses.filter((u) => u.value === undefined || u.value.includes('$('));
      if (computed.length > 0) {
        const u = computed[0]!;
        findings.warn(
          { origin: u.trigger.origin, subject: u.trigger.subject },
          `its template's metadata.namespace is $(tt.params.${param}), which this trigger sets to ${u.value === undefined ? 'nothing' : u.value}; the gateway never lets the payload choose the namespace`,
          `remove metadata.namespace from the template and give each trigger a literal namespace (one trigger per namespace, with a filter on the field that chose it)`,
        );
        continue;
      }
      const literals = new Set(uses.map((u) => u.value!));
      const replaced = template.spec.resourcetemplates.map((rt) => {
        const metadata = metadataOf(rt);
        if (metadata.namespace !== `$(tt.params.${param})`) return rt;
        const { namespace: _drop, ...rest } = metadata;
        return {
          ...rt,
          metadata: literals.size === 1 ? { ...rest, namespace: [...literals][0]! } : rest,
        } as JsonObject;
      });
      template.set({ ...template.spec, resourcetemplates: replaced });
      for (const u of uses) {
        const about = { origin: u.trigger.origin, subject: u.trigger.subject };
        if (literals.size === 1) {
          findings.warn(
            about,
            `its template's metadata.namespace $(tt.params.${param}) is bound to the literal ${u.value}; the output writes ${u.value} into the template (the gateway does not compute namespaces from params)`,
          );
        } else {
          findings.warn(
            about,
            `its template's metadata.namespace $(tt.params.${param}) is bound to the literal ${u.value}, other triggers bind other namespaces; the output drops it from the template and sets this trigger's namespace: ${u.value}`,
          );
          const current = findTrigger(doc, u.trigger) ?? u.trigger;
          replaceTrigger(doc, current, {
            ...current,
            namespace: u.value === u.route.namespace ? undefined : u.value,
          });
        }
      }
    }
  }
}

function metadataOf(rt: JsonObject): Record<string, unknown> {
  const m = rt.metadata;
  return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {};
}

function usesOf(doc: RoutesDocument, key: string | DocTrigger, param: string, spec: DocTemplate): Use[] {
  const out: Use[] = [];
  const fallback = spec.params.find((p) => p.name === param)?.default;
  for (const route of doc.routes) {
    for (const trigger of route.triggers) {
      if (typeof key === 'string' ? trigger.template !== key : trigger !== key) continue;
      let value: string | undefined;
      for (const b of trigger.bindings) {
        if ('ref' in b) {
          const found = doc.bindings.get(b.ref)?.params.find((p) => p.name === param);
          if (found) value = found.value;
        } else if (b.name === param) value = b.value;
      }
      out.push({ route, trigger, value: value ?? fallback });
    }
  }
  return out;
}

function findTrigger(doc: RoutesDocument, t: DocTrigger): DocTrigger | undefined {
  for (const route of doc.routes)
    for (const x of route.triggers) if (x.origin === t.origin && x.name === t.name) return x;
  return undefined;
}

function replaceTrigger(doc: RoutesDocument, from: DocTrigger, to: DocTrigger): void {
  for (const route of doc.routes) {
    const i = route.triggers.indexOf(from);
    if (i >= 0) route.triggers[i] = to;
  }
}
