// The routes document → routes.yaml text. Stable: keys of routes and triggers in the contract's order (path,
// provider, secretRef, namespace, events, triggers; name, events, filter, overlays, bindings, template,
// namespace, serviceAccountName), `bindings:` and `templates:` sorted by name, routes sorted by path, and a
// comment above each entry naming the object it came from. Nothing depends on the time or the file names.
import type { JsonObject } from '../model.js';
import { YamlDocument, type Scalar, type YAMLMap, type YAMLSeq } from '../yaml.js';
import type { DocSchedule } from './cronjob.js';
import type { DocBindingEntry, DocRoute, DocTemplate, DocTrigger, RoutesDocument } from './document.js';

/** The yaml package writes `#` plus the text of each line; a leading space reads better. */
const comment = (lines: readonly string[]): string => lines.map((l) => (l === '' ? '' : ` ${l}`)).join('\n');

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export function writeRoutes(doc: RoutesDocument): string {
  const y = new YamlDocument();
  const root = y.createNode({}) as YAMLMap;
  const add = (
    map: YAMLMap,
    key: string,
    value: unknown,
    options: { flow?: boolean; space?: boolean; comment?: readonly string[] } = {},
  ) => {
    const pair = y.createPair(key, value);
    const k = pair.key as Scalar;
    if (options.space) k.spaceBefore = true;
    if (options.comment && options.comment.length > 0) k.commentBefore = comment(options.comment);
    if (options.flow) (pair.value as YAMLMap | YAMLSeq).flow = true;
    map.add(pair);
  };

  add(root, 'apiVersion', 'tekton-gateway/v1');
  if (doc.kinds !== undefined) {
    const gateway = y.createNode({}) as YAMLMap;
    add(gateway, 'kinds', doc.kinds);
    add(root, 'gateway', gateway, { space: true });
  }
  if (doc.bindings.size > 0) {
    const bindings = y.createNode({}) as YAMLMap;
    [...doc.bindings.keys()].sort(byName).forEach((key, i) => {
      const b = doc.bindings.get(key)!;
      add(
        bindings,
        key,
        b.params.map((p) => ({ name: p.name, value: p.value })),
        { space: i > 0, comment: b.comment },
      );
    });
    add(root, 'bindings', bindings, { space: true });
  }
  if (doc.templates.size > 0) {
    const templates = y.createNode({}) as YAMLMap;
    [...doc.templates.keys()].sort(byName).forEach((key, i) => {
      const t = doc.templates.get(key)!;
      add(templates, key, templateValue(t.spec), { space: i > 0, comment: t.comment });
    });
    add(root, 'templates', templates, { space: true });
  }
  const routes = y.createNode([]) as YAMLSeq;
  doc.routes.forEach((route, i) => {
    const node = routeNode(y, route, add);
    if (i > 0) node.spaceBefore = true;
    if (route.comment.length > 0) node.commentBefore = comment(route.comment);
    routes.add(node);
  });
  add(root, 'routes', routes, { space: true });
  if (doc.schedules.length > 0) {
    const schedules = y.createNode([]) as YAMLSeq;
    doc.schedules.forEach((s, i) => {
      const node = scheduleNode(y, s, add);
      if (i > 0) node.spaceBefore = true;
      if (s.comment.length > 0) node.commentBefore = comment(s.comment);
      schedules.add(node);
    });
    add(root, 'schedules', schedules, { space: true });
  }

  y.contents = root;
  if (doc.header.length > 0) y.commentBefore = comment(doc.header);
  return y.toString({ lineWidth: 0, flowCollectionPadding: false });
}

type Add = (
  map: YAMLMap,
  key: string,
  value: unknown,
  options?: { flow?: boolean; space?: boolean; comment?: readonly string[] },
) => void;

function routeNode(y: YamlDocument, route: DocRoute, add: Add): YAMLMap {
  const map = y.createNode({}) as YAMLMap;
  add(map, 'path', route.path);
  add(map, 'provider', route.provider);
  if (route.secretRef) {
    add(
      map,
      'secretRef',
      { secretName: route.secretRef.secretName, secretKey: route.secretRef.secretKey },
      { flow: true },
    );
  }
  if (route.namespace !== undefined) add(map, 'namespace', route.namespace);
  if (route.serviceAccountName !== undefined) add(map, 'serviceAccountName', route.serviceAccountName);
  if (route.events !== undefined) add(map, 'events', [...route.events], { flow: true });
  const triggers = y.createNode([]) as YAMLSeq;
  route.triggers.forEach((t, i) => {
    const node = triggerNode(y, t, add);
    if (i > 0) node.spaceBefore = true;
    if (t.comment.length > 0) node.commentBefore = comment(t.comment);
    triggers.add(node);
  });
  add(map, 'triggers', triggers);
  return map;
}

function triggerNode(y: YamlDocument, t: DocTrigger, add: Add): YAMLMap {
  const map = y.createNode({}) as YAMLMap;
  add(map, 'name', t.name);
  if (t.events !== undefined) add(map, 'events', [...t.events], { flow: true });
  // One filter reads best as a string; several are a list, all of which must be true.
  if (t.filter.length === 1) add(map, 'filter', t.filter[0]);
  else if (t.filter.length > 1) add(map, 'filter', [...t.filter]);
  if (t.overlays.length > 0)
    add(
      map,
      'overlays',
      t.overlays.map((o) => ({ key: o.key, expression: o.expression })),
    );
  if (t.bindings.length > 0) add(map, 'bindings', t.bindings.map(bindingEntry));
  add(map, 'template', typeof t.template === 'string' ? t.template : templateValue(t.template));
  if (t.namespace !== undefined) add(map, 'namespace', t.namespace);
  if (t.serviceAccountName !== undefined) add(map, 'serviceAccountName', t.serviceAccountName);
  return map;
}

function scheduleNode(y: YamlDocument, s: DocSchedule, add: Add): YAMLMap {
  const map = y.createNode({}) as YAMLMap;
  add(map, 'name', s.name);
  add(map, 'cron', s.cron);
  if (s.timeZone !== undefined) add(map, 'timeZone', s.timeZone);
  if (s.namespace !== undefined) add(map, 'namespace', s.namespace);
  if (s.serviceAccountName !== undefined) add(map, 'serviceAccountName', s.serviceAccountName);
  add(map, 'body', s.body, { flow: true });
  if (s.bindings.length > 0) add(map, 'bindings', s.bindings.map(bindingEntry));
  add(map, 'template', typeof s.template === 'string' ? s.template : templateValue(s.template));
  if (s.startingDeadlineSeconds !== undefined) add(map, 'startingDeadlineSeconds', s.startingDeadlineSeconds);
  return map;
}

function bindingEntry(b: DocBindingEntry): Record<string, string> {
  return 'ref' in b ? { ref: b.ref } : { name: b.name, value: b.value };
}

function templateValue(spec: DocTemplate): { params?: unknown[]; resourcetemplates: JsonObject[] } {
  const params = spec.params.map((p) => ({
    name: p.name,
    ...(p.description !== undefined ? { description: p.description } : {}),
    ...(p.default !== undefined ? { default: p.default } : {}),
  }));
  return { ...(params.length > 0 ? { params } : {}), resourcetemplates: [...spec.resourcetemplates] };
}
