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
      const auth = deps.adminToken?.(req.get('authorization'));
      if (auth && !auth.ok) {
        const status = auth.reason === 'unavailable' ? 503 : 401;
        if (status === 401) res.set('WWW-Authenticate', 'Bearer');
        return void res.status(status).type('text').send(`${auth.message}\n`);
      }
      const problem = admin.setLogLevel(typeof req.body === 'string' ? req.body.trim() : '');
      if (problem !== undefined) return void res.status(400).type('text').send(`${problem}\n`);
      res.type('text').send(`${admin.logLevel()}\n`);
    });
  }
  app.get('/routes', (_req, res) => {
    const config = deps.config();
    if (!config) return void res.status(503).json({ error: 'no valid config is loaded' });
    res.json(describeRoutes(config));
  });
  return app;
}
