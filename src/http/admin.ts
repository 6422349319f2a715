// The admin port (contract §3): /metrics, /routes and the runtime log level for operators, plus /healthz
// and /readyz. Express serves it (the design card's server); the webhook port is plain node:http for speed
// (./webhook.ts). The only Express import.
import express from 'express';
import { describeRoutes } from '../config/describe.js';
import type { GatewayDeps } from './deps.js';
import { healthAnswer } from './health.js';

function baseApp(): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', false);
  return app;
}

function health(app: express.Express, deps: GatewayDeps): void {
  app.all(['/healthz', '/readyz'], (req, res) => {
    const a = healthAnswer(req.method, req.path, deps.ready)!;
    res.status(a.status).set(a.headers).type('text').send(a.body);
  });
}

export function createAdminApp(deps: GatewayDeps): express.Express {
  const app = baseApp();
  health(app, deps);
  const admin = deps.admin;
  if (admin) {
    app.get('/metrics', (_req, res, next) => {
      admin.metrics().then(({ contentType, body }) => void res.type(contentType).send(body), next);
    });
    // The runtime log level (docs/operations.md): GET shows it, PUT with the level as the body changes it
    // until the next change or restart. An endpoint rather than a signal: the image has no shell to send one.
    app.get('/loglevel', (_req, res) => void res.type('text').send(`${admin.logLevel()}\n`));
    app.put('/loglevel', express.text({ type: () => true, limit: 64 }), (req, res) => {
      // With an admin token configured, changing the level needs it (issue #13): debug logs are a lot of
      // output, and the admin port may be reachable by more than the operators.
      // Bearer only: a browser attaches cached Basic credentials to any request, a cross-site one included.
      const auth = deps.adminToken?.check(req.get('authorization'), { basic: false });
      if (auth?.kind === 'disabled') {
        // A configured token that cannot be read refuses every change: never open.
        return void res
          .status(503)
          .type('text')
          .send('the admin token file cannot be read; see the gateway logs\n');
      }
      if (auth?.kind === 'denied') {
        return void res.status(401).set('WWW-Authenticate', 'Bearer').type('text').send(`${auth.message}\n`);
      }
      const problem = admin.setLogLevel(typeof req.body === 'string' ? req.body.trim() : '');
      if (problem !== undefined) return void res.status(400).type('text').send(`${problem}\n`);
      res.type('text').send(`${admin.logLevel()}\n`);
    });
  }
  const deliveries = admin?.deliveries;
  if (deliveries) {
    // Contract §14: GET /, GET /deliveries[/<id>], POST /deliveries/<id>/replay; the handler is framework-free
    // (src/deliveries/api.ts) and answers 404 itself without an admin token file.
    app.all(['/', '/deliveries', '/deliveries/*rest'], (req, res, next) => {
      const q = req.originalUrl.indexOf('?');
      const path = q < 0 ? req.originalUrl : req.originalUrl.slice(0, q);
      readSmallBody(req, req.method === 'POST' ? MAX_ADMIN_BODY_BYTES : 0)
        .then(async (body) => {
          if (body === 'too-large') {
            return void res
              .status(413)
              .set('Connection', 'close')
              .json({ error: `a request body here is at most ${MAX_ADMIN_BODY_BYTES} bytes` });
          }
          const a = await deliveries({
            method: req.method,
            path,
            query: new URLSearchParams(q < 0 ? '' : req.originalUrl.slice(q + 1)),
            header: (name) => req.get(name),
            body,
          });
          res
            .status(a.status)
            .set(a.headers)
            .send(req.method === 'HEAD' ? undefined : a.body);
        })
        .catch(next);
    });
  }
  app.get('/routes', (_req, res) => {
    const config = deps.config();
    if (!config) return void res.status(503).json({ error: 'no valid config is loaded' });
    res.json(describeRoutes(config));
  });
  return app;
}

/** The deliveries endpoints take at most a replay form (a token and a button). */
const MAX_ADMIN_BODY_BYTES = 4096;

/** The body as text, or 'too-large' past `limit` bytes (then the rest is not read). */
function readSmallBody(req: express.Request, limit: number): Promise<string | undefined | 'too-large'> {
  if (Number(req.get('content-length') ?? 0) > limit) return Promise.resolve('too-large');
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.pause();
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size === 0 ? undefined : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
