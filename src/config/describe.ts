// What a loaded config offers, for `GET /routes` on the admin port and the `routes` command: each route with
// its provider and events, its triggers, and each template's params (required or with a default), so users
// can see what a template accepts without reading the YAML.
import type { Config, JsonObject } from '../model.js';
import { describeSchedules } from '../schedule/describe.js';

export function describeRoutes(config: Config, now: number = Date.now()): JsonObject {
  return {
    sha256: config.sha256,
    routes: [...config.routes]
      .sort((a, b) => a.path.localeCompare(b.path))
      .map((route) => ({
        path: route.path,
        provider: route.provider,
        events: route.events ? [...route.events] : null,
        dedupe: route.dedupe,
        triggers: route.triggers.map((t) => ({
          name: t.name,
          events: t.events ? [...t.events] : null,
          filters: t.filters.map((f) => f.source),
          overlays: t.overlays.map((o) => ({ key: o.key, expression: o.expression.source })),
          namespace: t.namespace ?? route.namespace ?? config.gateway.namespace,
          template: {
            name: t.template.name,
            kinds: t.template.resourcetemplates.map((r) => `${String(r.apiVersion)}/${String(r.kind)}`),
            params: t.template.params.map((p) => ({
              name: p.name,
              required: p.default === undefined,
              ...(p.default !== undefined ? { default: p.default } : {}),
              ...(p.description !== undefined ? { description: p.description } : {}),
            })),
          },
        })),
      })),
    schedules: describeSchedules(config, now),
  };
}
