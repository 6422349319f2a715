// Objects that call an old listener's Service `el-<listener>` (a CronJob's curl, a Deployment's env…): import
// does not convert them, but after migrating they would call a Service that no longer exists. Each is
// reported with the URL to use instead: the gateway's Service (the Helm chart's, named after the release)
// plus the listener's route path.
import type { RoutesDocument } from './document.js';
import type { Findings } from './findings.js';
import { describeOrigin, type Listener, type OtherObject } from './tekton.js';

const quote = (s: string): string => (s.length > 120 ? `${s.slice(0, 117)}…` : s);

export function reportCallers(
  others: readonly OtherObject[],
  listeners: readonly Listener[],
  doc: RoutesDocument,
  findings: Findings,
): void {
  for (const other of others) {
    for (const listener of listeners) {
      const service = `el-${listener.origin.name}`;
      const pattern = new RegExp(
        `(^|[^a-z0-9-])${service.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![a-z0-9-])`,
      );
      const text = other.texts.find((t) => pattern.test(t));
      if (text === undefined) continue;
      const route = doc.routes.find((r) => r.origin === listener.origin);
      const target =
        route === undefined
          ? 'the route you give its triggers'
          : `http://tekton-gateway.<gateway namespace>.svc.cluster.local:8080${route.path === '/' ? '/' : route.path}`;
      findings.warn(
        other.origin,
        `calls ${service}, the Service of ${describeOrigin(listener.origin)} ("${quote(text)}"); that Service goes away with the listener`,
        `point it at ${target} (the Helm chart's Service is named after the release; the route path is ${route?.path ?? 'not imported'}) and send a JSON object body`,
      );
    }
  }
}
