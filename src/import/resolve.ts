// Which triggers an EventListener runs (tektoncd/triggers pkg/sink: merge, retrieveTriggers, triggerGroups):
// its inline triggers, the Triggers its `triggerRef`s name, the Triggers its labelSelector/namespaceSelector
// pick, and each trigger group's selected Triggers with the group's interceptors run first. Selections are
// resolved once, over the objects given to import; the report says so, because Tekton re-selects on every
// request and picks up Triggers created later.
import type { Findings } from './findings.js';
import { matchesSelector } from './selectors.js';
import {
  describeOrigin,
  type InterceptorSpec,
  type Listener,
  type Origin,
  type TektonObjects,
  type TriggerObject,
  type TriggerSelection,
  type TriggerSpec,
} from './tekton.js';

export interface ResolvedTrigger {
  /** The `triggers.tekton.dev/trigger` label Tekton gave: the Trigger's name or the inline trigger's `name`. */
  readonly name: string | undefined;
  readonly listener: Listener;
  /** The object the trigger's spec came from (the listener itself for an inline trigger). */
  readonly origin: Origin;
  /** Names the trigger in findings and in the output's comments. */
  readonly subject: string;
  /** The namespace Tekton created in when the template names none: the Trigger's. */
  readonly namespace: string | undefined;
  readonly spec: TriggerSpec;
}

/**
 * An object by namespace and name, as Tekton looks it up in the trigger's namespace. An object written
 * without a namespace was applied into "the current one", so it matches any; with no namespace on either
 * side, a unique name is enough.
 */
export function lookup<T extends { readonly origin: Origin }>(
  list: readonly T[],
  namespace: string | undefined,
  name: string,
): T | undefined {
  const named = list.filter((o) => o.origin.name === name);
  return (
    named.find((o) => o.origin.namespace === namespace) ??
    named.find((o) => o.origin.namespace === undefined) ??
    (namespace === undefined && named.length === 1 ? named[0] : undefined)
  );
}

export function resolveListener(
  listener: Listener,
  objects: TektonObjects,
  findings: Findings,
): ResolvedTrigger[] {
  const el = listener.origin;
  const elName = describeOrigin(el);
  const out: ResolvedTrigger[] = [];

  listener.triggers.forEach((entry, i) => {
    if (entry.type === 'inline') {
      const name = entry.spec.name;
      const label = name === undefined ? `triggers[${i}]` : `trigger ${name}`;
      if (entry.spec.template.type === 'missing') {
        findings.leftOut(
          { ...el, line: entry.line },
          'has neither a template nor a triggerRef; Tekton answered every request to this listener with 500',
          'give the trigger a template, or remove it',
          label,
        );
        return;
      }
      out.push({
        name,
        listener,
        origin: { ...el, line: entry.line },
        subject: `${elName}, ${label}`,
        namespace: el.namespace,
        spec: entry.spec,
      });
      return;
    }
    const trigger = lookup(objects.triggers, el.namespace, entry.triggerRef);
    if (!trigger) {
      findings.leftOut(
        { ...el, line: entry.line },
        `triggerRef ${entry.triggerRef}: no Trigger of that name is in the given files`,
        'add the file that defines the Trigger to the import command',
        `triggers[${i}]`,
      );
      return;
    }
    out.push(fromTriggerObject(trigger, listener, `via triggerRef of ${elName}`, []));
  });

  for (const trigger of select(listener.selection, el, objects.triggers, findings, "the listener's")) {
    out.push(fromTriggerObject(trigger, listener, `selected by ${elName}`, []));
  }

  for (const group of listener.groups) {
    const selected = select(group.selection, el, objects.triggers, findings, `triggerGroup ${group.name}'s`);
    if (selected.length === 0) {
      findings.warn(
        el,
        'selects no Trigger among the given files, so it was not carried over',
        'add the files that define its Triggers',
        `triggerGroup ${group.name}`,
      );
    }
    const groupInterceptors: InterceptorSpec[] = group.interceptors.map((i) => ({
      ...i,
      label: `triggerGroup ${group.name} ${i.label}`,
    }));
    for (const trigger of selected) {
      out.push(
        fromTriggerObject(trigger, listener, `in triggerGroup ${group.name} of ${elName}`, groupInterceptors),
      );
    }
  }
  return out;
}

function fromTriggerObject(
  trigger: TriggerObject,
  listener: Listener,
  how: string,
  before: readonly InterceptorSpec[],
): ResolvedTrigger {
  const namespace = trigger.origin.namespace ?? listener.origin.namespace;
  return {
    name: trigger.origin.name,
    listener,
    origin: trigger.origin,
    subject: `${describeOrigin(trigger.origin)}, ${how}`,
    namespace,
    spec: { ...trigger.spec, interceptors: [...before, ...trigger.spec.interceptors] },
  };
}

/** Tekton's retrieveTriggers over the given files. No selector at all selects nothing. */
function select(
  selection: TriggerSelection,
  el: Origin,
  triggers: readonly TriggerObject[],
  findings: Findings,
  whose: string,
): TriggerObject[] {
  const { labelSelector, matchNames } = selection;
  if (labelSelector === undefined && matchNames.length === 0) return [];
  const inNamespace = (t: TriggerObject): boolean => {
    const ns = t.origin.namespace ?? el.namespace;
    if (matchNames.length === 1 && matchNames[0] === '*') return true;
    if (matchNames.length > 0) return ns !== undefined && matchNames.includes(ns);
    return ns === el.namespace;
  };
  const picked: TriggerObject[] = [];
  for (const t of triggers) {
    if (!inNamespace(t)) continue;
    if (labelSelector) {
      const m = matchesSelector(labelSelector, t.labels);
      if (!m.ok) {
        findings.leftOut(el, `${whose} labelSelector cannot be evaluated: ${m.reason}`, 'use matchLabels');
        return [];
      }
      if (!m.matches) continue;
    }
    picked.push(t);
  }
  picked.sort((a, b) => describeOrigin(a.origin).localeCompare(describeOrigin(b.origin)));
  const names = picked.map((t) => describeOrigin(t.origin)).join(', ') || 'none';
  if (matchNames.length > 0) {
    findings.leftOut(
      el,
      `${whose} namespaceSelector [${matchNames.join(', ')}] picks Triggers in other namespaces at request time; import resolved it once over the given files (${names}), and Triggers created later will not be picked up`,
      'list the Triggers you want in the listener (triggerRef), import again when you add one',
    );
  } else {
    findings.warn(
      el,
      `${whose} labelSelector was resolved once over the given files (${names}); Triggers labelled later will not be picked up`,
      'import again when you add a Trigger, or add its route by hand',
    );
  }
  return picked;
}
