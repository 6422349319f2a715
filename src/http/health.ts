// `/healthz` and `/readyz` (contract §3), answered alike on both ports. They are reserved and always win over
// routes, so the webhook handler asks here before matching any route.

export interface HealthAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** The answer for a health path, or undefined when `path` is not one. */
export function healthAnswer(method: string, path: string, ready: () => boolean): HealthAnswer | undefined {
  if (path !== '/healthz' && path !== '/readyz') return undefined;
  if (method !== 'GET' && method !== 'HEAD')
    return { status: 405, headers: { Allow: 'GET' }, body: 'use GET' };
  if (path === '/healthz') return { status: 200, headers: {}, body: 'ok' };
  const isReady = ready();
  return { status: isReady ? 200 : 503, headers: {}, body: isReady ? 'ready' : 'not ready' };
}
