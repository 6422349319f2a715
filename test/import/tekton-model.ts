// What Tekton Triggers v0.37 would create for one delivery to one EventListener, computed straight from the
// seed's Tekton YAML, without import or the gateway's binding/template code (tektoncd/triggers v0.37's
// pkg/sink, pkg/template and pkg/interceptors):
// - triggers: the listener's inline triggers and the Triggers its triggerRefs name;
// - interceptors in order: github/gitlab `eventTypes` against the event header; CEL filters, then overlays
//   into extensions. Several `filter` params are ANDed: Tekton itself keeps only the last (its params become
//   a map), but the contract (§7) and the seed's authors mean all of them, and import reports the difference;
// - bindings: each `$(…)` replaced by the JSON-escaped text of what it finds (Tekton's getResults);
// - templates: `$(tt.params.X)` replaced in the resourcetemplate's JSON *text*, then parsed (Tekton's
//   byte-level substitution; the gateway substitutes inside parsed strings, which must come out the same);
// - labels eventlistener/trigger/triggers-eventid; namespace: the template's, else the Trigger's.
// CEL is evaluated with the gateway's engine, which the cel-spec and Tekton vector suites pin separately.
import { compileCel } from '../../src/pipeline/cel.js';
import type { JsonObject, JsonValue } from '../../src/model.js';
import { parseAllDocuments } from '../../src/yaml.js';

type Obj = Record<string, any>;

export interface TektonRequest {
  /** Header names as sent; looked up case-insensitively, as Go's http.Header does. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: JsonObject;
  readonly path: string;
}

export type TektonOutcome =
  | { readonly trigger: string; readonly result: 'created'; readonly objects: JsonObject[] }
  | { readonly trigger: string; readonly result: 'stopped'; readonly why: 'event-type' | 'filter-false' }
  /** An interceptor or binding error: Tekton logs it and creates nothing. */
  | { readonly trigger: string; readonly result: 'error'; readonly why: string };

export class TektonModel {
  private readonly objects: Obj[];

  constructor(yamlText: string) {
    this.objects = parseAllDocuments(yamlText)
      .map((d) => d.toJS() as Obj | null)
      .filter((o): o is Obj => o !== null);
  }

  private find(kind: string, name: string): Obj {
    const found = this.objects.find((o) => o.kind === kind && o.metadata?.name === name);
    if (!found) throw new Error(`${kind} ${name} is not in the seed`);
    return found;
  }

  /** Every trigger of the listener, with what Tekton would do for this request. */
  handle(listenerName: string, request: TektonRequest, eventId: string): TektonOutcome[] {
    const el = this.find('EventListener', listenerName);
    const elNamespace: string = el.metadata.namespace ?? 'default';
    return (el.spec.triggers as Obj[]).map((entry) => {
      if (entry.triggerRef) {
        const t = this.find('Trigger', entry.triggerRef);
        return this.process(
          t.metadata.name,
          t.metadata.namespace ?? elNamespace,
          t.spec,
          el,
          request,
          eventId,
        );
      }
      return this.process(entry.name, elNamespace, entry, el, request, eventId);
    });
  }

  private process(
    name: string,
    namespace: string,
    spec: Obj,
    el: Obj,
    request: TektonRequest,
    eventId: string,
  ): TektonOutcome {
    const header = (h: string) =>
      Object.entries(request.headers).find(([k]) => k.toLowerCase() === h.toLowerCase())?.[1] ?? '';
    const extensions: Record<string, JsonValue> = {};
    for (const interceptor of (spec.interceptors ?? []) as Obj[]) {
      const host = (['github', 'gitlab'] as const).find((h) => interceptor[h] !== undefined);
      if (host !== undefined) {
        const eventTypes: string[] | undefined = interceptor[host].eventTypes;
        const got = header(host === 'github' ? 'X-GitHub-Event' : 'X-Gitlab-Event');
        if (eventTypes && !eventTypes.includes(got))
          return { trigger: name, result: 'stopped', why: 'event-type' };
        continue;
      }
      if (interceptor.ref?.name !== 'cel') throw new Error(`the model has no ${JSON.stringify(interceptor)}`);
      const params = interceptor.params as { name: string; value: any }[];
      const celHeader: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(request.headers)) celHeader[canonical(k)] = [v];
      const input = {
        body: request.body,
        header: celHeader,
        requestURL: request.path,
        extensions: { ...extensions },
        secrets: () => undefined,
      };
      for (const p of params.filter((q) => q.name === 'filter')) {
        const compiled = compileCel(p.value);
        if (!compiled.ok) throw new Error(compiled.error);
        const r = compiled.program.evaluate(input);
        if (!r.ok) return { trigger: name, result: 'error', why: r.error };
        if (r.value !== true) return { trigger: name, result: 'stopped', why: 'filter-false' };
      }
      for (const o of (params.find((q) => q.name === 'overlays')?.value ?? []) as Obj[]) {
        const compiled = compileCel(o.expression);
        if (!compiled.ok) throw new Error(compiled.error);
        const r = compiled.program.evaluate(input);
        if (!r.ok) return { trigger: name, result: 'error', why: r.error };
        extensions[o.key] = r.value;
      }
    }

    const template = this.find('TriggerTemplate', spec.template.ref).spec;
    const values = new Map<string, string>();
    for (const p of template.params ?? []) if (p.default !== undefined) values.set(p.name, p.default);
    for (const b of spec.bindings as Obj[]) {
      for (const p of this.find('TriggerBinding', b.ref).spec.params as { name: string; value: string }[]) {
        const value = bindingValue(p.value, { body: request.body, extensions, header: request.headers });
        if (value === undefined) {
          if (!values.has(p.name))
            return { trigger: name, result: 'error', why: `binding ${p.name} found nothing` };
        } else {
          values.set(p.name, value);
        }
      }
    }
    const objects = (template.resourcetemplates as Obj[]).map((rt) => {
      let text = JSON.stringify(rt);
      for (const [param, value] of values) {
        // Functions as replacements, so a `$` in a value is never read as a replacement pattern.
        const escaped = value.replaceAll('$(', () => '$$(');
        text = text.replaceAll(`$(tt.params.${param})`, () => escaped);
      }
      const object = JSON.parse(text) as Obj;
      object.metadata = {
        ...object.metadata,
        namespace: object.metadata?.namespace ?? namespace,
        labels: {
          ...object.metadata?.labels,
          'triggers.tekton.dev/eventlistener': el.metadata.name,
          'triggers.tekton.dev/trigger': name,
          'triggers.tekton.dev/triggers-eventid': eventId,
        },
      };
      return object as JsonObject;
    });
    return { trigger: name, result: 'created', objects };
  }
}

function canonical(name: string): string {
  return name
    .toLowerCase()
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('-');
}

/**
 * A binding value with each `$(root.a.b)` replaced by Tekton's text for it: a string JSON-escaped without
 * its quotes, anything else as JSON. The seeds use plain dotted paths only.
 */
function bindingValue(value: string, roots: Record<string, unknown>): string | undefined {
  let missing = false;
  const out = value.replace(/\$\(([^()]*)\)/g, (_, path: string) => {
    let v: unknown = roots;
    for (const key of path.split('.')) {
      v = v !== null && typeof v === 'object' ? (v as Obj)[key] : undefined;
    }
    if (v === undefined) {
      missing = true;
      return '';
    }
    return typeof v === 'string' ? JSON.stringify(v).slice(1, -1) : JSON.stringify(v);
  });
  return missing ? undefined : out;
}
