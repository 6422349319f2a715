// Every problem class of contract §2 is reported as FILE:LINE:COL: <path>: <message>, at the right node,
// and all at once. Positions are found by searching the YAML text for the node, so the expectations read
// as "points at this text".
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigBytes, loadConfigFile } from '../../src/config/load.js';
import { repoRoot } from '../helpers/shared.js';

const HEAD = `apiVersion: tekton-gateway/v1
templates:
  build:
    params:
      - name: url
      - name: tag
        default: latest
    resourcetemplates:
      - apiVersion: tekton.dev/v1
        kind: PipelineRun
        metadata:
          generateName: build-
        spec:
          params:
            - {name: url, value: $(tt.params.url)}
            - {name: tag, value: $(tt.params.tag)}
`;

/** A valid file with one route whose trigger body is given. */
function withTrigger(trigger: string, route = ''): string {
  return `${HEAD}routes:
  - path: /hook
    provider: github
    secretRef: {secretName: gh, secretKey: token}
${route}    triggers:
      - name: t
${trigger}`;
}

/** `FILE:LINE:COL` of the first occurrence of `needle` (plus `shift` characters) in `text`. */
function at(text: string, needle: string, shift = 0, nth = 0): string {
  let index = -1;
  for (let i = 0; i <= nth; i++) index = text.indexOf(needle, index + 1);
  if (index < 0) throw new Error(`"${needle}" not in the YAML`);
  index += shift;
  const before = text.slice(0, index).split('\n');
  return `routes.yaml:${before.length}:${before.at(-1)!.length + 1}`;
}

function problems(text: string, options = {}): string[] {
  const result = loadConfigBytes(Buffer.from(text), 'routes.yaml', options);
  if (result.ok) throw new Error('expected problems, the file loaded');
  return [...result.problems];
}

interface Case {
  name: string;
  yaml: string;
  /** [text to point at, path, message fragment, shift within the text] */
  expect: [needle: string, path: string, message: string, shift?: number, nth?: number];
}

const cases: Case[] = [
  {
    name: 'YAML syntax error',
    yaml: `apiVersion: tekton-gateway/v1\nroutes: [\n`,
    expect: ['\n', '(document)', 'Flow sequence', 1, 1],
  },
  {
    name: 'unknown top-level key (points at the key, suggests the near one)',
    yaml: `${HEAD}rotes: []\nroutes: []\n`,
    expect: ['rotes', 'rotes', 'unknown key (did you mean "routes"?)'],
  },
  {
    name: 'unknown nested key',
    yaml: withTrigger('        templte: build\n        template: build\n'),
    expect: ['templte', 'routes[0].triggers[0].templte', 'unknown key (did you mean "template"?)'],
  },
  {
    name: 'missing required key (points at the enclosing mapping)',
    yaml: `${HEAD}routes:\n  - provider: github\n    secretRef: {secretName: gh, secretKey: token}\n    triggers: [{name: t, template: build, bindings: [{name: url, value: x}]}]\n`,
    expect: ['provider: github', 'routes[0].path', 'is required'],
  },
  {
    name: 'wrong type',
    yaml: `apiVersion: tekton-gateway/v1\ngateway:\n  maxBodyBytes: lots\nroutes: []\n`,
    expect: ['lots', 'gateway.maxBodyBytes', 'must be an integer'],
  },
  {
    name: 'bad enum value',
    yaml: withTrigger(
      '        template: build\n        bindings: [{name: url, value: x}]\n',
      '    dedupe: sometimes\n',
    ),
    expect: ['sometimes', 'routes[0].dedupe', 'must be one of auto, off'],
  },
  {
    name: 'CEL syntax error in a plain scalar (first character of the expression)',
    yaml: withTrigger(
      "        filter: body.ref == 'x' &&\n        template: build\n        bindings: [{name: url, value: x}]\n",
    ),
    expect: ["body.ref == 'x' &&", 'routes[0].triggers[0].filter', 'CEL:'],
  },
  {
    name: 'CEL error in a quoted scalar points inside the quotes',
    yaml: withTrigger(
      '        overlays:\n          - {key: k, expression: "body.a +"}\n        template: build\n        bindings: [{name: url, value: x}]\n',
    ),
    expect: ['"body.a +"', 'routes[0].triggers[0].overlays[0].expression', 'CEL:', 1],
  },
  {
    name: 'CEL error in a list entry',
    yaml: withTrigger(
      "        filter:\n          - body.a == 'b'\n          - body.(\n        template: build\n        bindings: [{name: url, value: x}]\n",
    ),
    expect: ['body.(', 'routes[0].triggers[0].filter[1]', 'CEL:'],
  },
  {
    name: 'compareSecret with three arguments (secrets come from the secrets directory)',
    yaml: withTrigger(
      "        filter: \"header.canonical('X-Token').compareSecret('token', 'gh', 'ns')\"\n        template: build\n        bindings: [{name: url, value: x}]\n",
    ),
    expect: ["header.canonical('X-Token')", 'routes[0].triggers[0].filter', 'compareSecret'],
  },
  {
    name: 'unknown template name',
    yaml: withTrigger('        template: biuld\n        bindings: [{name: url, value: x}]\n'),
    expect: [
      'biuld',
      'routes[0].triggers[0].template',
      'template "biuld" is not defined under templates: (defined: build)',
    ],
  },
  {
    name: 'unknown binding ref',
    yaml: withTrigger('        template: build\n        bindings: [{ref: nope}, {name: url, value: x}]\n'),
    expect: ['nope', 'routes[0].triggers[0].bindings[0].ref', 'binding "nope" is not defined'],
  },
  {
    name: 'template uses an undeclared param',
    yaml: HEAD.replace('$(tt.params.tag)', '$(tt.params.tga)') + 'routes: []\n',
    expect: [
      '$(tt.params.tga)',
      'templates.build.resourcetemplates[0].spec.params[1].value',
      'does not declare',
    ],
  },
  {
    name: 'declared param without default is not bound by the trigger',
    yaml: withTrigger('        template: build\n'),
    expect: ['name: t\n', 'routes[0].triggers[0]', 'param "url" of template "build" has no default'],
  },
  {
    name: 'binding param set twice',
    yaml: `${HEAD}bindings:\n  repo:\n    - {name: url, value: $(body.url)}\n${withTrigger('        template: build\n        bindings: [{ref: repo}, {name: url, value: x}]\n').slice(HEAD.length)}`,
    expect: ['{name: url, value: x}', 'routes[0].triggers[0].bindings[1]', 'param "url" is set twice'],
  },
  {
    name: 'metadata.namespace from the payload',
    yaml:
      HEAD.replace('generateName: build-', 'generateName: build-\n          namespace: $(tt.params.tag)') +
      'routes: []\n',
    expect: [
      '$(tt.params.tag)',
      'templates.build.resourcetemplates[0].metadata.namespace',
      'must be literal',
      0,
      0,
    ],
  },
  {
    name: 'kind not in gateway.kinds',
    yaml: HEAD.replace('kind: PipelineRun', 'kind: Deployment') + 'routes: []\n',
    expect: ['Deployment', 'templates.build.resourcetemplates[0].kind', 'is not in gateway.kinds'],
  },
  {
    name: 'duplicate route path',
    yaml: `${withTrigger('        template: build\n        bindings: [{name: url, value: x}]\n')}  - path: /hook\n    provider: none\n    triggers: [{name: t, template: build, bindings: [{name: url, value: x}]}]\n`,
    expect: ['/hook', 'routes[1].path', 'already used by routes[0]', 0, 1],
  },
  {
    name: 'reserved path',
    yaml: `${HEAD}routes:\n  - path: /healthz\n    provider: none\n    triggers: [{name: t, template: build, bindings: [{name: url, value: x}]}]\n`,
    expect: ['/healthz', 'routes[0].path', 'is reserved'],
  },
  {
    name: 'provider without secretRef',
    yaml: `${HEAD}routes:\n  - path: /gh\n    provider: github\n    triggers: [{name: t, template: build, bindings: [{name: url, value: x}]}]\n`,
    expect: ['path: /gh', 'routes[0].secretRef', 'is required for provider github'],
  },
  {
    name: 'invalid $(…) inside a binding',
    yaml: withTrigger('        template: build\n        bindings: [{name: url, value: "$({.a)"}]\n'),
    expect: ['"$({.a)"', 'routes[0].triggers[0].bindings[0].value', '$({.a)'],
  },
  {
    name: 'unterminated $( in a binding',
    yaml: withTrigger('        template: build\n        bindings: [{name: url, value: "x $(body.a"}]\n'),
    expect: ['"x $(body.a"', 'routes[0].triggers[0].bindings[0].value', 'has no closing ")"'],
  },
  {
    name: 'unterminated $( in a template',
    yaml: HEAD.replace('value: $(tt.params.tag)}', 'value: "$(tt.params.tag"}') + 'routes: []\n',
    expect: [
      '"$(tt.params.tag"',
      'templates.build.resourcetemplates[0].spec.params[1].value',
      'has no closing ")"',
    ],
  },
  {
    name: 'duplicate trigger names',
    yaml: withTrigger(
      '        template: build\n        bindings: [{name: url, value: x}]\n      - {name: t, template: build, bindings: [{name: url, value: y}]}\n',
    ),
    expect: ['t, template', 'routes[0].triggers[1].name', 'trigger "t" is already defined'],
  },
  {
    name: 'duplicate YAML key',
    yaml: `apiVersion: tekton-gateway/v1\napiVersion: tekton-gateway/v1\nroutes: []\n`,
    expect: ['apiVersion', '(document)', 'unique', 0, 1],
  },
];

describe('routes.yaml problems', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const [needle, path, message, shift = 0, nth = 0] = c.expect;
    const found = problems(c.yaml);
    const prefix = `${at(c.yaml, needle, shift, nth)}: ${path}: `;
    const match = found.find((p) => p.startsWith(prefix) && p.includes(message));
    expect(match, `wanted ${prefix}…${message}…\ngot:\n${found.join('\n')}`).toBeDefined();
  });

  it('reports every problem at once, in file order', () => {
    const yaml = `${HEAD}routes:
  - path: /a
    provider: gitlab
    secretRef: {secretName: gl, secretKey: token}
    triggers:
      - name: one
        template: nope
      - name: two
        templte: build
        template: build
        bindings: [{name: url, value: "$(body"}]
`;
    const found = problems(yaml);
    expect(found).toEqual([
      expect.stringContaining(`${at(yaml, 'nope')}: routes[0].triggers[0].template: template "nope"`),
      expect.stringContaining(`${at(yaml, 'templte')}: routes[0].triggers[1].templte: unknown key`),
      expect.stringContaining(`${at(yaml, '"$(body"')}: routes[0].triggers[1].bindings[0].value:`),
    ]);
  });

  it('checks secret files only when given a secrets directory, naming the file', () => {
    const yaml = withTrigger('        template: build\n        bindings: [{name: url, value: x}]\n');
    expect(loadConfigBytes(Buffer.from(yaml), 'routes.yaml').ok).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const found = problems(yaml, { secretsDir: dir });
    expect(found).toEqual([
      `${at(yaml, '{secretName: gh')}: routes[0].secretRef: secret file ${join(dir, 'gh', 'token')} does not exist (mount Secret gh with key token)`,
    ]);
    mkdirSync(join(dir, 'gh'));
    writeFileSync(join(dir, 'gh', 'token'), 'x\n');
    expect(loadConfigBytes(Buffer.from(yaml), 'routes.yaml', { secretsDir: dir }).ok).toBe(true);
  });

  // The loader compiles each distinct expression once and checks each secret file once (issue #8); every
  // place that uses them must still get its own problem, at its own line.
  it('reports a repeated bad expression and a repeated missing secret at every place they appear', () => {
    const route = (path: string) => `  - path: ${path}
    provider: github
    secretRef: {secretName: gh, secretKey: token}
    triggers:
      - name: t
        filter: body.ref ==
        template: build
        bindings: [{name: url, value: x}]
`;
    const yaml = `${HEAD}routes:\n${route('/a')}${route('/b')}`;
    const dir = mkdtempSync(join(tmpdir(), 'secrets-'));
    const found = problems(yaml, { secretsDir: dir });
    for (const [i, nth] of [
      [0, 0],
      [1, 1],
    ]) {
      expect(found).toContainEqual(
        expect.stringContaining(`${at(yaml, 'body.ref ==', 0, nth)}: routes[${i}].triggers[0].filter: CEL:`),
      );
      expect(found).toContainEqual(
        expect.stringContaining(
          `${at(yaml, '{secretName: gh', 0, nth)}: routes[${i}].secretRef: secret file`,
        ),
      );
    }
  });

  it('names an unreadable file', () => {
    const result = loadConfigFile('/nonexistent/routes.yaml');
    expect(result).toEqual({
      ok: false,
      problems: ['/nonexistent/routes.yaml: cannot read the file: ENOENT'],
    });
  });

  it('loads the example routes.yaml into a frozen snapshot, longest path first', () => {
    const result = loadConfigFile(join(repoRoot, 'routes.yaml'));
    if (!result.ok) throw new Error(result.problems.join('\n'));
    const { config } = result;
    expect(config.routes.map((r) => r.path)).toEqual(['/gitlab', '/github', '/gitea']);
    expect(Object.isFrozen(config.routes[0])).toBe(true);
    expect(Object.isFrozen(config.templates.get('build-image')!.resourcetemplates[0])).toBe(true);
    expect(config.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
