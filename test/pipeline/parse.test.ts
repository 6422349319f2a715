// parseBody's nesting limit (contract §3 step 5). The check skips its byte scan when a body has too few
// brackets to nest past the limit (issue #8: the scan cost more than JSON.parse on a 30 KB push), so these
// cases pin that the answer is the same either way: at, just over, and far under the limit, with brackets
// hidden in strings, escaped quotes and multi-byte characters in the way.
import { describe, expect, it } from 'vitest';
import { MAX_DEPTH, parseBody } from '../../src/pipeline/parse.js';

const nested = (depth: number, inner = '1') => `${'['.repeat(depth)}${inner}${']'.repeat(depth)}`;
/** Many brackets (so the fast path cannot decide) but shallow: `[[],[],…]`. */
const wide = (count: number) => `{"a":[${Array.from({ length: count }, () => '[]').join(',')}]}`;

describe('parseBody nesting limit', () => {
  it.each([
    { name: 'exactly the limit', text: `{"a":${nested(MAX_DEPTH - 1)}}`, ok: true },
    { name: 'one level over the limit', text: `{"a":${nested(MAX_DEPTH)}}`, ok: false },
    { name: 'far over the limit', text: `{"a":${nested(100_000)}}`, ok: false },
    { name: 'many brackets, shallow', text: wide(5_000), ok: true },
    { name: 'brackets inside a string do not nest', text: `{"a":"${'['.repeat(2_000)}"}`, ok: true },
    {
      name: 'an escaped quote does not end the string',
      text: `{"a":"\\"${'{'.repeat(2_000)}"}`,
      ok: true,
    },
    {
      name: 'an escaped backslash before a quote does end it',
      text: `{"a":"\\\\", "b":${nested(MAX_DEPTH)}}`,
      ok: false,
    },
    {
      name: 'multi-byte characters around deep nesting',
      text: `{"é":"€",${`"b":${nested(MAX_DEPTH)}`}}`,
      ok: false,
    },
    { name: 'a leading BOM and deep nesting', text: `\uFEFF{"a":${nested(MAX_DEPTH)}}`, ok: false },
  ])('$name', ({ text, ok }) => {
    const result = parseBody(Buffer.from(text, 'utf8'));
    if (ok) expect(result).toMatchObject({ ok: true });
    else expect(result).toEqual({ ok: false, message: `the body nests deeper than ${MAX_DEPTH} levels` });
  });

  it('still refuses invalid UTF-8 before looking at the nesting', () => {
    const body = Buffer.concat([
      Buffer.from(`{"a":${nested(MAX_DEPTH)},"b":"`),
      Buffer.from([0xff]),
      Buffer.from('"}'),
    ]);
    expect(parseBody(body)).toEqual({ ok: false, message: 'the body is not valid UTF-8' });
  });
});
