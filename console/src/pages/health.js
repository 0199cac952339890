// Health: engines and their queues, deployments and breakers, database and Redis, as the
// server reports them (/health with the master key, /health/ready, /admin/deployments,
// /admin/storage). A part the server does not report is said so, not hidden.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { ErrorMessage } from '../ui.js';

const get = (path) => call(path).then((data) => ({ data }), (error) => ({ error }));

// /health/ready needs no key and answers 503 with its reason (not an OpenAI error).
async function readiness() {
  try {
    const response = await call('/health/ready', { key: '', raw: true });
    return { data: await response.json() };
  } catch (error) {
    return error.status === 503 ? { data: { status: error.message } } : { error };
  }
}

const ms = (v) => (v == null ? '—' : `${Math.round(v)} ms`);

function text(v) {
  if (v === true) return 'yes';
  if (v === false) return 'no';
  if (v == null) return '—';
  if (Array.isArray(v)) return v.length ? v.join(', ') : '—';
  if (typeof v === 'object') return Object.entries(v).map(([k, x]) => `${k.replace(/_/g, ' ')}: ${typeof x === 'number' && k.endsWith('ms') ? ms(x) : text(x)}`).join(' · ');
  return String(v);
}

const BAD = new Set(['down', 'open', 'failed']);
const WARN = new Set(['half_open', 'degraded', 'draining', 'starting', 'not loaded']);
const IDLE = new Set(['not configured', 'unknown']); // unknown: no request went there yet

/** The last request a deployment or upstream was sent: "200, 3 s ago". */
const lastRequest = (last) => (last ? `${last.status}, ${Math.round(last.seconds_ago)} s ago` : 'none yet');

function state(item) {
  const label = item.error && !item.state ? 'failed'
    : item.state ?? (item.ready === false ? 'down' : item.loaded === false ? 'not loaded' : item.status ?? 'ready');
  const tone = BAD.has(label) ? 'bad' : WARN.has(label) ? 'warn' : IDLE.has(label) ? 'idle' : 'ok';
  return [tone, label.replace(/_/g, ' ')];
}

/** Objects keyed by name as a table: one row each, a column per field any of them has. */
function Table({ items, caption, skip = [] }) {
  const names = Object.keys(items);
  if (!names.length) return html`<p class="hint">None.</p>`;
  const hidden = new Set(['error', 'state', 'status', 'ready', ...skip]);
  const columns = [...new Set(names.flatMap((n) => Object.keys(items[n] ?? {})))].filter((c) => !hidden.has(c));
  // Focusable, so that a keyboard can scroll a table wider than the page (WCAG 2.1.1).
  return html`<div class="scroll" tabindex="0" role="region" aria-label=${caption}><table class="health">
    <caption class="sr-only">${caption}</caption>
    <thead><tr><th scope="col">Name</th><th scope="col">State</th>${columns.map((c) => html`<th scope="col">${c.replace(/_/g, ' ')}</th>`)}</tr></thead>
    <tbody>${names.map((name) => {
      const item = items[name] ?? {};
      const [tone, label] = state(item);
      return html`<tr data-name=${name}><th scope="row">${name}</th>
        <td><span class=${`badge ${tone}`}>${label}</span>${item.error && html`<br /><span class="hint">${item.error}</span>`}</td>
        ${columns.map((c) => html`<td>${text(item[c])}</td>`)}</tr>`;
    })}</tbody>
  </table></div>`;
}

/** A model name the embedded engines answer on their own: one local deployment, no
 * fallback, nothing wrong. There are dozens (every OpenAI name they stand in for). */
const plainLocal = (group) => group.deployments?.length === 1 && !group.fallbacks?.length
  && group.deployments[0].id?.startsWith('local-') && group.deployments[0].state === 'closed';

/** /admin/deployments' model groups as one row per deployment: [the configured groups
 * and any in trouble, the embedded engines' plain names]. */
function deploymentRows(groups) {
  const [shown, folded] = [{}, {}];
  for (const group of groups ?? []) {
    const rows = plainLocal(group) ? folded : shown;
    for (const { id, ...deployment } of group.deployments ?? []) {
      rows[`${group.model} → ${id ?? deployment.model}`] = {
        ...deployment, last_request: lastRequest(deployment.last_request),
        strategy: group.strategy, fallbacks: group.fallbacks,
      };
    }
  }
  return [shown, folded];
}

function Deployments({ groups }) {
  const [shown, folded] = deploymentRows(groups);
  const count = Object.keys(folded).length;
  return html`<${Table} items=${shown} caption="Deployments" />
    ${count > 0 && html`<details class="folded"><summary>${count} model names the embedded engines
      answer on their own (one deployment each, breakers closed)</summary>
      <${Table} items=${folded} caption="Embedded engines' model names" />
    </details>`}`;
}

/** /health says of an upstream what the requests sent there told (never asking it:
 * "unknown" before the first); the breakers of its deployments name the state: all open,
 * "open"; some not closed, "degraded". */
function withBreakers(engines, groups) {
  const deployments = (groups ?? []).flatMap((group) => group.deployments ?? []);
  return Object.fromEntries(Object.entries(engines).map(([name, shown]) => {
    if (shown?.kind !== 'upstream') return [name, shown];
    const item = { ...shown, last_request: lastRequest(shown.last_request) };
    const states = deployments.filter((d) => d.id?.startsWith(`${name}/`)).map((d) => d.state);
    if (!states.length) return [name, item];
    const notClosed = states.filter((s) => s !== 'closed').length;
    const state = !notClosed ? undefined : notClosed === states.length ? 'open' : 'degraded';
    return [name, { ...item, state, breakers: `${notClosed} of ${states.length} not closed` }];
  }));
}

function Section({ title, result, notYet, children }) {
  return html`<section class="panel" aria-labelledby=${`h-${title}`}>
    <h2 id=${`h-${title}`}>${title}</h2>
    ${result?.error?.status === 404 ? html`<p class="hint">${notYet}</p>`
      : result?.error ? html`<${ErrorMessage} error=${result.error} />` : children}
  </section>`;
}

export function HealthPage() {
  const [report, setReport] = useState(null);
  const load = async () => {
    const [health, ready, deployments, storage] = await Promise.all(
      [get('/health'), readiness(), get('/admin/deployments'), get('/admin/storage')],
    );
    setReport({ health, ready, deployments, storage, at: new Date() });
  };
  useEffect(() => {
    load();
    const timer = setInterval(load, 10000);
    return () => clearInterval(timer);
  }, []);
  if (!report) return html`<p role="status">Loading…</p>`;
  const h = report.health.data ?? {};
  const engines = withBreakers(h.engines ?? h.backends ?? {}, report.deployments.data?.data);
  const stores = report.storage.data ? { database: report.storage.data.database, redis: report.storage.data.redis } : {};
  return html`<div class="row toolbar">
      <p class="hint" role="status">Checked at ${report.at.toLocaleTimeString()} (every 10 s).</p>
      <button type="button" class="secondary" onClick=${load}>Refresh</button>
    </div>
    <${Section} title="Server" result=${report.health}>
      <dl class="facts">
        <dt>Status</dt><dd><span class=${`badge ${h.status === 'ok' ? 'ok' : 'bad'}`}>${text(h.status)}</span></dd>
        ${report.ready.data && html`<dt>Readiness</dt><dd>${report.ready.data.status}</dd>`}
        <dt>Up for</dt><dd>${h.uptime_seconds != null ? `${Math.round(h.uptime_seconds)} s` : '—'}</dd>
        ${h.version && html`<dt>Version</dt><dd>${h.version}</dd>`}
      </dl>
    <//>
    <${Section} title="Engines and upstreams" result=${report.health}>
      <${Table} items=${engines} caption="Engines and upstreams" />
      <p class="hint"><strong>busy</strong>: requests running or waiting in the engine's queue.</p>
    <//>
    <${Section} title="Deployments and breakers" result=${report.deployments}
      notYet="This server does not report deployments yet (no /admin/deployments).">
      <${Deployments} groups=${report.deployments.data?.data} />
    <//>
    <${Section} title="Database and Redis" result=${report.storage}
      notYet="This server does not report its database and Redis yet (no /admin/storage).">
      <${Table} items=${stores} caption="Database and Redis" />
    <//>`;
}
