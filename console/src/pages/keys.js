// Keys: create (the key is shown once), list with limits, spend and last use, edit
// limits, revoke. Every action is an /admin/ request with the signed-in master key.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { call } from '../api.js';
import { usd } from '../money.js';
import { CopyButton, ErrorMessage, Field, formatTime } from '../ui.js';

const LIMITS = [
  // [field in the API, label, input type, hint]
  ['rpm', 'Requests per minute', 'number', ''],
  ['tpm', 'Tokens per minute', 'number', ''],
  ['max_tokens_total', 'Token budget', 'number', 'lifetime tokens'],
  ['max_budget', 'USD budget', 'number', 'lifetime spend'],
];

/** Form values → an API body; empty fields are left out (create) or cleared (edit). */
function limitsBody(values, clearEmpty) {
  const body = {};
  for (const [name] of LIMITS) {
    const raw = String(values[name] ?? '').trim();
    if (raw) body[name] = name === 'max_budget' ? Number(raw) : parseInt(raw, 10);
    else if (clearEmpty) body[name] = null;
  }
  const models = String(values.models ?? '').split(',').map((m) => m.trim()).filter(Boolean);
  if (models.length) body.models = models;
  else if (clearEmpty) body.models = null;
  if (String(values.expires ?? '').trim()) body.expires = values.expires.trim();
  else if (clearEmpty) body.expires = null;
  return body;
}

function LimitFields({ values, set }) {
  const bind = (name) => ({ value: values[name] ?? '', onInput: (e) => set({ ...values, [name]: e.currentTarget.value }) });
  return html`<div class="row">
    ${LIMITS.map(([name, label, type, hint]) => html`<${Field} label=${label} hint=${hint}>
      <input type=${type} name=${name} min="0" step=${name === 'max_budget' ? 'any' : '1'} ...${bind(name)} /><//>`)}
    <${Field} label="Models" hint="comma-separated; empty: all"><input type="text" name="models" ...${bind('models')} /><//>
    <${Field} label="Expires" hint="e.g. 30d or 2027-01-01; empty: never"><input type="text" name="expires" ...${bind('expires')} /><//>
  </div>`;
}

function CreateKey({ onCreated }) {
  const [values, setValues] = useState({ name: '' });
  const [created, setCreated] = useState(null);
  const [error, setError] = useState(null);
  const create = async (event) => {
    event.preventDefault();
    setError(null);
    try {
      const key = await call('/admin/keys', { method: 'POST', json: { name: values.name.trim(), ...limitsBody(values, false) } });
      setCreated(key);
      setValues({ name: '' });
      onCreated();
    } catch (e) {
      setError(e);
    }
  };
  return html`<section class="panel" aria-labelledby="create-key">
    <h2 id="create-key">Create a key</h2>
    ${created && html`<div class="once" role="alert">
      <p><strong>Key “${created.name}” created.</strong> Copy it now: it is stored only as a hash and is never shown again.</p>
      <div class="row nowrap">
        <label class="field grow"><span class="label">New key</span>
          <input type="text" readonly value=${created.key} data-testid="new-key" onFocus=${(e) => e.currentTarget.select()} /></label>
        <${CopyButton} text=${created.key} label="Copy key" />
        <button type="button" class="secondary" onClick=${() => setCreated(null)}>I have stored it</button>
      </div>
    </div>`}
    <form onSubmit=${create}>
      <${Field} label="Name"><input type="text" name="name" required maxlength="200" value=${values.name}
        onInput=${(e) => setValues({ ...values, name: e.currentTarget.value })} /><//>
      <${LimitFields} values=${values} set=${setValues} />
      <${ErrorMessage} error=${error} />
      <button type="submit">Create key</button>
    </form>
  </section>`;
}

// A key's expiry as the form shows it: ISO 8601 in UTC, to the second.
const isoTime = (unix) => (unix ? new Date(unix * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : '');

function EditKey({ row, onDone }) {
  const [values, setValues] = useState({
    ...Object.fromEntries(LIMITS.map(([name]) => [name, row[name === 'max_budget' ? 'max_budget_usd' : name] ?? ''])),
    models: (row.models ?? []).join(', '),
    expires: isoTime(row.expires_at),
  });
  const [error, setError] = useState(null);
  const form = useRef();
  useEffect(() => form.current.querySelector('input')?.focus(), []); // where the keyboard goes on
  const save = async (event) => {
    event.preventDefault();
    try {
      const body = limitsBody(values, true);
      if (values.expires === isoTime(row.expires_at)) delete body.expires; // untouched: kept to the millisecond
      await call(`/admin/keys/${encodeURIComponent(row.id)}`, { method: 'PATCH', json: body });
      onDone();
    } catch (e) {
      setError(e);
    }
  };
  return html`<form class="edit" ref=${form} onSubmit=${save} aria-label=${`Limits of ${row.name}`}>
    <${LimitFields} values=${values} set=${setValues} />
    <${ErrorMessage} error=${error} />
    <button type="submit">Save limits</button>
    <button type="button" class="secondary" onClick=${() => onDone(false)}>Cancel</button>
  </form>`;
}

const of = (used, cap, format = String) => (cap == null ? format(used) : `${format(used)} / ${format(cap)}`);
const limits = (r) => [r.rpm && `${r.rpm} rpm`, r.tpm && `${r.tpm} tpm`].filter(Boolean).join(', ') || 'none';

function KeyRow({ row, reload }) {
  const [mode, setMode] = useState(null); // null | 'edit' | 'revoke'
  const [error, setError] = useState(null);
  // A button that opens or closes a mode disappears: the keyboard's focus goes on to the
  // element named here (a ref), not back to the top of the page.
  const [header, editButton, revokeButton, cancelRevoke] = [useRef(), useRef(), useRef(), useRef()];
  const focusNext = useRef(null);
  const switchTo = (next, focus) => { focusNext.current = focus; setMode(next); };
  useEffect(() => { focusNext.current?.current?.focus(); focusNext.current = null; });
  const revoke = async () => {
    try {
      await call(`/admin/keys/${encodeURIComponent(row.id)}/revoke`, { method: 'POST' });
      switchTo(null, header);
      reload();
    } catch (e) {
      setError(e);
    }
  };
  const active = row.status === 'active';
  return html`<tr class=${active ? '' : 'inactive'} data-key-id=${row.id}>
      <th scope="row" tabindex="-1" ref=${header}>${row.name}<br /><code>${row.prefix}…</code></th>
      <td><span class=${`badge ${row.status}`}>${row.status}</span></td>
      <td>${row.models ? row.models.join(', ') : 'all'}</td>
      <td>${limits(row)}</td>
      <td>${of(row.tokens_used, row.max_tokens_total)}</td>
      <td>${of(row.spend_usd, row.max_budget_usd, usd)}</td>
      <td>${formatTime(row.last_used_at)}</td>
      <td>${row.expires_at ? formatTime(row.expires_at) : 'never'}</td>
      <td class="key-actions">
        ${active && mode === null && html`
          <button type="button" class="secondary" ref=${editButton} onClick=${() => switchTo('edit', null)}
            aria-label=${`Edit limits of ${row.name}`}>Edit</button>
          <button type="button" class="danger" ref=${revokeButton} onClick=${() => switchTo('revoke', cancelRevoke)}
            aria-label=${`Revoke ${row.name}`}>Revoke</button>`}
        ${mode === 'revoke' && html`<span role="alert">Revoke “${row.name}”? Its callers are refused at once.</span>
          <button type="button" class="danger" onClick=${revoke}>Yes, revoke</button>
          <button type="button" class="secondary" ref=${cancelRevoke} onClick=${() => switchTo(null, revokeButton)}>Cancel</button>`}
        <${ErrorMessage} error=${error} />
      </td>
    </tr>
    ${mode === 'edit' && html`<tr><td colspan="9"><${EditKey} row=${row} onDone=${(changed) => { switchTo(null, editButton); if (changed !== false) reload(); }} /></td></tr>`}`;
}

export function KeysPage() {
  const [rows, setRows] = useState(null);
  const [error, setError] = useState(null);
  // Only the latest list is shown: an earlier request that answers last (a slow server)
  // would otherwise put the keys back as they were before an edit.
  const latest = useRef(0);
  const reload = () => {
    const asked = ++latest.current;
    const mine = (apply) => (value) => { if (asked === latest.current) apply(value); };
    return call('/admin/keys').then(mine((r) => { setRows(r.data); setError(null); }), mine(setError));
  };
  useEffect(() => { reload(); }, []);
  return html`<${CreateKey} onCreated=${reload} />
    <section class="panel" aria-labelledby="key-list">
      <div class="row spread"><h2 id="key-list">Keys</h2>
        <button type="button" class="secondary" onClick=${reload}>Refresh</button></div>
      <${ErrorMessage} error=${error} />
      ${rows && rows.length === 0 && html`<p class="hint">No keys yet.</p>`}
      ${rows && rows.length > 0 && html`<div class="scroll"><table class="keys">
        <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Models</th>
          <th scope="col">Rate limits</th><th scope="col">Tokens used</th><th scope="col">Spend</th>
          <th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Actions</th></tr></thead>
        <tbody>${[...rows].reverse().map((row) => html`<${KeyRow} key=${row.id} row=${row} reload=${reload} />`)}</tbody>
      </table></div>`}
    </section>`;
}
