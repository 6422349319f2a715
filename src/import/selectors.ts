// Kubernetes label selectors (matchLabels and matchExpressions), for resolving an EventListener's or a
// trigger group's labelSelector against the Trigger objects given to import.
import type { LabelSelector } from './tekton.js';

export type SelectorMatch =
  { readonly ok: true; readonly matches: boolean } | { readonly ok: false; readonly reason: string };

export function matchesSelector(
  selector: LabelSelector,
  labels: Readonly<Record<string, string>>,
): SelectorMatch {
  for (const [key, value] of Object.entries(selector.matchLabels)) {
    if (labels[key] !== value) return { ok: true, matches: false };
  }
  for (const e of selector.matchExpressions) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    switch (e.operator) {
      case 'In':
        if (!has || !e.values.includes(labels[e.key]!)) return { ok: true, matches: false };
        break;
      case 'NotIn':
        if (has && e.values.includes(labels[e.key]!)) return { ok: true, matches: false };
        break;
      case 'Exists':
        if (!has) return { ok: true, matches: false };
        break;
      case 'DoesNotExist':
        if (has) return { ok: true, matches: false };
        break;
      default:
        return {
          ok: false,
          reason: `matchExpressions operator "${e.operator}" is not In, NotIn, Exists or DoesNotExist`,
        };
    }
  }
  return { ok: true, matches: true };
}
