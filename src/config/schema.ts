// The shape of routes.yaml (contract §2), the single source for the loader's structural checks and for the
// published routes.schema.json (`npm run schema` writes it; a test fails when it is stale).
import { PROVIDERS } from '../model.js';
import { ALL_EVENT_NAMES } from './event-names.js';
import type { ArraySchema, EitherSchema, ObjectSchema, Schema, StringSchema } from './schema-dsl.js';

const str = (description: string, extra: Partial<StringSchema> = {}): StringSchema => ({
  type: 'string',
  minLength: 1,
  description,
  ...extra,
});

const DNS_LABEL = {
  regex: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/,
  message:
    "must be a Kubernetes name: lower-case letters, digits and '-', starting and ending with a letter or digit",
};
const DNS_SUBDOMAIN = {
  regex: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
  message:
    "must be a Kubernetes name: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit",
};
const PARAM_NAME = {
  regex: /^[_a-zA-Z][_a-zA-Z0-9.-]*$/,
  message:
    "must start with a letter or '_' and contain only letters, digits, '_', '.' and '-' (Tekton's param name rule)",
};
const HEADER_NAME = {
  regex: /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/,
  message: 'must be an HTTP header name',
};

const namespace = str('Namespace the objects are created in', { maxLength: 63, pattern: DNS_LABEL });
const serviceAccountName = str(
  'Create as system:serviceaccount:<namespace>:<name> (impersonation); the account lives in the namespace the object is created in',
  { maxLength: 253, pattern: DNS_SUBDOMAIN },
);
const stringList = (description: string): ArraySchema => ({
  type: 'array',
  items: str('An entry'),
  minItems: 1,
  description,
});

/** Event names: each provider's known names are offered as completions; the loader checks them per provider. */
const eventList = (description: string): ArraySchema => ({
  ...stringList(description),
  items: str('An event name as the provider sends it (e.g. push, Push Hook, repo:push)', {
    examples: ALL_EVENT_NAMES,
  }),
});

const secretRefObject: ObjectSchema = {
  type: 'object',
  description: 'A Kubernetes Secret and key, read from $SECRETS_DIR/<secretName>/<secretKey>',
  properties: {
    secretName: str('Name of the Kubernetes Secret', { maxLength: 253, pattern: DNS_SUBDOMAIN }),
    secretKey: str('Key in the Secret', {
      pattern: {
        regex: /^[-._a-zA-Z0-9]+$/,
        message: "must be a Secret key: letters, digits, '-', '_' and '.'",
      },
    }),
  },
  required: ['secretName', 'secretKey'],
};

const secretRef: EitherSchema = {
  type: 'either',
  description: 'The webhook secret; a list rotates: a request passes when any of them verifies it',
  map: secretRefObject,
  seq: { type: 'array', items: secretRefObject, minItems: 1 },
  expected: 'a {secretName, secretKey} mapping or a list of them',
};

const bindingParam: ObjectSchema = {
  type: 'object',
  description:
    'A param and its value; $(body.x), $(header.X), $(extensions.x) and $(context.eventID) are replaced',
  properties: {
    name: str('Param name', { pattern: PARAM_NAME }),
    value: { type: 'string', description: 'Value; text around $(…) references is kept' },
  },
  required: ['name', 'value'],
};

const bindingEntry: ObjectSchema = {
  type: 'object',
  description: 'An inline {name, value} param or {ref} to a reusable binding',
  properties: {
    ref: str('Name of an entry under bindings:'),
    name: bindingParam.properties.name!,
    value: bindingParam.properties.value!,
  },
};

const templateParam: ObjectSchema = {
  type: 'object',
  properties: {
    name: str('Param name, used as $(tt.params.<name>)', { pattern: PARAM_NAME }),
    description: { type: 'string', description: 'What the param is for' },
    default: {
      type: 'string',
      description: 'Value when no binding sets it, or when the binding finds nothing',
    },
  },
  required: ['name'],
};

const template: ObjectSchema = {
  type: 'object',
  description: "Like Tekton's TriggerTemplate spec",
  properties: {
    params: { type: 'array', items: templateParam, description: 'Declared params' },
    resourcetemplates: {
      type: 'array',
      items: { type: 'json-object', description: 'A PipelineRun, TaskRun or other allowed kind' },
      minItems: 1,
      description: 'Objects to create; $(tt.params.X) and $(uid) are replaced inside string values',
    },
  },
  required: ['resourcetemplates'],
};

const cel = (description: string): StringSchema => str(description);

const keepSchema: EitherSchema = {
  type: 'either',
  description: 'Finished runs kept per trigger (v2, §12.2); false turns an inherited keep off',
  scalar: { type: 'integer', minimum: 1, allowFalse: true },
  map: {
    type: 'object',
    properties: {
      successful: { type: 'integer', minimum: 1, description: 'Succeeded runs kept' },
      failed: { type: 'integer', minimum: 1, description: 'Failed, timed-out and cancelled runs kept' },
    },
  },
  expected: 'a number, false, or {successful, failed}',
};

function statusSchema(description: string): EitherSchema {
  return {
    type: 'either',
    description,
    scalar: { type: 'boolean', only: false },
    map: {
      type: 'object',
      properties: {
        tokenRef: secretRefObject,
        app: {
          type: 'object',
          description: 'github only: a GitHub App instead of tokenRef; installation = body.installation.id',
          properties: { id: { type: 'integer', minimum: 1 }, privateKeyRef: secretRefObject },
          required: ['id', 'privateKeyRef'],
        },
        basicAuthRef: {
          type: 'object',
          description: 'Bitbucket Cloud only: username and app password',
          properties: { usernameRef: secretRefObject, passwordRef: secretRefObject },
          required: ['usernameRef', 'passwordRef'],
        },
        apiURL: str('API root; defaults only for github.com, gitlab.com and bitbucket.org'),
        context: str('Status name; default <gateway.name>/<trigger name>'),
        targetURL: str('Link shown with the status'),
        repository: str('Binding value; default per provider and event'),
        commit: str('Binding value; default per provider and event'),
        flavor: {
          type: 'string',
          enum: ['cloud', 'datacenter'],
          description: 'provider bitbucket: which API',
        },
      },
    },
    expected: 'false or a {tokenRef, apiURL, …} mapping',
  };
}

const trigger: ObjectSchema = {
  type: 'object',
  properties: {
    name: str('Unique within the route; the triggers.tekton.dev/trigger label', {
      maxLength: 63,
      pattern: {
        regex: /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/,
        message:
          "must be a valid label value: letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
      },
    }),
    events: eventList("Provider event names this trigger accepts; narrows the route's events"),
    filter: {
      type: 'either',
      description: 'CEL; a list means all must be true',
      scalar: cel('A CEL expression that must return true'),
      seq: { type: 'array', items: cel('A CEL expression that must return true'), minItems: 1 },
      expected: 'a CEL expression or a list of them',
    },
    overlays: {
      type: 'array',
      description: 'CEL results stored in extensions.<key>, evaluated after the filter',
      items: {
        type: 'object',
        properties: {
          key: str('Where the result goes: extensions.<key>; dots nest, \\. escapes a dot'),
          expression: cel('A CEL expression'),
        },
        required: ['key', 'expression'],
      },
    },
    bindings: { type: 'array', items: bindingEntry, description: 'Params for the template' },
    template: {
      type: 'either',
      description: 'A name from templates:, or an inline {params, resourcetemplates}',
      scalar: str('Name of an entry under templates:'),
      map: template,
      expected: 'a template name or an inline {params, resourcetemplates}',
    },
    namespace,
    serviceAccountName,
    status: statusSchema(
      "Commit status to the Git host (v2, §12.1); replaces the route's; false turns it off",
    ),
    keep: keepSchema,
    concurrency: {
      type: 'object',
      description: 'Groups, cancel-in-progress and a limit (v2, §12.3)',
      properties: {
        key: str('Binding syntax; runs whose key renders the same form a group (per namespace)'),
        cancelInProgress: {
          type: 'boolean',
          description: "A new run cancels its group's older unfinished runs",
        },
        limit: {
          type: 'integer',
          minimum: 1,
          description: 'At most this many started and unfinished at once',
        },
      },
      required: ['key'],
    },
  },
  required: ['name', 'template'],
};

const route: ObjectSchema = {
  type: 'object',
  properties: {
    path: str('URL path prefix; matches at / boundaries, the longest wins', {
      pattern: {
        regex: /^\/([^\s?#]*[^\s?#/])?$/,
        message: "must start with '/', have no trailing '/', and contain no spaces, '?' or '#'",
      },
    }),
    provider: {
      type: 'string',
      enum: PROVIDERS,
      description: 'Git host: decides the signature, event and delivery headers',
    },
    secretRef,
    namespace,
    serviceAccountName,
    dedupe: {
      type: 'string',
      enum: ['auto', 'off'],
      description: 'auto: a redelivery of the same delivery creates nothing new (deterministic names)',
    },
    events: eventList('Provider event names accepted by every trigger of the route'),
    signature: {
      type: 'object',
      description: 'provider: generic only; HMAC of the raw body',
      properties: {
        header: str('Header carrying the signature', { pattern: HEADER_NAME }),
        algorithm: { type: 'string', enum: ['sha1', 'sha256', 'sha512'] },
        encoding: { type: 'string', enum: ['hex', 'base64'] },
        prefix: { type: 'string', description: 'Text before the signature, e.g. "sha256="' },
      },
      required: ['header', 'algorithm', 'encoding'],
    },
    eventHeader: str('provider: generic only; header carrying the event type', { pattern: HEADER_NAME }),
    deliveryHeader: str('provider: generic or none; header carrying a delivery id (enables dedupe)', {
      pattern: HEADER_NAME,
    }),
    triggers: { type: 'array', items: trigger, minItems: 1 },
    tracing: {
      type: 'object',
      description: 'OpenTelemetry (when the gateway exports traces): how this route treats the sender',
      properties: {
        trustParent: {
          type: 'boolean',
          description:
            "true: a verified delivery's traceparent becomes the parent of its span (default: only a link)",
        },
      },
    },
    status: statusSchema('Commit status to the Git host for every trigger (v2, §12.1)'),
    keep: keepSchema,
  },
  required: ['path', 'provider', 'triggers'],
};

const kind: EitherSchema = {
  type: 'either',
  scalar: str('A tekton.dev kind: PipelineRun, TaskRun, CustomRun…'),
  map: {
    type: 'object',
    properties: {
      apiVersion: str('group/version, e.g. batch/v1'),
      kind: str('Kind, e.g. Job'),
      plural: str('REST resource name, e.g. jobs', { pattern: DNS_LABEL }),
    },
    required: ['apiVersion', 'kind', 'plural'],
  },
  expected: 'a tekton.dev kind name or {apiVersion, kind, plural}',
};

const schedule: ObjectSchema = {
  type: 'object',
  description: 'A trigger fired by the clock (contract §13)',
  properties: {
    name: {
      ...trigger.properties.name!,
      description: "Unique; the triggers.tekton.dev/trigger label and the start of each slot's eventId",
    } as StringSchema,
    cron: str('5 fields "m h dom mon dow", 6 with seconds first, or @hourly @daily @weekly @monthly @yearly'),
    timeZone: str('IANA time zone the cron expression is read in (default UTC)'),
    namespace,
    serviceAccountName,
    body: {
      type: 'json-object',
      description: 'The JSON object $(body.x) reads (what a CronJob used to curl)',
    },
    bindings: trigger.properties.bindings!,
    template: trigger.properties.template!,
    startingDeadlineSeconds: {
      type: 'integer',
      minimum: 60,
      description: 'A slot missed by at most this much (gateway down or restarting) still runs (default 300)',
    },
    keep: keepSchema,
  },
  required: ['name', 'cron', 'template'],
};

export const ROUTES_SCHEMA: Schema = {
  type: 'object',
  description: 'tekton-gateway routes: Git webhooks → Tekton runs',
  properties: {
    apiVersion: { type: 'string', enum: ['tekton-gateway/v1'] },
    gateway: {
      type: 'object',
      properties: {
        name: {
          ...trigger.properties.name!,
          description: 'Value of the triggers.tekton.dev/eventlistener label',
        } as StringSchema,
        namespace: {
          ...namespace,
          description: 'Namespace unless a trigger, route or template says otherwise',
        },
        maxBodyBytes: {
          type: 'integer',
          minimum: 1,
          description: 'Larger requests get 413 (default 25 MiB)',
        },
        kinds: { type: 'array', items: kind, minItems: 1, description: 'Kinds a template may create' },
        requestTimeoutMs: {
          type: 'integer',
          minimum: 100,
          maximum: 600_000,
          description: 'Answer every webhook within this (default 9000; GitHub gives up at 10 s)',
        },
        maxBytesInFlight: {
          type: 'integer',
          minimum: 1,
          description:
            'Request body bytes held at once across all requests; past it, 503 + Retry-After (default 64 MiB; at least maxBodyBytes)',
        },
        bodyTimeoutMs: {
          type: 'integer',
          minimum: 100,
          maximum: 600_000,
          description:
            'The whole body must arrive within this, else 408 (default 5000; below requestTimeoutMs)',
        },
        maxBodyValues: {
          type: 'integer',
          minimum: 1,
          description: 'JSON values in one body; more → 413 (default 1000000)',
        },
        maxValueBytes: {
          type: 'integer',
          minimum: 1,
          description: 'Largest CEL result or bound param value; more fails the trigger, 422 (default 1 MiB)',
        },
        retryWindowSeconds: {
          type: 'integer',
          minimum: 0,
          maximum: 86_400,
          description:
            'Keep retrying transient create failures of a delivery with a dedupe key this long after answering 503 (default 600; 0: never)',
        },
        dashboardURL: str('Tekton Dashboard base URL (http or https), for links to created runs', {
          pattern: {
            regex: /^https?:\/\/[^\s/?#]+[^\s?#]*$/,
            message: 'must be an http:// or https:// URL without a query or fragment',
          },
        }),
        deliveries: {
          type: 'object',
          description: 'What the deliveries page (admin port) keeps in memory per replica',
          properties: {
            max: {
              type: 'integer',
              minimum: 1,
              maximum: 100_000,
              description: 'Deliveries kept, oldest out first (default 500)',
            },
            maxBytes: {
              type: 'integer',
              minimum: 1024,
              description:
                'Bytes of stored request bodies and answers, oldest out first (default 16 MiB); a body over a quarter of it is kept without the body',
            },
          },
        },
        keep: keepSchema,
      },
    },
    bindings: {
      type: 'map',
      description: 'Reusable bindings, like TriggerBinding',
      keys: str('Binding name'),
      values: { type: 'array', items: bindingParam },
    },
    templates: {
      type: 'map',
      description: 'Reusable templates, like TriggerTemplate',
      keys: str('Template name'),
      values: template,
    },
    routes: { type: 'array', items: route, minItems: 1 },
    schedules: { type: 'array', items: schedule, description: 'Cron-driven triggers (contract §13)' },
  },
  required: ['apiVersion', 'routes'],
};

export const ROUTES_SCHEMA_ID = 'https://github.com/tekton-gateway/tekton-gateway/routes.schema.json';
