// Health: engines and their queues, deployments and breakers, database and Redis, as the
// server reports them (/health with the master key, /health/ready, /admin/deployments).
// A part the server does not report yet is said so, not hidden.

import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { call } from '../api.js';
import { ErrorMessage } from '../ui.js';

const get = (path, options) => call(path, options).then((data) => ({ data }), (error) => ({ error }));

const text = (v) => (v === true ? 'yes' : v === false ? 'no' : v == null ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function state(item) {
  if (item.error || item.ready === false || item.healthy === false || item.state === 'open') return ['bad', item.error ? 'failed' : (item.state ?? 'down')];
  if (item.loaded === false) return ['idle', 'not loaded'];
  if (item.state && item.state !== 'closed') return ['warn', item.state];
  return ['ok', item.state ?? 'ready'];
}

/** Objects keyed by name as a table: one row each, a column per field any of them has. */
function Table({ items, caption }) {
  const names = Object.keys(items);
  if (!names.length) return html`<p class="hint">None.</p>`;
  const columns = [...new Set(names.flatMap((n) => Object.keys(items[n] ?? {})))].filter((c) => c !== 'error');
  return html`<div class="scroll"><table class="health">
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

function asNamed(list, key = 'name') {
  if (!Array.isArray(list)) return list ?? {};
  return Object.fromEntries(list.map((item, i) => [item[key] ?? item.id ?? String(i), item]));
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
    const [health, ready, deployments] = await Promise.all([get('/health'), get('/health/ready', { key: '' }), get('/admin/deployments')]);
    setReport({ health, ready, deployments, at: new Date() });
  };
  useEffect(() => {
    load();
    const timer = setInterval(load, 10000);
    return () => clearInterval(timer);
  }, []);
  if (!report) return html`<p role="status">Loading…</p>`;
  const h = report.health.data ?? {};
  const engines = h.engines ?? h.backends ?? {};
  const stores = Object.fromEntries(['database', 'redis'].filter((k) => h[k]).map((k) => [k, h[k]]));
  const readyText = report.ready.data ? 'ready' : report.ready.error?.status === 503 ? `not ready: ${report.ready.error.message}` : null;
  return html`<div class="row toolbar">
      <p class="hint" role="status">Checked at ${report.at.toLocaleTimeString()} (every 10 s).</p>
      <button type="button" class="secondary" onClick=${load}>Refresh</button>
    </div>
    <${Section} title="Server" result=${report.health}>
      <dl class="facts">
        <dt>Status</dt><dd><span class=${`badge ${h.status === 'ok' ? 'ok' : 'bad'}`}>${text(h.status)}</span></dd>
        ${readyText && html`<dt>Readiness</dt><dd>${readyText}</dd>`}
        <dt>Up for</dt><dd>${h.uptime_seconds != null ? `${Math.round(h.uptime_seconds)} s` : '—'}</dd>
        ${h.version && html`<dt>Version</dt><dd>${h.version}</dd>`}
      </dl>
    <//>
    <${Section} title="Engines and upstreams" result=${report.health}>
      <${Table} items=${asNamed(engines)} caption="Engines and upstreams" />
    <//>
    <${Section} title="Deployments and breakers" result=${report.deployments}
      notYet="This server does not report deployments yet (no /admin/deployments).">
      <${Table} items=${asNamed(report.deployments.data?.data ?? report.deployments.data?.deployments ?? {})} caption="Deployments" />
    <//>
    <${Section} title="Database and Redis" result=${report.health}>
      ${Object.keys(stores).length ? html`<${Table} items=${stores} caption="Database and Redis" />`
        : html`<p class="hint">This server does not report its database and Redis in /health yet.</p>`}
    <//>`;
}
