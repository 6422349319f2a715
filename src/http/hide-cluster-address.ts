// Webhook answers never carry the Kubernetes API server's address (issue #13): network errors quote it
// ("request to https://10.96.0.1:443/apis/… failed, reason: connect ECONNREFUSED 10.96.0.1:443"), and an
// internet-facing endpoint has no business telling senders where its cluster's API lives. The operator
// still finds the address in the `cluster` line logged at start-up.
import type { CreateFn } from '../model.js';

const HIDDEN = '<the Kubernetes API>';

// URLs, IPv4 and bracketed IPv6 addresses with an optional port, and host:port pairs.
const ADDRESSES = [
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi,
  /\[[0-9a-f:.]+\](?::\d{1,5})?/gi,
  /\b\d{1,3}(?:\.\d{1,3}){3}(?::\d{1,5})?\b/g,
  /\b[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*:\d{1,5}\b/gi,
];

/** `text` with the configured server's URL and host replaced, and with `all`, every address in it. */
export function hideAddresses(text: string, server: string | undefined, all = true): string {
  let out = text;
  if (server) {
    let host: string | undefined;
    try {
      host = new URL(server).hostname.replace(/^\[|\]$/g, '');
    } catch {
      host = undefined;
    }
    out = out.replaceAll(server, HIDDEN);
    if (host) out = out.replaceAll(host, HIDDEN);
  }
  if (all) for (const pattern of ADDRESSES) out = out.replace(pattern, HIDDEN);
  return out;
}

/**
 * The create call with its failure messages scrubbed: a network failure's message loses every address in it
 * (only the client wrote it); a refusal, which the API server and admission webhooks wrote and which may
 * quote image references like `registry:5000/x`, loses only the server's own URL and host.
 */
export function hidingClusterAddress(create: CreateFn, server: string | undefined): CreateFn {
  return async (request) => {
    const result = await create(request);
    if (result.kind === 'unavailable') return { ...result, message: hideAddresses(result.message, server) };
    if (result.kind === 'refused')
      return { ...result, message: hideAddresses(result.message, server, false) };
    return result;
  };
}
