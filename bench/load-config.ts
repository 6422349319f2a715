// Load + compile time of a routes file through the gateway's own loader (the built dist/, as `serve` runs
// it), in a fresh process so the first load is as cold as at start-up. The second load is what a reload
// costs once the code is warm.
//
// Usage (the bench starts it): node load-config.js DIST_DIR ROUTES_FILE SECRETS_DIR
// Prints one JSON line: {coldMs, warmMs, routes, triggers, heapUsedBytes, rssBytes}.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/** The part of config/load.ts this needs (dist/ has no type declarations). */
type LoadConfigFile = (
  file: string,
  options: { secretsDir?: string },
) =>
  | { ok: true; config: { routes: readonly { triggers: readonly unknown[] }[] } }
  | { ok: false; problems: readonly string[] };

const [dist, routesFile, secretsDir] = process.argv.slice(2) as [string, string, string];
const { loadConfigFile } = (await import(pathToFileURL(path.join(dist, 'config/load.js')).href)) as {
  loadConfigFile: LoadConfigFile;
};

const t0 = performance.now();
const cold = loadConfigFile(routesFile, { secretsDir });
const t1 = performance.now();
const warm = loadConfigFile(routesFile, { secretsDir });
const t2 = performance.now();
if (!cold.ok || !warm.ok) {
  process.stderr.write(`${(cold.ok ? [] : cold.problems).join('\n')}\n`);
  process.exitCode = 1;
} else {
  const routes = cold.config.routes;
  process.stdout.write(
    `${JSON.stringify({
      coldMs: t1 - t0,
      warmMs: t2 - t1,
      routes: routes.length,
      triggers: routes.reduce((n, r) => n + r.triggers.length, 0),
      heapUsedBytes: process.memoryUsage().heapUsed,
      rssBytes: process.memoryUsage().rss,
    })}\n`,
  );
}
