// Usage over time: requests, tokens, cost, errors and latency, split by key or model,
// from /admin/usage/series (master key) or /me/usage (a caller's own).

import { html } from 'htm/preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { call } from '../api.js';
import { Chart } from '../chart.js';
import { usd } from '../money.js';
import { ErrorMessage } from '../ui.js';

const RANGES = [['1h', 'Last hour'], ['24h', '24 hours'], ['7d', '7 days'], ['30d', '30 days']];
const METRICS = [
  // [title, sum of one row, format on the axis, counts whole things, format in the legend]
  ['Requests', (r) => r.requests, (v) => v.toFixed(0), true],
  ['Tokens', (r) => r.total_tokens, (v) => (v >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : v.toFixed(0)), true],
  ['Cost (USD)', (r) => r.cost_usd, (v) => (v > 0 && v < 0.01 ? `$${v.toPrecision(2)}` : `$${v.toFixed(2)}`), false, usd],
  ['Errors', (r) => r.errors, (v) => v.toFixed(0), true],
];

const keyLabel = (r) => (r.key_id === 'master' ? 'master key' : r.key_name ? `${r.key_name} (${r.key_prefix}…)` : r.key_id ?? '—');
const NO_MODEL = '(none: model lists, bad requests)';
const GROUPS = { none: () => 'all requests', key: keyLabel, model: (r) => r.model ?? NO_MODEL };

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
  const charts = METRICS.map(([title, value, format, integer, legend]) => ({
    title, format, integer, legend,
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

const ms = (v) => (v == null ? '—' : v < 1 ? '< 1 ms' : `${v.toFixed(0)} ms`);

/** The server's totals (`aiport usage`'s rows): cost as the CLI prints it, requests served
 * without a price said, as it says them. */
const cost = (t) => `${usd(t.cost_usd)}${t.unpriced_requests ? ` +${t.unpriced_requests} unpriced` : ''}`;

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
  const rows = answer?.totals ?? [];

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
      <div class="charts">${built.charts.map((c) => html`<${Chart} key=${c.title + split} title=${c.title} x=${built.x} series=${c.series} format=${c.format} integer=${c.integer} legend=${c.legend} />`)}</div>`}
    ${answer && html`<section class="panel" aria-labelledby="usage-totals">
      <h2 id="usage-totals">Totals by key and model</h2>
      <p class="hint">Every usage row, as <code>aiport usage</code> and <code>/admin/usage</code> count them (model calls, and key changes under <code>master</code>); the charts leave out the key changes.</p>
      ${rows.length === 0 ? html`<p class="hint">No requests in this range.</p>` : html`<div class="scroll" tabindex="0" role="region" aria-label="Totals by key and model"><table class="totals">
        <thead><tr><th scope="col">Key</th><th scope="col">Model</th><th scope="col">Requests</th><th scope="col">Errors</th>
          <th scope="col">Prompt tokens</th><th scope="col">Completion tokens</th><th scope="col">Cost (USD)</th>
          <th scope="col">p50</th><th scope="col">p95</th></tr></thead>
        <tbody>${rows.map((t) => html`<tr><th scope="row">${keyLabel(t)}</th><td>${t.model ?? NO_MODEL}</td>
          <td>${t.requests}</td><td>${t.errors}</td><td>${t.prompt_tokens}</td><td>${t.completion_tokens}</td>
          <td>${cost(t)}</td><td>${ms(t.latency_ms_p50)}</td><td>${ms(t.latency_ms_p95)}</td></tr>`)}</tbody>
      </table></div>`}
    </section>`}`;
}
