// Where the gateway will impersonate, against where Tekton did (issue #14). Tekton impersonated a Trigger's
// account in the Trigger's namespace and ran the listener's account in the listener's namespace, wherever
// the template's objects landed; the gateway impersonates the account of the namespace each object is
// created in (contract §6). When a template's literal metadata.namespace (or a Trigger from another
// namespace) makes the two differ, the same name means another account: import says which one to create.
import type { JsonObject } from '../model.js';
import type { DocTemplate, RoutesDocument } from './document.js';
import type { Findings } from './findings.js';

export function warnImpersonationNamespaces(
  doc: RoutesDocument,
  listenerNamespace: (route: RoutesDocument['routes'][number]) => string | undefined,
  findings: Findings,
): void {
  for (const route of doc.routes) {
    for (const t of route.triggers) {
      const own = t.serviceAccountName !== undefined;
      const account = t.serviceAccountName ?? route.serviceAccountName;
      if (account === undefined) continue;
      const triggerNamespace = t.namespace ?? route.namespace;
      // Where Tekton's account lived: the Trigger's namespace for its own, the listener's for the listener's.
      const home = own ? triggerNamespace : listenerNamespace(route);
      if (home === undefined) continue;
      const spec: DocTemplate | undefined =
        typeof t.template === 'string' ? doc.templates.get(t.template)?.spec : t.template;
      const landings = new Set<string>();
      for (const rt of spec?.resourcetemplates ?? []) {
        const literal = namespaceOf(rt);
        const lands = literal ?? triggerNamespace;
        if (lands !== undefined && lands !== home) landings.add(lands);
      }
      for (const lands of landings) {
        findings.warn(
          { origin: t.origin, subject: t.subject },
          `Tekton created its objects in ${lands} as system:serviceaccount:${home}:${account}; the gateway impersonates the account of the namespace it creates in, system:serviceaccount:${lands}:${account}, a different account`,
          `create service account ${account} in ${lands} with the rights ${home}/${account} had there (create on the run kinds), or remove metadata.namespace from the template; the Helm chart grants impersonate on ${lands}/${account} from routes.yaml`,
        );
      }
    }
  }
}

function namespaceOf(rt: JsonObject): string | undefined {
  const m = rt.metadata;
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return undefined;
  const ns = (m as Record<string, unknown>).namespace;
  return typeof ns === 'string' && !ns.includes('$(') ? ns : undefined;
}
