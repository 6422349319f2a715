// Builds CelInput the way the pipeline hands it to intercept(): headers canonicalised as Go's http.Header,
// the body as JSON.parse gives it (every number a double), secrets looked up by name and key.
import { canonicalHeaders } from '../../src/pipeline/canonical-header.js';
import type { CelInput, JsonValue, SecretLookup } from '../../src/model.js';

export interface SecretFixture {
  readonly name: string;
  readonly data: Readonly<Record<string, string>>;
}

export function secretLookup(secrets: readonly SecretFixture[]): SecretLookup {
  return ({ secretName, secretKey }) => {
    const value = secrets.find((s) => s.name === secretName)?.data[secretKey];
    return value === undefined ? undefined : Buffer.from(value, 'utf8');
  };
}

export function celInput(options: {
  body?: JsonValue;
  headers?: Readonly<Record<string, readonly string[]>>;
  requestURL?: string;
  secrets?: readonly SecretFixture[];
}): CelInput {
  return {
    body: options.body ?? {},
    header: canonicalHeaders(options.headers ?? {}),
    requestURL: options.requestURL ?? '',
    extensions: {},
    secrets: secretLookup(options.secrets ?? []),
  };
}
