// The validation helpers where apimachinery has quirks a straightforward rewrite would "fix".
import { describe, expect, it } from 'vitest';
import {
  createOptionsErrors,
  dns1123SubdomainErrors,
  labelValueErrors,
  objectMetaErrors,
} from './validation.js';

describe('objectMetaErrors', () => {
  it.each([
    // maskTrailingDash drops the last TWO characters before appending 'a': 'a-.-' is checked as 'a-a'.
    { generateName: 'a-.-', errors: 0 },
    { generateName: 'build-', errors: 0 },
    { generateName: 'a-', errors: 0 },
    // '-' alone is not masked (length 1) and fails.
    { generateName: '-', errors: 1 },
  ])('generateName $generateName gives $errors error(s)', ({ generateName, errors }) => {
    const found = objectMetaErrors({ name: 'valid-name', generateName, labels: {} });
    expect(found.filter((e) => e.field === 'metadata.generateName')).toHaveLength(errors);
  });

  it('reports label errors on metadata.labels, keys and values alike', () => {
    const found = objectMetaErrors({
      name: 'n',
      generateName: undefined,
      labels: { 'bad key': 'bad value' },
    });
    expect(found.map((e) => [e.field, e.body.slice(0, 26)])).toEqual([
      ['metadata.labels', 'Invalid value: "bad key": '],
      ['metadata.labels', 'Invalid value: "bad value"'],
    ]);
  });
});

describe('single rules', () => {
  it('a 254-character subdomain fails on length and, ending in a dash, on the pattern', () => {
    expect(dns1123SubdomainErrors(`${'a'.repeat(253)}-`)).toHaveLength(2);
    expect(dns1123SubdomainErrors('a'.repeat(253))).toEqual([]);
  });

  it('an empty label value is valid; 63 characters are the limit', () => {
    expect(labelValueErrors('')).toEqual([]);
    expect(labelValueErrors('v'.repeat(63))).toEqual([]);
    expect(labelValueErrors('v'.repeat(64))).toEqual(['must be no more than 63 characters']);
  });

  it('CreateOptions: a 129-character fieldManager and an unknown fieldValidation', () => {
    const query = new URLSearchParams({ fieldManager: 'm'.repeat(129), fieldValidation: 'Loose' });
    expect(createOptionsErrors(query).map((e) => `${e.field}: ${e.body}`)).toEqual([
      'fieldManager: Too long: may not be more than 128 bytes',
      'fieldValidation: Unsupported value: "Loose": supported values: "Ignore", "Strict", "Warn"',
    ]);
  });
});
