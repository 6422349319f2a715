// The listening socket of one port: timeouts that keep slow or idle clients from holding connections, and
// the two steps of a graceful stop (contract §8) — `drain()` (keep serving, but tell every client to
// reconnect elsewhere) and `close()` (stop accepting, let what is in flight finish).
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ServerTimeouts {
  /** Time to receive the request line and headers (slowloris guard). */
  readonly headersTimeoutMs: number;
  /** Time to receive the whole request, body included. */
  readonly requestTimeoutMs: number;
  /** How long an idle keep-alive connection is kept open. */
  readonly keepAliveTimeoutMs: number;
  /** How often the two request timeouts are checked (Node's default is 30 s). */
  readonly checkIntervalMs: number;
}

export const SERVER_TIMEOUTS: ServerTimeouts = {
  // Git hosts send headers at once; 20 s only ever catches a client that is dribbling them on purpose.
  headersTimeoutMs: 20_000,
  // A 25 MiB body (the largest gateway.maxBodyBytes default) needs 60 s at ~3.5 Mbit/s. Senders give up far
  // sooner (GitHub after 10 s), so this only bounds how long a stalled upload keeps its socket and slot.
  requestTimeoutMs: 60_000,
  // Longer than the 60 s idle timeout of common proxies and load balancers (ingress-nginx upstream
  // keepalive, AWS ALB), so the proxy, not us, closes an idle connection: otherwise a request it sends on a
  // connection we are closing at that moment fails with a reset (a 502 to the sender).
  keepAliveTimeoutMs: 65_000,
  // The timeouts above fire up to this much late; a scan of the open connections every 5 s costs nothing.
  checkIntervalMs: 5_000,
};

export class GatewayServer {
  private draining = false;
  /** Responses not finished yet: the ones a drain must still mark `Connection: close`. */
  private readonly open = new Set<http.ServerResponse>();

  private constructor(private readonly server: http.Server) {}

  static listen(
    handler: http.RequestListener,
    port: number,
    timeouts: ServerTimeouts = SERVER_TIMEOUTS,
  ): Promise<GatewayServer> {
    const server = http.createServer({ connectionsCheckingInterval: timeouts.checkIntervalMs });
    server.headersTimeout = timeouts.headersTimeoutMs;
    server.requestTimeout = timeouts.requestTimeoutMs;
    server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
    const gateway = new GatewayServer(server);
    // Registered before the app, so the header is set before the app can answer.
    server.on('request', (_req, res: http.ServerResponse) => gateway.track(res));
    server.on('request', handler);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, () => {
        server.off('error', reject);
        resolve(gateway);
      });
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /**
   * From now on every response carries `Connection: close`, including those in flight: keep-alive clients
   * (and proxies) then open a new connection for their next request, which the updated endpoints send to
   * another pod, instead of reusing one that `close()` will cut.
   */
  drain(): void {
    this.draining = true;
    for (const res of this.open) if (!res.headersSent) res.setHeader('Connection', 'close');
  }

  /**
   * Stops accepting connections and resolves once every open one has ended. Idle keep-alive connections
   * are closed at once (Node ≥ 19 does that in server.close); busy ones end after their response, which a
   * drain marked `Connection: close` — without it Node would keep them open until keepAliveTimeout.
   */
  close(): Promise<void> {
    this.drain();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** Cuts every connection, busy or not (the shutdown deadline). */
  destroy(): void {
    this.server.closeAllConnections();
  }

  private track(res: http.ServerResponse): void {
    if (this.draining) res.setHeader('Connection', 'close');
    this.open.add(res);
    res.once('close', () => this.open.delete(res));
  }
}
