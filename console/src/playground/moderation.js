// Moderation: whether the text is flagged, and a bar per category score.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { ErrorMessage, Field, Select, Snippets } from '../ui.js';
import { useAllowed } from './models.js';

export function ModerationTab() {
  const [input, setInput] = useState('Dies ist ein Beispieltext zur Moderation');
  const [model, setModel] = useState('omni-moderation-latest');
  const allowed = useAllowed(['omni-moderation-latest', 'text-moderation-latest'], model, setModel);
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [request, setRequest] = useState(null);

  const check = async (event) => {
    event.preventDefault();
    const body = { model, input };
    setBusy(true);
    setError(null);
    setRequest({ kind: 'moderation', body });
    try {
      setResult((await call('/v1/moderations', { method: 'POST', json: body })).results[0]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const scores = result ? Object.entries(result.category_scores).sort((a, b) => b[1] - a[1]) : [];
  return html`<form class="panel" onSubmit=${check} aria-label="Moderation settings">
      <${Field} label="Text"><textarea rows="3" name="input" required value=${input} onInput=${(e) => setInput(e.currentTarget.value)} /><//>
      <${Field} label="Model"><${Select} name="model" value=${model} onChange=${setModel}
        options=${allowed} /><//>
      <button type="submit" disabled=${busy}>${busy ? 'Checking…' : 'Check'}</button>
    </form>
    <${ErrorMessage} error=${error} />
    ${result && html`<section class="panel" aria-label="Moderation result">
      <p class=${result.flagged ? 'verdict flagged' : 'verdict'} role="status">
        ${result.flagged ? 'Flagged' : 'Not flagged'}</p>
      <ul class="bars">${scores.map(([name, score]) => html`<li class=${result.categories[name] ? 'hit' : ''}>
        <span class="bar-label">${name}</span>
        <span class="bar" aria-hidden="true"><span style=${{ width: `${Math.max(0.5, score * 100)}%` }}></span></span>
        <span class="bar-value">${score.toFixed(3)}${result.categories[name] ? ' ⚑' : ''}</span>
      </li>`)}</ul>
    </section>`}
    <${Snippets} request=${request} />`;
}
