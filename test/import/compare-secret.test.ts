// Tekton's 3-argument compareSecret is a load error for the gateway (contract §2); import drops the namespace
// argument and leaves the rest of the expression exactly as written.
import { describe, expect, it } from 'vitest';
import { dropCompareSecretNamespace } from '../../src/import/compare-secret.js';

describe('dropCompareSecretNamespace', () => {
  it.each([
    {
      name: 'the 3-argument form loses its namespace',
      source: "header.canonical('X-Token').compareSecret('token', 'hook', 'ci')",
      want: "header.canonical('X-Token').compareSecret('token', 'hook')",
      dropped: ["'ci'"],
    },
    {
      name: 'the 2-argument form is unchanged',
      source: "header.canonical('X-Token').compareSecret('token', 'hook')",
      want: "header.canonical('X-Token').compareSecret('token', 'hook')",
      dropped: [],
    },
    {
      name: 'commas and parentheses inside arguments and strings do not confuse it',
      source: "f(a, b).compareSecret('k,(', g('x', 'y'), 'n)s') && body.x == 'compareSecret(a, b, c)'",
      want: "f(a, b).compareSecret('k,(', g('x', 'y')) && body.x == 'compareSecret(a, b, c)'",
      dropped: ["'n)s'"],
    },
    {
      name: 'every call is rewritten',
      source: "a.compareSecret('k', 's', 'n') || b . compareSecret ('k', 's', \"n2\")",
      want: "a.compareSecret('k', 's') || b . compareSecret ('k', 's')",
      dropped: ["'n'", '"n2"'],
    },
    {
      name: 'a name that only looks like the function is left alone',
      source: "compareSecret('a', 'b', 'c') || body.compareSecretary('a', 'b', 'c')",
      want: "compareSecret('a', 'b', 'c') || body.compareSecretary('a', 'b', 'c')",
      dropped: [],
    },
  ])('$name', ({ source, want, dropped }) => {
    expect(dropCompareSecretNamespace(source)).toEqual({ source: want, dropped });
  });
});
