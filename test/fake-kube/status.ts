// The metav1.Status bodies the real API server sends, byte for byte in Go's field order (apimachinery
// pkg/api/errors/errors.go and pkg/apis/meta/v1/types.go).
// Empty members are left out, as Go's `omitempty` does.

/** One field-level error, as apimachinery's field.Error: `<field>: <body>`. */
export interface FieldError {
  readonly type: 'FieldValueInvalid' | 'FieldValueRequired' | 'FieldValueNotSupported' | 'FieldValueTooLong';
  readonly field: string;
  /** field.Error.ErrorBody(): e.g. `Invalid value: "Bad_Name": a lowercase RFC 1123 …`. */
  readonly body: string;
}

export interface StatusDetails {
  readonly name?: string;
  readonly group?: string;
  readonly kind?: string;
  readonly causes?: readonly { readonly reason: string; readonly message: string; readonly field: string }[];
  readonly retryAfterSeconds?: number;
}

export interface Status {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason?: string;
  readonly details?: StatusDetails;
  readonly code: number;
}

/** A group plus a resource (plural) or a Kind; Go prints it `pipelineruns.tekton.dev`, core as `namespaces`. */
export function qualified(name: string, group: string): string {
  return group === '' ? name : `${name}.${group}`;
}

export function status(code: number, reason: string, message: string, details?: StatusDetails): Status {
  const d: Record<string, unknown> = {};
  if (details?.name) d['name'] = details.name;
  if (details?.group) d['group'] = details.group;
  if (details?.kind) d['kind'] = details.kind;
  if (details?.causes && details.causes.length > 0) d['causes'] = details.causes;
  if (details?.retryAfterSeconds) d['retryAfterSeconds'] = details.retryAfterSeconds;
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    ...(reason === '' ? {} : { reason }),
    ...(Object.keys(d).length > 0 ? { details: d as StatusDetails } : {}),
    code,
  };
}

/** Go's %q for the strings the fake deals with (printable ASCII and UTF-8 come out the same). */
export function quote(value: string): string {
  return JSON.stringify(value);
}

export const unauthorized = (): Status => status(401, 'Unauthorized', 'Unauthorized');

export const badRequest = (message: string): Status => status(400, 'BadRequest', message);

/** NewForbidden: `<resource.group> ["name" ]is forbidden: <why>`; details.kind is the resource. */
export function forbidden(resource: string, group: string, name: string, why: string): Status {
  const subject = name === '' ? qualified(resource, group) : `${qualified(resource, group)} ${quote(name)}`;
  return status(403, 'Forbidden', `${subject} is forbidden: ${why}`, { name, group, kind: resource });
}

/** responsewriters.forbiddenMessage for a resource request. */
export function forbiddenWhy(
  user: string,
  verb: string,
  resource: string,
  group: string,
  namespace: string,
): string {
  const where = namespace === '' ? 'at the cluster scope' : `in the namespace ${quote(namespace)}`;
  return `User ${quote(user)} cannot ${verb} resource ${quote(resource)} in API group ${quote(group)} ${where}`;
}

export function notFound(resource: string, group: string, name: string): Status {
  return status(404, 'NotFound', `${qualified(resource, group)} ${quote(name)} not found`, {
    name,
    group,
    kind: resource,
  });
}

export function alreadyExists(resource: string, group: string, name: string): Status {
  return status(409, 'AlreadyExists', `${qualified(resource, group)} ${quote(name)} already exists`, {
    name,
    group,
    kind: resource,
  });
}

/** NewGenerateNameConflict: every generated name collided; the server suggests retrying in 1 s. */
export function generateNameConflict(resource: string, group: string, name: string): Status {
  const message =
    `${qualified(resource, group)} ${quote(name)} already exists, ` +
    'the server was not able to generate a unique name for the object';
  return status(409, 'AlreadyExists', message, { name, group, kind: resource, retryAfterSeconds: 1 });
}

/** NewInvalid: details.kind is the Kind here (a GroupKind), unlike the resource-based errors above. */
export function invalid(kind: string, group: string, name: string, errors: readonly FieldError[]): Status {
  // ErrorList.ToAggregate drops repeated messages; one error stands alone, several go in brackets.
  const messages = [...new Set(errors.map((e) => `${e.field}: ${e.body}`))];
  const aggregate = messages.length === 1 ? messages[0]! : `[${messages.join(', ')}]`;
  return status(422, 'Invalid', `${qualified(kind, group)} ${quote(name)} is invalid: ${aggregate}`, {
    name,
    group,
    kind,
    causes: errors.map((e) => ({ reason: e.type, message: e.body, field: e.field })),
  });
}

/** A validating admission webhook's denial (apiserver webhook/errors + knative's MakeErrorStatus). */
export function webhookDenied(webhook: string, why: string): Status {
  return badRequest(`admission webhook ${quote(webhook)} denied the request: ${why}`);
}

export function tooManyRequests(retryAfterSeconds: number | undefined): Status {
  return status(429, 'TooManyRequests', 'Too many requests, please try again later.', {
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });
}

/** Representative bodies for injected server-side failures. */
export function serverError(code: 500 | 502 | 503 | 504, retryAfterSeconds: number | undefined): Status {
  const retry = retryAfterSeconds === undefined ? {} : { retryAfterSeconds };
  switch (code) {
    case 500:
      // What every create gets while Tekton's webhook (failurePolicy: Fail) is down.
      return status(
        500,
        'InternalError',
        'Internal error occurred: failed calling webhook "webhook.pipeline.tekton.dev": failed to call webhook: ' +
          'Post "https://tekton-pipelines-webhook.tekton-pipelines.svc:443/defaulting?timeout=10s": ' +
          'dial tcp 10.96.12.7:443: connect: connection refused',
        retry,
      );
    case 502:
      return status(
        502,
        '',
        'the server responded with the status code 502 but did not return more information',
        retry,
      );
    case 503:
      return status(503, 'ServiceUnavailable', 'the server is currently unable to handle the request', retry);
    case 504:
      return status(
        504,
        'Timeout',
        'the server was unable to return a response in the time allotted, but may still be processing the request',
        retry,
      );
  }
}

export const methodNotAllowed = (): Status =>
  status(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
