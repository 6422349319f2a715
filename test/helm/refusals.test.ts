// The chart refuses what the release could not serve (issue #12): routes it cannot read as routes.yaml (it
// derives RBAC and Secret mounts from them, so a typo would silently drop the RoleBinding), a webhook port
// equal to the admin port, and an Ingress path that reaches no route. And it accepts every key that
// routes.yaml may hold, so a valid file is never refused.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import { CHART_DIR, REPO, type RenderOptions, tryRender } from './render.js';

type Doc = Record<string, unknown>;

/** The routes document values.yaml ships: one /github route with one trigger. */
const BASE = parseYaml(
  (parseYaml(readFileSync(path.join(CHART_DIR, 'values.yaml'), 'utf8')) as { routes: string }).routes,
) as Doc;

function routesWith(edit: (doc: Doc, route: Doc, trigger: Doc) => void): string {
  const doc = structuredClone(BASE);
  const route = (doc.routes as Doc[])[0] as Doc;
  edit(doc, route, (route.triggers as Doc[])[0] as Doc);
  return stringify(doc);
}

function error(options: RenderOptions): string {
  const result = tryRender(options);
  return result.ok ? 'rendered without error' : result.error;
}

interface Refused {
  name: string;
  options: RenderOptions;
  error: RegExp;
}

const REFUSED: readonly Refused[] = [
  {
    name: 'an unknown top-level key',
    options: { values: { routes: routesWith((doc) => (doc.trigers = [])) } },
    error:
      /routes: unknown top-level key "trigers" \(known: apiVersion, gateway, .*\); run `tekton-gateway validate`/,
  },
  {
    name: 'triggers misspelt in a route (it would render no RoleBinding)',
    options: {
      values: {
        routes: routesWith((_doc, route) => {
          route.trigers = route.triggers;
          delete route.triggers;
        }),
      },
    },
    error: /routes: routes\[0\]\.trigers is not a route key \(known: path, provider, /,
  },
  {
    name: 'an unknown trigger key',
    options: { values: { routes: routesWith((_d, _r, trigger) => (trigger.namepsace = 'ci')) } },
    error: /routes: routes\[0\]\.triggers\[0\]\.namepsace is not a trigger key/,
  },
  {
    name: 'a route without triggers',
    options: { values: { routes: routesWith((_d, route) => delete route.triggers) } },
    error: /routes: routes\[0\] \(\/github\) needs triggers: a list of at least one trigger/,
  },
  {
    name: 'a route without a path',
    options: { values: { routes: routesWith((_d, route) => delete route.path) } },
    error: /routes: routes\[0\]\.path is required/,
  },
  {
    name: 'no routes list',
    options: { values: { routes: 'apiVersion: tekton-gateway/v1\nroute: []\n' } },
    error: /routes: unknown top-level key "route"/,
  },
  {
    name: 'an empty routes list',
    options: { values: { routes: 'apiVersion: tekton-gateway/v1\nroutes: []\n' } },
    error: /routes: routes must be a list of at least one route/,
  },
  {
    name: 'another apiVersion (e.g. a Tekton EventListener pasted in)',
    options: { values: { routes: routesWith((doc) => (doc.apiVersion = 'triggers.tekton.dev/v1beta1')) } },
    error: /routes: apiVersion must be tekton-gateway\/v1, not "triggers\.tekton\.dev\/v1beta1"/,
  },
  {
    name: 'a document that is a list, not a mapping',
    options: { values: { routes: '- path: /github\n' } },
    error: /routes is not valid YAML: .*cannot unmarshal array into Go value of type map/,
  },
  {
    name: 'routes given as YAML under the key, with a typo',
    options: { values: { routes: parseYaml(routesWith((doc) => (doc.trigers = []))) as Doc } },
    error: /unknown top-level key "trigers"/,
  },
  {
    name: 'the webhook port equal to the admin port',
    options: { values: { ports: { http: 9090, admin: 9090 } } },
    error: /ports\.http and ports\.admin are both 9090: the webhook port and the admin port must differ/,
  },
  {
    name: 'an Ingress path under which no route lies',
    options: { values: { ingress: { enabled: true, host: 'hooks.example.com', path: '/hooks' } } },
    error:
      /ingress\.path \/hooks \(pathType Prefix\) reaches no route: requests keep their path, and the routes are \/github\. Give the routes paths under it \(e\.g\. \/hooks\/github\)/,
  },
  {
    name: 'an Exact Ingress path that no route takes',
    options: {
      values: { ingress: { enabled: true, host: 'h.example.com', path: '/githubx', pathType: 'Exact' } },
    },
    error: /ingress\.path \/githubx \(pathType Exact\) reaches no route/,
  },
  {
    name: 'a Prefix Ingress path that only shares characters with a route, not a / boundary',
    options: { values: { ingress: { enabled: true, host: 'h.example.com', path: '/git' } } },
    error: /ingress\.path \/git \(pathType Prefix\) reaches no route/,
  },
];

describe('the chart refuses what it cannot serve', () => {
  it.each(REFUSED)('$name', ({ options, error: expected }) => {
    expect(error(options)).toMatch(expected);
  });
});

interface Served {
  name: string;
  ingress: { path: string; pathType?: string };
  routePaths: readonly string[];
}

const SERVED: readonly Served[] = [
  { name: 'Ingress / reaches every route', ingress: { path: '/' }, routePaths: ['/github'] },
  {
    name: 'routes under the Ingress path',
    ingress: { path: '/hooks' },
    routePaths: ['/other', '/hooks/github'],
  },
  {
    name: 'a trailing slash on the Ingress path',
    ingress: { path: '/hooks/' },
    routePaths: ['/hooks/github'],
  },
  { name: 'a route at the Ingress path itself', ingress: { path: '/hooks' }, routePaths: ['/hooks'] },
  { name: 'a route above the Ingress path', ingress: { path: '/hooks/github' }, routePaths: ['/hooks'] },
  { name: 'the catch-all route /', ingress: { path: '/hooks' }, routePaths: ['/'] },
  {
    name: 'an Exact path a route takes',
    ingress: { path: '/github', pathType: 'Exact' },
    routePaths: ['/github'],
  },
  {
    name: 'an Exact path under a route',
    ingress: { path: '/github/org', pathType: 'Exact' },
    routePaths: ['/github'],
  },
];

describe('the chart serves what reaches a route', () => {
  it.each(SERVED)('$name', ({ ingress, routePaths }) => {
    const routes = routesWith((doc, route) => {
      doc.routes = routePaths.map((p) => ({ ...route, path: p }));
    });
    const values = { routes, ingress: { enabled: true, host: 'hooks.example.com', ...ingress } };
    expect(error({ values })).toBe('rendered without error');
  });

  it('with routes in a ConfigMap it cannot read, the chart checks nothing it cannot see', () => {
    const values = {
      routesConfigMap: { name: 'elsewhere' },
      ingress: { enabled: true, host: 'hooks.example.com', path: '/hooks' },
    };
    expect(error({ values })).toBe('rendered without error');
  });
});

interface SchemaNode {
  type?: string | string[];
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  oneOf?: SchemaNode[];
  anyOf?: SchemaNode[];
}

/** A value of the key's first JSON type: the chart judges key names, and must not trip over the value. */
function sample(node: SchemaNode): unknown {
  const alternatives = [node, ...(node.oneOf ?? []), ...(node.anyOf ?? [])];
  const types = alternatives.flatMap((n) => (n.type === undefined ? [] : [n.type].flat()));
  if (types.includes('object')) return {};
  if (types.includes('array')) return [];
  if (types.includes('integer') || types.includes('number')) return 1;
  if (types.includes('boolean')) return true;
  return 'x';
}

describe('the chart accepts every key routes.schema.json allows', () => {
  const schema = JSON.parse(readFileSync(path.join(REPO, 'routes.schema.json'), 'utf8')) as SchemaNode;
  const routeNode = schema.properties?.routes?.items ?? {};
  const triggerNode = routeNode.properties?.triggers?.items ?? {};
  const levels = [
    { level: 'top', node: schema, at: (doc: Doc) => doc },
    { level: 'route', node: routeNode, at: (_doc: Doc, route: Doc) => route },
    { level: 'trigger', node: triggerNode, at: (_doc: Doc, _route: Doc, trigger: Doc) => trigger },
  ];
  const cases = levels.flatMap(({ level, node, at }) =>
    Object.entries(node.properties ?? {}).map(([key, keyNode]) => ({
      name: `${level}: ${key}`,
      key,
      keyNode,
      at,
    })),
  );

  it('finds the keys to try', () => {
    expect(cases.map((c) => c.name)).toEqual(
      expect.arrayContaining(['top: apiVersion', 'route: path', 'route: triggers', 'trigger: template']),
    );
  });

  it.each(cases)('$name', ({ key, keyNode, at }) => {
    const routes = routesWith((doc, route, trigger) => {
      const target = at(doc, route, trigger);
      if (!(key in target)) target[key] = sample(keyNode);
    });
    expect(error({ values: { routes } })).toBe('rendered without error');
  });
});
