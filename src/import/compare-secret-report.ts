// The secrets `compareSecret()` reads in imported filters and overlays (issue #14): Tekton read them from the
// Trigger's namespace, the gateway from its secrets directory, and a missing one makes every delivery answer
// 422. Each is named in the report, with how to mount it and how to check it.
import { compareSecretsOf } from '../config/trigger-checks.js';
import type { RoutesDocument } from './document.js';
import type { Findings } from './findings.js';

export function reportCompareSecrets(doc: RoutesDocument, findings: Findings): void {
  const seen = new Set<string>();
  for (const route of doc.routes) {
    for (const t of route.triggers) {
      const sources = [...t.filter, ...t.overlays.map((o) => o.expression)];
      for (const { secretName, secretKey } of sources.flatMap(compareSecretsOf)) {
        const ns = t.namespace ?? route.namespace;
        const id = `${ns ?? ''}|${secretName}|${secretKey}`;
        if (seen.has(id)) continue;
        seen.add(id);
        findings.warn(
          `Secret ${ns === undefined ? '' : `${ns}/`}${secretName}`,
          `compareSecret in trigger ${t.name} (route ${route.path}) reads key ${secretKey}; the gateway reads it from $SECRETS_DIR/${secretName}/${secretKey}, and without it every delivery is answered 422`,
          `mount Secret ${secretName} into the gateway (list it under the Helm chart's secrets), then check with tekton-gateway validate --secrets-dir`,
        );
      }
    }
  }
}
