// The deliveries page (contract §14): server-rendered HTML with no script and no external asset, so it works
// under `Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'` and through a port-forward.
// Everything shown came from a stranger's request (headers, body, reasons quoting it): every string goes
// through esc() on its way out, and the CSP stops any script that slipped through anyway.
import type { JsonObject, JsonValue } from '../model.js';
import type { DeliveryFilter, StoredDelivery } from './store.js';

export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'";

export interface PageContext {
  /** Route paths of the current config, for the filter. */
  readonly routes: readonly string[];
  /** Tekton Dashboard base URL, when set (gateway.dashboardURL). */
  readonly dashboardURL: string | undefined;
  readonly replica: string;
}

const OUTCOMES = ['created', 'duplicate', 'skipped', 'rendered', 'failed', 'rejected'];

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em}h2{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}pre{background:#f7f7f7;padding:.6em;overflow:auto;max-height:40em;white-space:pre-wrap;word-break:break-all}
.s2{color:#176f2c}.s4,.s5{color:#a11}.o-created,.o-duplicate{color:#176f2c}.o-failed{color:#a11}.o-skipped{color:#666}
form.filters{margin:1em 0}form.filters label{margin-right:1em}code{background:#f4f4f4;padding:0 .2em}
.note{color:#666}
`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="same-origin">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>${body}</body></html>
`;
}

function statusClass(status: number): string {
  return `s${String(status)[0]}`;
}

function time(ms: number): string {
  return new Date(ms).toISOString();
}

const detailHref = (eventId: string) => `/?id=${encodeURIComponent(eventId)}`;

function triggerSummary(t: JsonObject): string {
  const outcome = String(t['outcome'] ?? '');
  return `<span class="o-${esc(outcome)}">${esc(String(t['name'] ?? ''))}: ${esc(outcome)}</span>`;
}

export function listPage(
  deliveries: readonly StoredDelivery[],
  filter: DeliveryFilter,
  ctx: PageContext,
): string {
  const routeOptions = [...new Set([...ctx.routes, ...(filter.route ? [filter.route] : [])])]
    .map((r) => `<option value="${esc(r)}"${r === filter.route ? ' selected' : ''}>${esc(r)}</option>`)
    .join('');
  const outcomeOptions = OUTCOMES.map(
    (o) => `<option value="${o}"${o === filter.outcome ? ' selected' : ''}>${o}</option>`,
  ).join('');
  const rows = deliveries
    .map(
      (d) => `<tr class="delivery">
<td><a href="${esc(detailHref(d.eventId))}">${esc(time(d.timeMs))}</a></td>
<td>${esc(d.route || '(no route)')}</td>
<td>${esc(d.event ?? '')}</td>
<td class="${statusClass(d.status)}">${d.status}</td>
<td>${d.triggers.length ? d.triggers.map(triggerSummary).join('<br>') : esc(d.error ?? '')}</td>
<td><a href="${esc(detailHref(d.eventId))}"><code>${esc(d.eventId)}</code></a>${d.replayOf ? ' <span class="note">(replay)</span>' : ''}${d.verified ? '' : ' <span class="note">(unverified)</span>'}</td>
</tr>`,
    )
    .join('\n');
  return page(
    'Deliveries · tekton-gateway',
    `<h1>Recent deliveries <span class="note">on replica ${esc(ctx.replica)}</span></h1>
<form class="filters" method="get" action="/">
<label>Route <select name="route"><option value="">any</option>${routeOptions}</select></label>
<label>Outcome <select name="outcome"><option value="">any</option>${outcomeOptions}</select></label>
<label>Show <input name="limit" type="number" min="1" value="${filter.limit}" size="4"></label>
<button type="submit">Filter</button>
</form>
<table id="deliveries"><thead><tr><th>Time (UTC)</th><th>Route</th><th>Event</th><th>Status</th><th>Triggers</th><th>Event id</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="6" class="note">No deliveries recorded on this replica yet.</td></tr>'}
</tbody></table>
<p class="note">Each replica keeps its own recent deliveries in memory; they are lost on restart.</p>`,
  );
}

function pretty(json: JsonValue): string {
  return esc(JSON.stringify(json, null, 2));
}

/** The body as pretty JSON when it parses, else as text. */
function bodyText(body: Buffer): string {
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** `<dashboardURL>/#/namespaces/<ns>/pipelineruns/<name>` (§12.1); other kinds get no link. */
function dashboardLink(base: string | undefined, r: JsonObject): string | undefined {
  if (base === undefined) return undefined;
  const plural =
    r['kind'] === 'PipelineRun' ? 'pipelineruns' : r['kind'] === 'TaskRun' ? 'taskruns' : undefined;
  const ns = r['namespace'];
  const name = r['name'];
  if (!plural || typeof ns !== 'string' || typeof name !== 'string' || name === '') return undefined;
  return `${base}/#/namespaces/${encodeURIComponent(ns)}/${plural}/${encodeURIComponent(name)}`;
}

function resourceLine(r: JsonValue, ctx: PageContext): string {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return '';
  const text = `${String(r['kind'] ?? '')} ${String(r['namespace'] ?? '')}/${String(r['name'] ?? '')}`;
  const href = dashboardLink(ctx.dashboardURL, r);
  return href
    ? `<li><a class="run" href="${esc(href)}" rel="noreferrer">${esc(text)}</a></li>`
    : `<li>${esc(text)}</li>`;
}

function triggerBlock(t: JsonObject, ctx: PageContext): string {
  const outcome = String(t['outcome'] ?? '');
  const parts = [`<h3 class="o-${esc(outcome)}">${esc(String(t['name'] ?? ''))}: ${esc(outcome)}</h3>`];
  if (typeof t['reason'] === 'string') parts.push(`<p class="reason">${esc(t['reason'])}</p>`);
  if (typeof t['retryable'] === 'boolean') parts.push(`<p class="note">retryable: ${t['retryable']}</p>`);
  if (Array.isArray(t['resources']) && t['resources'].length) {
    parts.push(`<ul>${t['resources'].map((r) => resourceLine(r, ctx)).join('')}</ul>`);
  }
  if (Array.isArray(t['objects'])) parts.push(`<pre class="objects">${pretty(t['objects'])}</pre>`);
  if (typeof t['objectsOmitted'] === 'string') parts.push(`<p class="note">${esc(t['objectsOmitted'])}</p>`);
  return `<div class="trigger">${parts.join('\n')}</div>`;
}

function replayForms(d: StoredDelivery): string {
  if (d.request.body === undefined) {
    return `<p class="note">Not replayable: ${esc(d.request.bodyOmitted ?? 'no body stored')}.</p>`;
  }
  const action = `/deliveries/${encodeURIComponent(d.eventId)}/replay`;
  // No script may run here (CSP), and POST needs the token itself rather than the browser's cached Basic
  // credentials (§12.0 item 12): the form asks for it. docs/operations.md, "Deliveries".
  return `<form class="replay" method="post" action="${esc(action)}">
<label>Admin token <input name="token" type="password" autocomplete="current-password" required></label>
<button type="submit" name="mode" value="dry-run" formaction="${esc(`${action}?dryRun=true`)}">Replay (dry run)</button>
<button type="submit" name="mode" value="create">Replay</button>
</form>
<p class="note">A replay runs this request through the current routes without checking its signature again;
its names keep the original dedupe key, so runs that already exist answer <code>duplicate</code>.</p>`;
}

export function detailPage(d: StoredDelivery, ctx: PageContext): string {
  const headerRows = Object.entries(d.request.headers)
    .flatMap(([name, values]) => values.map((v) => `<tr><th>${esc(name)}</th><td>${esc(v)}</td></tr>`))
    .join('\n');
  const body =
    d.request.body === undefined
      ? `<p class="note">${esc(d.request.bodyOmitted ?? 'no body')} (${d.request.bodyBytes} bytes received).</p>`
      : `<pre id="body">${esc(bodyText(d.request.body))}</pre>`;
  const facts: [string, string][] = [
    ['Event id', d.eventId],
    ['Time (UTC)', time(d.timeMs)],
    ['Route', d.route || '(no route)'],
    ['Provider', d.provider],
    ['Event', d.event ?? ''],
    ['Status', String(d.status)],
    ['Duration', `${d.durationMs} ms`],
    ['Replica', d.replica],
    ['Verified', d.verified ? 'yes' : 'no'],
    ...(d.replayOf ? ([['Replay of', d.replayOf]] as [string, string][]) : []),
    ...(d.updatedMs ? ([['Updated by a background retry', time(d.updatedMs)]] as [string, string][]) : []),
  ];
  return page(
    `Delivery ${d.eventId} · tekton-gateway`,
    `<p><a href="/">← all deliveries</a></p>
<h1>Delivery <code>${esc(d.eventId)}</code></h1>
<table id="facts">${facts.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>
${d.replayOf ? `<p><a href="${esc(detailHref(d.replayOf))}">the original delivery</a></p>` : ''}
<h2>Triggers</h2>
${d.triggers.length ? d.triggers.map((t) => triggerBlock(t, ctx)).join('\n') : `<p class="reason">${esc(d.error ?? 'no trigger ran')}</p>`}
<h2>Replay</h2>
${replayForms(d)}
<h2>Request</h2>
<p><code>${esc(d.request.method)} ${esc(d.request.path)}</code></p>
<table id="headers">${headerRows}</table>
<h2>Body</h2>
${body}
<h2>Answer</h2>
<p class="${statusClass(d.response.status)}">HTTP ${d.response.status}</p>
<pre id="answer">${pretty(d.response.body)}</pre>`,
  );
}

/** What a replay from the page answered, with the rendered or created objects. */
export function replayPage(
  original: string,
  eventId: string,
  status: number,
  body: JsonObject,
  ctx: PageContext,
): string {
  const triggers = Array.isArray(body['triggers'])
    ? body['triggers'].filter(
        (t): t is JsonObject => t !== null && typeof t === 'object' && !Array.isArray(t),
      )
    : [];
  return page(
    `Replay ${eventId} · tekton-gateway`,
    `<p><a href="${esc(detailHref(original))}">← the delivery replayed</a> · <a href="/">all deliveries</a></p>
<h1>Replay <code>${esc(eventId)}</code>: <span class="${statusClass(status)}">HTTP ${status}</span></h1>
${triggers.map((t) => triggerBlock(t, ctx)).join('\n')}
${typeof body['error'] === 'string' ? `<p class="reason">${esc(body['error'])}</p>` : ''}
<h2>Answer</h2>
<pre id="answer">${pretty(body)}</pre>`,
  );
}

/** A refusal (401, 404, 409) as a small page, for browsers. */
export function messagePage(status: number, message: string): string {
  return page(
    `HTTP ${status} · tekton-gateway`,
    `<h1>HTTP ${status}</h1><p class="reason">${esc(message)}</p><p><a href="/">all deliveries</a></p>`,
  );
}
