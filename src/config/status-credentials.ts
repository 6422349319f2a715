// A status credential may not be a webhook secret (contract §12.0 item 4): the file that proves a delivery
// came from the Git host must not also be the token the gateway sends to that host's API, or one leaked
// credential would do both jobs. Pure: raw route specs in, problems with their YAML paths out.
import type { SecretRef } from '../model.js';
import { compareSecretsOf } from './trigger-checks.js';
import type { PathSegment } from './schema-dsl.js';

export interface CredentialProblem {
  readonly at: readonly PathSegment[];
  readonly message: string;
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;
const key = (name: unknown, secretKey: unknown) =>
  typeof name === 'string' && typeof secretKey === 'string' ? `${name}\u0000${secretKey}` : undefined;

/** Every string in a spec that calls compareSecret: filters and overlays wherever they sit. */
function compareSecretKeys(spec: unknown, out: Set<string>): void {
  if (typeof spec === 'string') {
    for (const s of compareSecretsOf(spec)) out.add(key(s.secretName, s.secretKey)!);
  } else if (Array.isArray(spec)) {
    for (const v of spec) compareSecretKeys(v, out);
  } else if (obj(spec)) {
    for (const v of Object.values(spec as Json)) compareSecretKeys(v, out);
  }
}

/** The Secret references of one `status:` block, with where each sits. */
function statusRefs(status: Json, at: readonly PathSegment[]): { ref: Json; at: PathSegment[] }[] {
  const out: { ref: Json; at: PathSegment[] }[] = [];
  const add = (v: unknown, path: PathSegment[]) => {
    const ref = obj(v);
    if (ref) out.push({ ref, at: path });
  };
  add(status['tokenRef'], [...at, 'tokenRef']);
  add(obj(status['app'])?.['privateKeyRef'], [...at, 'app', 'privateKeyRef']);
  const basic = obj(status['basicAuthRef']);
  add(basic?.['usernameRef'], [...at, 'basicAuthRef', 'usernameRef']);
  add(basic?.['passwordRef'], [...at, 'basicAuthRef', 'passwordRef']);
  return out;
}

export function sharedStatusCredentials(
  routeSpecs: readonly unknown[],
  webhookSecrets: readonly SecretRef[],
): CredentialProblem[] {
  const webhook = new Set(webhookSecrets.map((r) => key(r.secretName, r.secretKey)!));
  compareSecretKeys(routeSpecs, webhook);
  const problems: CredentialProblem[] = [];
  const check = (status: unknown, at: PathSegment[]) => {
    const s = obj(status);
    if (!s) return;
    for (const { ref, at: where } of statusRefs(s, at)) {
      const k = key(ref['secretName'], ref['secretKey']);
      if (k === undefined || !webhook.has(k)) continue;
      problems.push({
        at: where,
        message: `Secret ${String(ref['secretName'])} key ${String(ref['secretKey'])} also verifies webhooks (a secretRef or compareSecret); give the status credential a Secret of its own`,
      });
    }
  };
  routeSpecs.forEach((spec, i) => {
    const route = obj(spec);
    if (!route) return;
    check(route['status'], ['routes', i, 'status']);
    const triggers = Array.isArray(route['triggers']) ? route['triggers'] : [];
    triggers.forEach((t, j) => check(obj(t)?.['status'], ['routes', i, 'triggers', j, 'status']));
  });
  return problems;
}
