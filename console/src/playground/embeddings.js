// Embeddings: a few sentences, their pairwise cosine similarity as a matrix.

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { ErrorMessage, Field, Select, Snippets } from '../ui.js';
import { useAllowed } from './models.js';

const SAMPLE = [
  'Maschinelles Lernen ist ein Teilgebiet der KI',
  'Machine learning is a part of artificial intelligence',
  'The dog plays in the garden',
  'A puppy is running across the lawn',
].join('\n');

const cosine = (a, b) => {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return dot / Math.sqrt(na * nb || 1);
};

// White to a saturated blue; text switches to white where the background gets dark.
const cellStyle = (s) => {
  const v = Math.max(0, Math.min(1, s));
  return { backgroundColor: `hsl(220 80% ${Math.round(97 - v * 55)}%)`, color: v > 0.6 ? '#fff' : '#111' };
};

export function EmbeddingsTab() {
  const [text, setText] = useState(SAMPLE);
  const [model, setModel] = useState('text-embedding-3-small');
  const allowed = useAllowed(['text-embedding-3-small', 'text-embedding-3-large', 'text-embedding-ada-002'], model, setModel);
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [request, setRequest] = useState(null);

  const embed = async (event) => {
    event.preventDefault();
    const input = text.split('\n').map((s) => s.trim()).filter(Boolean).slice(0, 12);
    if (!input.length) return setError(new Error('Write at least one sentence.'));
    const body = { model, input, encoding_format: 'float' };
    setBusy(true);
    setError(null);
    setRequest({ kind: 'embeddings', body });
    try {
      const answer = await call('/v1/embeddings', { method: 'POST', json: body });
      const vectors = answer.data.sort((a, b) => a.index - b.index).map((d) => d.embedding);
      setResult({ input, matrix: vectors.map((a) => vectors.map((b) => cosine(a, b))), dims: vectors[0]?.length, usage: answer.usage });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="panel" onSubmit=${embed} aria-label="Embedding settings">
      <${Field} label="Sentences, one per line (up to 12)">
        <textarea rows="5" name="input" value=${text} onInput=${(e) => setText(e.currentTarget.value)} />
      <//>
      <${Field} label="Model"><${Select} name="model" value=${model} onChange=${setModel}
        options=${allowed} /><//>
      <button type="submit" disabled=${busy}>${busy ? 'Embedding…' : 'Compare'}</button>
    </form>
    <${ErrorMessage} error=${error} />
    ${result && html`<section class="panel" aria-label="Similarity">
      <div class="scroll"><table class="matrix">
        <caption>Cosine similarity (${result.dims} dimensions, ${result.usage?.total_tokens ?? '?'} tokens)</caption>
        <thead><tr><td></td>${result.input.map((_, i) => html`<th scope="col" title=${result.input[i]}>${i + 1}</th>`)}</tr></thead>
        <tbody>${result.matrix.map((row, i) => html`<tr>
          <th scope="row"><span class="num">${i + 1}</span> ${result.input[i]}</th>
          ${row.map((s) => html`<td style=${cellStyle(s)}>${s.toFixed(2)}</td>`)}
        </tr>`)}</tbody>
      </table></div>
    </section>`}
    <${Snippets} request=${request} />`;
}
