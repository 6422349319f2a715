// The fake API server itself, over raw HTTP: where a rule is subtle, the exact bytes the real API server
// sends (k8s.io/apiserver and apimachinery) are pinned here, so tests built on the fake can trust it.
import { afterEach, describe, expect, it } from 'vitest';
import { GENERATE_NAME_ALPHABET, startFakeKube, type FakeKube, type FakeKubeOptions } from './server.js';

const started: FakeKube[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((fake) => fake.close()));
});

async function fake(options: FakeKubeOptions = {}): Promise<FakeKube> {
  const server = await startFakeKube({ namespaces: ['ci'], ...options });
  started.push(server);
  return server;
}

const RUNS = '/apis/tekton.dev/v1/namespaces/ci/pipelineruns';

function run(metadata: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'tekton.dev/v1',
    kind: 'PipelineRun',
    metadata,
    spec: { pipelineRef: { name: 'build' } },
    ...extra,
  };
}

async function post(
  server: FakeKube,
  body: unknown,
  {
    path = RUNS,
    query = '',
    token = 'test-token' as string | null,
    headers = {} as Record<string, string>,
  } = {},
) {
  const response = await fetch(`${server.url}${path}${query}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, text, headers: response.headers, json: () => JSON.parse(text) };
}

describe('generateName', () => {
  it('appends 5 characters from the 27-character alphabet', async () => {
    const server = await fake();
    for (let i = 0; i < 50; i++) {
      const answer = await post(server, run({ generateName: 'build-' }));
      expect(answer.status).toBe(201);
      expect(answer.json().metadata.name).toMatch(/^build-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    }
  });

  it('maps the random source onto every letter of the alphabet', async () => {
    let i = 0;
    const server = await fake({ random: () => (i++ % 27) / 27 });
    const seen = new Set<string>();
    for (let n = 0; n < 6; n++) {
      const answer = await post(server, run({ generateName: 'x-' }));
      for (const c of answer.json().metadata.name.slice(2)) seen.add(c);
    }
    expect([...seen].sort().join('')).toBe([...GENERATE_NAME_ALPHABET].sort().join(''));
  });

  it('cuts the prefix to 58 characters so the name is at most 63', async () => {
    const server = await fake({
      resources: [{ group: 'tekton.dev', version: 'v1', plural: 'pipelineruns', kind: 'PipelineRun' }],
    });
    const prefix = 'a'.repeat(70);
    const { metadata } = (await post(server, run({ generateName: prefix }))).json();
    expect(metadata.name).toHaveLength(63);
    expect(metadata.name.startsWith('a'.repeat(58))).toBe(true);
    expect(metadata.generateName).toBe(prefix);
  });

  it('gives up after 8 collisions with NewGenerateNameConflict', async () => {
    const server = await fake({ random: () => 0 });
    expect((await post(server, run({ generateName: 'build-' }))).json().metadata.name).toBe('build-bbbbb');
    const answer = await post(server, run({ generateName: 'build-' }));
    expect(answer.status).toBe(409);
    expect(answer.headers.get('retry-after')).toBe('1');
    expect(answer.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pipelineruns.tekton.dev \\"build-bbbbb\\" already exists, the server was not able to generate a unique name for the object","reason":"AlreadyExists","details":{"name":"build-bbbbb","group":"tekton.dev","kind":"pipelineruns","retryAfterSeconds":1},"code":409}',
    );
  });
});

describe('validation (422) with the exact Status bodies', () => {
  it('rejects an invalid name', async () => {
    const answer = await post(await fake(), run({ name: 'Bad_Name' }));
    expect(answer.status).toBe(422);
    const detail =
      "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
    expect(answer.text).toBe(
      `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"PipelineRun.tekton.dev \\"Bad_Name\\" is invalid: metadata.name: Invalid value: \\"Bad_Name\\": ${detail}","reason":"Invalid","details":{"name":"Bad_Name","group":"tekton.dev","kind":"PipelineRun","causes":[{"reason":"FieldValueInvalid","message":"Invalid value: \\"Bad_Name\\": ${detail}","field":"metadata.name"}]},"code":422}`,
    );
  });

  it('rejects a name longer than 253 characters, listing both errors in brackets', async () => {
    const name = `${'a'.repeat(253)}-`;
    const { message } = (await post(await fake(), run({ name }))).json();
    expect(message).toMatch(
      /^PipelineRun\.tekton\.dev "a+-" is invalid: \[metadata\.name: Invalid value: "a+-": must be no more than 253 characters, metadata\.name: Invalid value: "a+-": a lowercase RFC 1123/,
    );
  });

  it('requires a name or generateName', async () => {
    const answer = await post(await fake(), run({}));
    expect(answer.status).toBe(422);
    expect(answer.json().message).toBe(
      'PipelineRun.tekton.dev "" is invalid: metadata.name: Required value: name or generateName is required',
    );
    expect(answer.json().details.causes).toEqual([
      {
        reason: 'FieldValueRequired',
        message: 'Required value: name or generateName is required',
        field: 'metadata.name',
      },
    ]);
  });

  it('checks generateName and the generated name', async () => {
    const { message } = (await post(await fake({ random: () => 0 }), run({ generateName: 'Build-' }))).json();
    expect(message).toMatch(
      /^PipelineRun\.tekton\.dev "Build-bbbbb" is invalid: \[metadata\.generateName: Invalid value: "Build-": a lowercase .*, metadata\.name: Invalid value: "Build-bbbbb": a lowercase .*\]$/,
    );
  });

  it.each([
    {
      name: 'a bad key character',
      labels: { 'a b': 'x' },
      message:
        "metadata.labels: Invalid value: \"a b\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    },
    {
      name: 'a bad value',
      labels: { app: 'a b' },
      message:
        "metadata.labels: Invalid value: \"a b\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
    },
    {
      name: 'a value of 64 characters',
      labels: { app: 'v'.repeat(64) },
      message: `metadata.labels: Invalid value: "${'v'.repeat(64)}": must be no more than 63 characters`,
    },
    {
      name: 'a key name of 64 characters',
      labels: { [`example.com/${'k'.repeat(64)}`]: 'x' },
      message: `metadata.labels: Invalid value: "example.com/${'k'.repeat(64)}": name part must be no more than 63 characters`,
    },
    {
      name: 'an empty prefix',
      labels: { '/app': 'x' },
      message: 'metadata.labels: Invalid value: "/app": prefix part must be non-empty',
    },
    {
      name: 'two slashes',
      labels: { 'a/b/c': 'x' },
      message:
        "metadata.labels: Invalid value: \"a/b/c\": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    },
  ])('rejects a label with $name', async ({ labels, message }) => {
    const answer = await post(await fake(), run({ name: 'build-1', labels }));
    expect(answer.status).toBe(422);
    expect(answer.json().message).toBe(`PipelineRun.tekton.dev "build-1" is invalid: ${message}`);
    expect(answer.json().details.causes[0].field).toBe('metadata.labels');
  });

  it('accepts an empty label value and a prefixed key', async () => {
    const answer = await post(
      await fake(),
      run({ name: 'build-1', labels: { 'triggers.tekton.dev/trigger': '' } }),
    );
    expect(answer.status).toBe(201);
  });
});

describe('other refusals, byte for byte', () => {
  it('401 without a token and with an unknown one', async () => {
    const server = await fake();
    const body =
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}';
    for (const token of [null, 'wrong']) {
      const answer = await post(server, run({ name: 'a' }), { token });
      expect([answer.status, answer.text]).toEqual([401, body]);
    }
  });

  it('403 from RBAC names the user, verb, resource and namespace', async () => {
    const answer = await post(
      await fake({ rbac: [{ user: '*', namespace: 'other', resource: '*' }] }),
      run({ name: 'a' }),
    );
    expect(answer.status).toBe(403);
    expect(answer.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pipelineruns.tekton.dev is forbidden: User \\"system:serviceaccount:tekton-gateway:tekton-gateway\\" cannot create resource \\"pipelineruns\\" in API group \\"tekton.dev\\" in the namespace \\"ci\\"","reason":"Forbidden","details":{"group":"tekton.dev","kind":"pipelineruns"},"code":403}',
    );
  });

  it('404 Status for an unknown namespace', async () => {
    const answer = await post(await fake(), run({ name: 'a' }), {
      path: '/apis/tekton.dev/v1/namespaces/nope/pipelineruns',
    });
    expect(answer.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"namespaces \\"nope\\" not found","reason":"NotFound","details":{"name":"nope","kind":"namespaces"},"code":404}',
    );
  });

  it.each([
    { name: 'unknown plural', path: '/apis/tekton.dev/v1/namespaces/ci/pipelinerun' },
    { name: 'unknown version', path: '/apis/tekton.dev/v2/namespaces/ci/pipelineruns' },
    { name: 'core path', path: '/api/v1/namespaces/ci/pods' },
  ])('plain-text 404 for an $name', async ({ path }) => {
    const answer = await post(await fake(), run({ name: 'a' }), { path });
    expect([answer.status, answer.text]).toEqual([404, '404 page not found\n']);
    expect(answer.headers.get('content-type')).toBe('text/plain; charset=utf-8');
  });

  it('409 AlreadyExists for a taken name, with the resource as details.kind', async () => {
    const server = await fake();
    expect((await post(server, run({ name: 'build-1' }))).status).toBe(201);
    const answer = await post(server, run({ name: 'build-1' }));
    expect(answer.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"pipelineruns.tekton.dev \\"build-1\\" already exists","reason":"AlreadyExists","details":{"name":"build-1","group":"tekton.dev","kind":"pipelineruns"},"code":409}',
    );
  });

  it.each([
    {
      name: 'an apiVersion that does not match the URL',
      body: { ...run({ name: 'a' }), apiVersion: 'tekton.dev/v1beta1' },
      message:
        'the API version in the data (tekton.dev/v1beta1) does not match the expected API version (tekton.dev/v1)',
    },
    {
      name: 'a namespace that does not match the URL',
      body: run({ name: 'a', namespace: 'other' }),
      message: 'the namespace of the provided object does not match the namespace sent on the request',
    },
    {
      name: "a name over Tekton's 63 characters",
      body: run({ name: 'n'.repeat(64) }),
      message:
        'admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: validation failed: Invalid resource name: length must be no more than 63 characters: metadata.name',
    },
    {
      name: 'neither pipelineRef nor pipelineSpec',
      body: { ...run({ name: 'a' }), spec: {} },
      message:
        'admission webhook "validation.webhook.pipeline.tekton.dev" denied the request: validation failed: expected exactly one, got neither: spec.pipelineRef, spec.pipelineSpec',
    },
    {
      name: 'an unknown field under fieldValidation=Strict',
      body: { ...run({ name: 'a' }), spek: {} },
      query: '?fieldValidation=Strict',
      message:
        'PipelineRun in version "v1" cannot be handled as a PipelineRun: strict decoding error: unknown field "spek"',
    },
  ])('400 for $name', async ({ body, message, query }) => {
    const answer = await post(await fake(), body, { query: query ?? '' });
    expect(answer.status).toBe(400);
    expect(answer.json()).toMatchObject({ reason: 'BadRequest', message, code: 400 });
  });

  it('prunes an unknown field under the default Warn, and says so', async () => {
    const answer = await post(await fake(), { ...run({ name: 'a' }), spek: {} });
    expect(answer.status).toBe(201);
    expect(answer.json()).not.toHaveProperty('spek');
    expect(answer.headers.get('warning')).toBe('299 - "unknown field \\"spek\\""');
  });
});

describe('dryRun', () => {
  it('dryRun=All answers 201 with uid and creationTimestamp, stores nothing', async () => {
    const server = await fake();
    const answer = await post(server, run({ generateName: 'build-' }), { query: '?dryRun=All' });
    expect(answer.status).toBe(201);
    const { metadata } = answer.json();
    expect(metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(metadata.creationTimestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(metadata).not.toHaveProperty('resourceVersion');
    expect(server.objects()).toEqual([]);
  });

  it('dryRun=All still answers AlreadyExists', async () => {
    const server = await fake();
    await post(server, run({ name: 'build-1' }));
    expect((await post(server, run({ name: 'build-1' }), { query: '?dryRun=All' })).status).toBe(409);
  });

  it('any other dryRun value is 422', async () => {
    const answer = await post(await fake(), run({ name: 'a' }), { query: '?dryRun=X' });
    expect(answer.status).toBe(422);
    expect(answer.json().message).toBe(
      'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["X"]: supported values: "All"',
    );
  });
});

describe('impersonation', () => {
  const gateway = 'system:serviceaccount:tekton-gateway:tekton-gateway';
  const runner = 'system:serviceaccount:ci:runner';

  it('refuses a user not on the allow list, as the real filter words it', async () => {
    const answer = await post(await fake(), run({ name: 'a' }), { headers: { 'Impersonate-User': runner } });
    expect(answer.status).toBe(403);
    expect(answer.text).toBe(
      `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"serviceaccounts \\"runner\\" is forbidden: User \\"${gateway}\\" cannot impersonate resource \\"serviceaccounts\\" in API group \\"\\" in the namespace \\"ci\\"","reason":"Forbidden","details":{"name":"runner","kind":"serviceaccounts"},"code":403}`,
    );
  });

  it('then authorizes as the impersonated user', async () => {
    const server = await fake({
      impersonation: { [gateway]: [runner] },
      rbac: [{ user: runner, namespace: 'ci', resource: 'pipelineruns' }],
    });
    expect((await post(server, run({ name: 'a' }))).status).toBe(403);
    expect((await post(server, run({ name: 'a' }), { headers: { 'Impersonate-User': runner } })).status).toBe(
      201,
    );
  });
});

describe('faults', () => {
  it('429 as plain text with Retry-After, or as a Status', async () => {
    const server = await fake({ faults: { errorRate: 1, status: 429, retryAfter: 7 } });
    const plain = await post(server, run({ name: 'a' }));
    expect([plain.status, plain.text, plain.headers.get('retry-after')]).toEqual([
      429,
      'Too many requests, please try again later.\n',
      '7',
    ]);
    server.setFaults({ errorRate: 1, status: 429, retryAfter: 7, statusJson: true });
    const json = await post(server, run({ name: 'a' }));
    expect(json.headers.get('retry-after')).toBe('7');
    const status = json.json();
    expect(status).toMatchObject({ reason: 'TooManyRequests', details: { retryAfterSeconds: 7 }, code: 429 });
  });

  it('`times` limits a fault, after which requests are served', async () => {
    const server = await fake({ faults: { errorRate: 1, status: 503, times: 2 } });
    const codes = [];
    for (let i = 0; i < 3; i++) codes.push((await post(server, run({ generateName: 'b-' }))).status);
    expect(codes).toEqual([503, 503, 201]);
  });

  it('a reset destroys the connection without an answer', async () => {
    const server = await fake({ faults: { resetRate: 1 } });
    await expect(post(server, run({ name: 'a' }))).rejects.toThrow();
    expect(server.objects()).toEqual([]);
  });

  it('resetAfterStore stores the object and still loses the answer', async () => {
    const server = await fake({ faults: { resetRate: 1, resetAfterStore: true } });
    await expect(post(server, run({ name: 'a' }))).rejects.toThrow();
    expect(server.objects().map((o) => (o['metadata'] as { name: string }).name)).toEqual(['a']);
  });

  it("`choose` picks each request's fault: an error, a reset before handling, or after it", async () => {
    const plan = [
      { status: 500 as const },
      { status: 429 as const, retryAfter: 9 },
      { reset: 'before-handling' as const },
      { reset: 'after-handling' as const },
      undefined,
      { reset: 'after-handling' as const },
    ];
    let next = 0;
    const server = await fake({ faults: { choose: () => plan[next++] } });
    const names = () => server.objects().map((o) => (o['metadata'] as { name: string }).name);
    expect((await post(server, run({ name: 'a' }))).status).toBe(500);
    const limited = await post(server, run({ name: 'a' }));
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '9']);
    await expect(post(server, run({ name: 'a' }))).rejects.toThrow();
    expect(names()).toEqual([]);
    // Stored, but the 201 is lost; the next create of the same name is a 409, and a reset loses that too.
    await expect(post(server, run({ name: 'a' }))).rejects.toThrow();
    expect(names()).toEqual(['a']);
    expect((await post(server, run({ name: 'a' }))).status).toBe(409);
    await expect(post(server, run({ name: 'a' }))).rejects.toThrow();
    expect(names()).toEqual(['a']);
    expect(server.requests).toHaveLength(6);
  });

  it('records every request, refused or not', async () => {
    const server = await fake();
    await post(server, run({ name: 'a' }), { query: '?fieldManager=me', token: null });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]).toMatchObject({ method: 'POST', path: RUNS });
    expect(server.requests[0]!.query.get('fieldManager')).toBe('me');
    expect(JSON.parse(server.requests[0]!.body)).toEqual(run({ name: 'a' }));
  });
});
