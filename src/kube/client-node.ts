// The one file that loads @kubernetes/client-node. The gateway keeps it for what it is good at: reading
// kubeconfig files and in-cluster configuration, and applying their auth (token, token file with
// rotation, exec plugins, OIDC, basic auth, impersonation). It does not load client-node's generated API:
// its 2,500 model classes cost about 55 MiB of RSS and the gateway sends its few requests itself
// (src/kube/client.ts).
//
// client-node's config.js imports the generated index only to build API clients (`makeApiClient`, which we
// never call), and node-fetch only for `applyToFetchOptions` (neither). A module resolve hook, registered
// before config.js is loaded, answers those two imports *from config.js only* with small stand-ins, and
// defers openid-client (6 MiB) until a kubeconfig actually uses the `oidc` auth provider. If the hook
// cannot be registered, config.js loads as published: heavier, identical behaviour.
import { register } from 'node:module';
import type * as Config from '@kubernetes/client-node/dist/config.js';

export type { Cluster as KubeCluster, User as KubeUser } from '@kubernetes/client-node/dist/config_types.js';

/** The stand-in for the generated index: what config.js imports from it, failing loudly if ever used. */
const NO_GENERATED_API = `
const why = 'tekton-gateway does not load client-node\\'s generated API; use src/kube/client.ts';
export function createConfiguration() { throw new Error(why); }
export class ServerConfiguration { constructor() { throw new Error(why); } }
`;

/** config.js uses only node-fetch's Headers (in applyToFetchOptions); Node 20 has its own. */
const NO_NODE_FETCH = `export const Headers = globalThis.Headers;`;

/** OIDC auth, loaded on first use: same detection rule as client-node's OpenIDConnectAuth. */
const lazyOidc = (realUrl: string) => `
let real;
export class OpenIDConnectAuth {
  isAuthProvider(user) { return Boolean(user.authProvider) && user.authProvider.name === 'oidc'; }
  async applyAuthentication(user, opts, overrideClient) {
    real ??= new (await import(${JSON.stringify(realUrl)})).OpenIDConnectAuth();
    return real.applyAuthentication(user, opts, overrideClient);
  }
}
`;

const dataUrl = (source: string) => `data:text/javascript,${encodeURIComponent(source)}`;

const HOOK = `
const CONFIG = '/@kubernetes/client-node/dist/config.js';
const stubs = ${JSON.stringify({
  './gen/index.js': dataUrl(NO_GENERATED_API),
  'node-fetch': dataUrl(NO_NODE_FETCH),
})};
const lazyOidc = ${lazyOidc.toString()};
const dataUrl = ${dataUrl.toString()};
export async function resolve(specifier, context, next) {
  const parent = context.parentURL;
  if (parent === undefined || !parent.endsWith(CONFIG)) return next(specifier, context);
  if (Object.hasOwn(stubs, specifier)) return { url: stubs[specifier], shortCircuit: true };
  if (specifier === './oidc_auth.js') {
    return { url: dataUrl(lazyOidc(new URL(specifier, parent).href)), shortCircuit: true };
  }
  return next(specifier, context);
}
`;

/** Set once per process: module hooks chain, so registering twice (tests re-evaluate modules) would stack. */
const REGISTERED = Symbol.for('tekton-gateway.kube.lean-client-node');

function registerLeanHook(): boolean {
  const global = globalThis as { [REGISTERED]?: boolean };
  if (global[REGISTERED] === undefined) {
    try {
      register(dataUrl(HOOK));
      global[REGISTERED] = true;
    } catch {
      global[REGISTERED] = false;
    }
  }
  return global[REGISTERED];
}

/** Whether client-node was loaded without its generated API (for the start-up log and tests). */
export const leanClientNode = registerLeanHook();

// Loaded after the hook is in place; a static import would be resolved before this module runs.
const config: typeof Config = await import('@kubernetes/client-node/dist/config.js');

export type KubeConfig = Config.KubeConfig;
export const KubeConfig: typeof Config.KubeConfig = config.KubeConfig;
