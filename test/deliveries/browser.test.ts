// The deliveries page in a real browser (issue #19): headless Chromium over the DevTools protocol against a
// real `serve` creating through the fake Kubernetes API. The list shows what was sent, a filter narrows it,
// the detail view shows redacted headers and the reason, a dry-run replay from the page shows the rendered
// objects, and a <script> injected through a payload never runs. A screenshot of each view is saved under
// .test-output/deliveries/ (TEST_OUTPUT_DIR overrides the root).
//
// Needs `chromium` on PATH (or CHROMIUM=…): without one this test fails and says how to get it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, routesFile } from '../helpers/gateway.js';
import { CHROMIUM_MISSING, findChromium, launchChromium, type Browser } from '../helpers/chromium.js';
import { repoRoot } from '../helpers/shared.js';
import { Cleanup, fakeKube, gatewayOn } from '../integration/harness.js';
import { basic, extraToken, pushBody, routesYaml, sendGithub, tokenFile } from './support.js';

const TOKEN = 'browser-test-admin-token';
const outputDir = join(process.env.TEST_OUTPUT_DIR ?? join(repoRoot, '.test-output'), 'deliveries');
const cleanup = new Cleanup();
let browser: Browser | undefined;

beforeAll(async () => {
  const binary = findChromium();
  // Without one, the test below fails with CHROMIUM_MISSING: never a silent skip.
  if (binary === undefined) return;
  browser = await launchChromium(binary);
  cleanup.add(() => browser?.close());
}, 60_000);
afterAll(() => cleanup.run(), 60_000);

describe('the deliveries page in headless Chromium', () => {
  it('lists, filters, shows a redacted detail, replays a dry run, and never runs an injected script', async () => {
    if (browser === undefined) throw new Error(CHROMIUM_MISSING);
    const fake = await fakeKube(cleanup);
    const gw = await gatewayOn(
      cleanup,
      fake,
      routesFile(routesYaml('dashboardURL: https://dashboard.example.com')),
      ['--admin-token-file', tokenFile(TOKEN)],
    );
    const injected =
      '<script>window.__pwned = 1; console.log("pwned")</script><img src=x onerror="console.log(\'pwned\')">';
    expect(
      (await sendGithub(gw.url, pushBody({ head_commit: { message: injected } }), 'push-main')).status,
    ).toBe(201);
    expect((await sendGithub(gw.url, pushBody({ ref: 'refs/heads/dev' }), 'push-dev')).status).toBe(200);
    const shared = await post(`${gw.url}/shared`, pushBody(), {
      'content-type': 'application/json',
      'x-delivery': 'shared-1',
      'x-extra-token': extraToken,
    });
    expect(shared.status).toBe(201);

    mkdirSync(outputDir, { recursive: true });
    const page = await browser!.newPage();
    // What a browser sends once the operator typed the token into its Basic prompt.
    await page.send('Network.enable');
    await page.send('Network.setExtraHTTPHeaders', { headers: basic(TOKEN) });

    // The list: every delivery sent, newest first.
    await page.goto(`${gw.adminUrl}/`);
    const rows = () =>
      page.evaluate<string[]>(
        `[...document.querySelectorAll('tr.delivery')].map((r) => r.cells[5].textContent.trim())`,
      );
    expect(await rows()).toEqual(['shared-1', 'push-dev', 'push-main']);
    writeFileSync(join(outputDir, 'list.png'), await page.screenshot());

    // A filter narrows it (the form submits as a GET with ?route=…).
    await page.navigating(() =>
      page.evaluate(`(() => {
        document.querySelector('select[name=route]').value = '/github';
        document.querySelector('select[name=outcome]').value = 'skipped';
        document.querySelector('form.filters button').click();
      })()`),
    );
    expect(await rows()).toEqual(['push-dev']);
    expect(await page.evaluate<string>('location.search')).toBe('?route=%2Fgithub&outcome=skipped&limit=50');

    // The skipped delivery's detail shows the reason.
    await page.navigating(() => page.evaluate(`document.querySelector('tr.delivery a').click()`));
    expect(await page.evaluate<string>(`document.querySelector('.reason').textContent`)).toBe(
      "filter returned false: body.ref == 'refs/heads/main'",
    );

    // The created one: redacted headers, the payload shown as text, a link to the run in the Dashboard.
    await page.goto(`${gw.adminUrl}/?id=push-main`);
    const headers = await page.evaluate<Record<string, string>>(
      `Object.fromEntries([...document.querySelectorAll('#headers tr')].map((r) => [r.cells[0].textContent, r.cells[1].textContent]))`,
    );
    expect(headers['x-hub-signature-256']).toBe('<redacted>');
    expect(headers['x-github-delivery']).toBe('push-main');
    const shown = JSON.parse(await page.evaluate<string>(`document.querySelector('#body').textContent`));
    expect(shown.head_commit.message).toBe(injected);
    expect(await page.evaluate<number>(`document.querySelectorAll('script, img').length`)).toBe(0);
    expect(await page.evaluate<string>(`document.querySelector('a.run').href`)).toMatch(
      /^https:\/\/dashboard\.example\.com\/#\/namespaces\/default\/pipelineruns\/build-[a-z0-9]{10}$/,
    );
    writeFileSync(join(outputDir, 'detail.png'), await page.screenshot());

    // Replay (dry run) from the page: the token typed into the form, the rendered objects shown.
    await page.navigating(() =>
      page.evaluate(`(() => {
        document.querySelector('form.replay input[name=token]').value = ${JSON.stringify(TOKEN)};
        document.querySelector('form.replay button[value=dry-run]').click();
      })()`),
    );
    expect(await page.evaluate<string>(`document.querySelector('h1').textContent`)).toBe(
      'Replay push-main-replay-1: HTTP 200',
    );
    const objects = JSON.parse(
      await page.evaluate<string>(`document.querySelector('pre.objects').textContent`),
    );
    expect(objects[0]).toMatchObject({ kind: 'PipelineRun', spec: { pipelineRef: { name: 'build' } } });
    expect(objects[0].metadata.name).toMatch(/^build-[a-z0-9]{10}$/);
    writeFileSync(join(outputDir, 'replay.png'), await page.screenshot());
    expect(fake.objects()).toHaveLength(2);

    // Nothing the payload carried ever ran, on any of the pages.
    expect(await page.evaluate<unknown>('window.__pwned')).toBeUndefined();
    expect(page.console.filter((l) => l.includes('pwned'))).toEqual([]);
  }, 120_000);
});
