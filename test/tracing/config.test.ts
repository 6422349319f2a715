// `tracing: {trustParent}` on a route (contract §15, §12.0 item 16): parsed into the route, checked like
// every other key, and refused where there is no signature to trust a sender's trace by.
import { describe, expect, it } from 'vitest';
import { loadConfigBytes } from '../../src/config/load.js';

function routes(route: string, provider = 'github'): string {
  return `apiVersion: tekton-gateway/v1
routes:
  - path: /hook
    provider: ${provider}
${provider === 'none' ? '' : '    secretRef: {secretName: gh, secretKey: token}\n'}${route}    triggers:
      - name: t
        template:
          resourcetemplates:
            - apiVersion: tekton.dev/v1
              kind: PipelineRun
              metadata: {generateName: build-}
              spec: {pipelineRef: {name: build}}
`;
}

function load(text: string) {
  return loadConfigBytes(Buffer.from(text), 'routes.yaml');
}

describe('route tracing', () => {
  it.each([
    { name: 'absent: no tracing settings', yaml: '', want: undefined },
    { name: 'trustParent: true', yaml: '    tracing: {trustParent: true}\n', want: { trustParent: true } },
    { name: 'trustParent: false', yaml: '    tracing: {trustParent: false}\n', want: { trustParent: false } },
    { name: 'empty mapping: the default', yaml: '    tracing: {}\n', want: { trustParent: false } },
  ])('$name', ({ yaml, want }) => {
    const loaded = load(routes(yaml));
    if (!loaded.ok) throw new Error(loaded.problems.join('\n'));
    expect(loaded.config.routes[0]!.tracing).toEqual(want);
  });

  it.each([
    {
      name: 'a string is not a boolean',
      yaml: '    tracing: {trustParent: "yes"}\n',
      problem: 'routes.yaml:6:28: routes[0].tracing.trustParent: must be true or false (found "yes")',
    },
    {
      name: 'an unknown key is named with its neighbour',
      yaml: '    tracing: {trustParents: true}\n',
      problem: 'routes[0].tracing.trustParents: unknown key (did you mean "trustParent"?)',
    },
    {
      name: 'provider none has no signature to trust a traceparent by',
      yaml: '    tracing: {trustParent: true}\n',
      provider: 'none',
      problem: 'routes[0].tracing.trustParent: provider none verifies nothing',
    },
  ])('refused: $name', ({ yaml, problem, provider }) => {
    const loaded = load(routes(yaml, provider));
    expect(loaded.ok).toBe(false);
    if (loaded.ok) return;
    expect(loaded.problems.join('\n')).toContain(problem);
  });
});
