// The API server's checks of a created object's metadata and of CreateOptions, with apimachinery's exact
// messages (pkg/api/validate/content, util/validation/field, apiserver's CreateOptions validation). Each function returns field errors; the server wraps them in a 422 Status.
import { quote, type FieldError } from './status.js';

const DNS1123_SUBDOMAIN_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*';
const DNS1123_SUBDOMAIN = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);
const DNS1123_SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', " +
  'and must start and end with an alphanumeric character';
const LABEL_KEY_FMT = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const LABEL_KEY_NAME = new RegExp(`^${LABEL_KEY_FMT}$`);
const LABEL_KEY_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT = `(${LABEL_KEY_FMT})?`;
const LABEL_VALUE_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', " +
  'and must start and end with an alphanumeric character';

/** apimachinery's RegexError; with several examples it really writes `'a',  or 'b'` (two spaces). */
function regexError(message: string, format: string, ...examples: string[]): string {
  const shown = examples.map((e) => `'${e}', `).join(' or ');
  return `${message} (e.g. ${shown}regex used for validation is '${format}')`;
}

const maxLenError = (n: number) => `must be no more than ${n} characters`;

export function dns1123SubdomainErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 253) errors.push(maxLenError(253));
  if (!DNS1123_SUBDOMAIN.test(value)) {
    errors.push(regexError(DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  }
  return errors;
}

export function labelKeyErrors(key: string): string[] {
  const slash = key.indexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (name.includes('/')) {
    return [
      `a valid label key ${regexError(LABEL_KEY_MSG, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  const errors: string[] = [];
  if (slash !== -1) {
    const prefix = key.slice(0, slash);
    if (prefix === '') errors.push('prefix part must be non-empty');
    else errors.push(...dns1123SubdomainErrors(prefix).map((e) => `prefix part ${e}`));
  }
  if (name === '') errors.push('name part must be non-empty');
  else if (name.length > 63) errors.push(`name part ${maxLenError(63)}`);
  if (!LABEL_KEY_NAME.test(name)) {
    errors.push(`name part ${regexError(LABEL_KEY_MSG, LABEL_KEY_FMT, 'MyName', 'my.name', '123-abc')}`);
  }
  return errors;
}

export function labelValueErrors(value: string): string[] {
  const errors: string[] = [];
  if (value.length > 63) errors.push(maxLenError(63));
  if (value !== '' && !LABEL_KEY_NAME.test(value)) {
    errors.push(regexError(LABEL_VALUE_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  }
  return errors;
}

const invalidValue = (field: string, value: string, detail: string): FieldError => ({
  type: 'FieldValueInvalid',
  field,
  body: `Invalid value: ${quote(value)}: ${detail}`,
});

/**
 * ValidateObjectMetaAccessor as the custom-resource strategy runs it: the name was already generated, so
 * both generateName (a trailing '-' masked) and name are checked; then every label key and value.
 * Label errors carry the field `metadata.labels` without the key, as the real server reports them.
 */
export function objectMetaErrors(meta: {
  readonly name: string;
  readonly generateName: string | undefined;
  readonly labels: Readonly<Record<string, unknown>>;
}): FieldError[] {
  const errors: FieldError[] = [];
  if (meta.generateName) {
    // apimachinery's maskTrailingDash really drops the last two characters before appending 'a'.
    const g = meta.generateName;
    const masked = g.length > 1 && g.endsWith('-') ? `${g.slice(0, -2)}a` : g;
    for (const detail of dns1123SubdomainErrors(masked)) {
      errors.push(invalidValue('metadata.generateName', meta.generateName, detail));
    }
  }
  if (meta.name === '') {
    errors.push({
      type: 'FieldValueRequired',
      field: 'metadata.name',
      body: 'Required value: name or generateName is required',
    });
  } else {
    for (const detail of dns1123SubdomainErrors(meta.name)) {
      errors.push(invalidValue('metadata.name', meta.name, detail));
    }
  }
  for (const [key, value] of Object.entries(meta.labels)) {
    for (const detail of labelKeyErrors(key)) errors.push(invalidValue('metadata.labels', key, detail));
    // A non-string value cannot be decoded into map[string]string; the server would answer 400 before this.
    const text = typeof value === 'string' ? value : String(value);
    for (const detail of labelValueErrors(text)) errors.push(invalidValue('metadata.labels', text, detail));
  }
  return errors;
}

/** ValidateCreateOptions: dryRun only "All", fieldManager ≤128, fieldValidation one of three. */
export function createOptionsErrors(query: URLSearchParams): FieldError[] {
  const errors: FieldError[] = [];
  const dryRun = query.getAll('dryRun');
  if (dryRun.some((value) => value !== 'All')) {
    errors.push({
      type: 'FieldValueNotSupported',
      field: 'dryRun',
      body: `Unsupported value: ${JSON.stringify(dryRun)}: supported values: "All"`,
    });
  }
  const fieldManager = query.get('fieldManager') ?? '';
  if (fieldManager.length > 128) {
    errors.push({
      type: 'FieldValueTooLong',
      field: 'fieldManager',
      body: 'Too long: may not be more than 128 bytes',
    });
  }
  const fieldValidation = query.get('fieldValidation') ?? '';
  if (!['', 'Ignore', 'Strict', 'Warn'].includes(fieldValidation)) {
    errors.push({
      type: 'FieldValueNotSupported',
      field: 'fieldValidation',
      body: `Unsupported value: ${quote(fieldValidation)}: supported values: "Ignore", "Strict", "Warn"`,
    });
  }
  return errors;
}
