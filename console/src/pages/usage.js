// Usage over time: requests, tokens, cost, errors and latency, split by key or model,
// from /admin/usage/series (master key) or /me/usage (a caller's own).

import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { call } from '../api.js';
import { Chart } from '../chart.js';
import { ErrorMessage, formatUsd } from '../ui.js';

const RANGES = [['1h', 'Last hour'], ['24h', '24 hours'], ['7d', '7 days'], ['30d', '30 days']];
const METRICS = [
  // [title, sum of one row, format, counts whole things]
  ['Requests', (r) => r.requests, (v) => v.toFixed(0), true],
  ['Tokens', (r) => r.total_tokens, (v) => (v >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : v.toFixed(0)), true],
  ['Cost (USD)', (r) => r.cost_usd, (v) => (v > 0 && v < 0.01 ? `$${v.toPrecision(2)}` : `$${v.toFixed(2)}`), false],
  ['Errors', (r) => r.errors, (v) => v.toFixed(0), true],
];

const keyLabel = (r) => (r.key_id === 'master' ? 'master key' : r.key_name ? `${r.key_name} (${r.key_prefix}…)` : r.key_id ?? '—');
const GROUPS = { none: () => 'all requests', key: keyLabel, model: (r) => r.model ?? '(none: model lists, bad requests)' };

/** Per group: one value per bucket (0 where nothing happened; latency null there). */
function buildSeries(answer, split) {
  const width = answer.bucket_seconds;
  const first = Math.floor(answer.since / width) * width;
  const x = [];
  for (let t = first; t < answer.until; t += width) x.push(t);
  const at = new Map(x.map((t, i) => [t, i]));
  const groups = new Map();
  for (const row of answer.data) {
    const name = GROUPS[split](row);
    if (!groups.has(name)) groups.set(name, []);
    groups.get(name).push(row);
  }
  const names = [...groups.keys()].sort();
  const charts = METRICS.map(([title, value, format, integer]) => ({
    title, format, integer,
    series: names.map((name) => {
      const values = x.map(() => 0);
      for (const row of groups.get(name)) values[at.get(row.t)] += value(row);
      return { label: name, values };
    }),
  }));
  charts.push({
    title: 'Latency (average ms)', format: (v) => `${v.toFixed(0)} ms`,
    series: names.map((name) => {
      const sums = x.map(() => [0, 0]);
      for (const row of groups.get(name)) {
        if (row.latency_ms_avg == null) continue;
        sums[at.get(row.t)][0] += row.latency_ms_avg * row.requests;
        sums[at.get(row.t)][1] += row.requests;
      }
      return { label: name, values: sums.map(([s, n]) => (n ? s / n : null)) };
    }),
  });
  return { x, charts };
}

function totals(rows) {
  const by = new Map();
  for (const r of rows) {
    const id = `${r.key_id}\u0000${r.model}`;
    const t = by.get(id) ?? { key: keyLabel(r), model: r.model ?? '(none: model lists, bad requests)', requests: 0, errors: 0, tokens: 0, cost: 0, latency: 0 };
    t.requests += r.requests;
    t.errors += r.errors;
    t.tokens += r.total_tokens;
    t.cost += r.cost_usd;
    t.latency += (r.latency_ms_avg ?? 0) * r.requests;
    by.set(id, t);
  }
  return [...by.values()].sort((a, b) => b.requests - a.requests);
}

function latency(t) {
  if (!t.requests) return '—';
  const ms = t.latency / t.requests;
  return ms < 1 ? '< 1 ms' : `${ms.toFixed(0)} ms`;
}

export function UsagePage({ me }) {
  const [range, setRange] = useState('24h');
  const [split, setSplit] = useState(me.admin ? 'key' : 'model');
  const [answer, setAnswer] = useState(null);
  const [error, setError] = useState(null);
  const [loading, setLoading] = useState(false);
  const load = () => {
    setLoading(true);
    const path = me.admin ? '/admin/usage/series' : '/me/usage';
    call(`${path}?since=${range}`).then((a) => { setAnswer(a); setError(null); }, setError).finally(() => setLoading(false));
  };
  useEffect(load, [range]);
  const built = useMemo(() => answer && buildSeries(answer, split), [answer, split]);
  const rows = useMemo(() => (answer ? totals(answer.data) : []), [answer]);

  return html`<div class="row toolbar">
      <fieldset class="segmented"><legend>Range</legend>
        ${RANGES.map(([value, label]) => html`<label><input type="radio" name="range" value=${value}
          checked=${range === value} onChange=${() => setRange(value)} /><span>${label}</span></label>`)}
      </fieldset>
      <fieldset class="segmented"><legend>Split by</legend>
        ${[['none', 'Nothing'], ...(me.admin ? [['key', 'Key']] : []), ['model', 'Model']].map(([value, label]) => html`<label>
          <input type="radio" name="split" value=${value} checked=${split === value} onChange=${() => setSplit(value)} /><span>${label}</span></label>`)}
      </fieldset>
      <button type="button" class="secondary" onClick=${load} disabled=${loading}>${loading ? 'Loading…' : 'Refresh'}</button>
    </div>
    ${!me.admin && html`<p class="hint">Your key's own usage.</p>`}
    <${ErrorMessage} error=${error} />
    ${built && html`<p class="hint">One point per ${answer.bucket_seconds >= 86400 ? `${answer.bucket_seconds / 86400} day(s)` : answer.bucket_seconds >= 3600 ? `${answer.bucket_seconds / 3600} hour(s)` : `${answer.bucket_seconds / 60} minutes`}.</p>
      <div class="charts">${built.charts.map((c) => html`<${Chart} key=${c.title + split} title=${c.title} x=${built.x} series=${c.series} format=${c.format} integer=${c.integer} />`)}</div>`}
    ${answer && html`<section class="panel" aria-labelledby="usage-totals">
      <h2 id="usage-totals">Totals by key and model</h2>
      ${rows.length === 0 ? html`<p class="hint">No requests in this range.</p>` : html`<div class="scroll"><table class="totals">
        <thead><tr><th scope="col">Key</th><th scope="col">Model</th><th scope="col">Requests</th><th scope="col">Errors</th>
          <th scope="col">Tokens</th><th scope="col">Cost</th><th scope="col">Avg latency</th></tr></thead>
        <tbody>${rows.map((t) => html`<tr><th scope="row">${t.key}</th><td>${t.model}</td><td>${t.requests}</td>
          <td>${t.errors}</td><td>${t.tokens}</td><td>${formatUsd(t.cost)}</td>
          <td>${latency(t)}</td></tr>`)}</tbody>
      </table></div>`}
    </section>`}`;
}
