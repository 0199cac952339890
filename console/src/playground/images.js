// Image generation with a gallery of this session's results (newest first).

import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { call } from '../api.js';
import { ErrorMessage, Field, Select, Snippets } from '../ui.js';
import { useAllowed } from './models.js';

// What each model accepts, after OpenAI's API reference.
const SIZES = {
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'gpt-image-1': ['1024x1024', '1536x1024', '1024x1536'],
};

export function ImagesTab() {
  const [prompt, setPrompt] = useState('Ein futuristischer Roboter in einer Cyberpunk-Stadt');
  const [model, setModel] = useState('dall-e-3');
  const [size, setSize] = useState('1024x1024');
  const [quality, setQuality] = useState('standard');
  const [gallery, setGallery] = useState([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [request, setRequest] = useState(null);

  const chooseModel = (name) => {
    setModel(name);
    setSize((chosen) => (SIZES[name].includes(chosen) ? chosen : SIZES[name][0]));
  };
  const allowed = useAllowed(Object.keys(SIZES), model, chooseModel);

  const generate = async (event) => {
    event.preventDefault();
    const body = { prompt, model, size, ...(model === 'dall-e-3' ? { quality } : {}) };
    setBusy(true);
    setError(null);
    setRequest({ kind: 'images', body });
    try {
      const answer = await call('/v1/images/generations', { method: 'POST', json: body });
      const made = answer.data.map((item, i) => ({
        id: `${answer.created}-${gallery.length}-${i}`,
        src: item.url ?? `data:image/png;base64,${item.b64_json}`,
        prompt,
        revised: item.revised_prompt,
        size,
      }));
      setGallery((g) => [...made, ...g]);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="panel" onSubmit=${generate} aria-label="Image settings">
      <${Field} label="Prompt">
        <textarea rows="2" name="prompt" required value=${prompt} onInput=${(e) => setPrompt(e.currentTarget.value)} />
      <//>
      <div class="row">
        <${Field} label="Model"><${Select} name="model" value=${model} onChange=${chooseModel} options=${allowed} /><//>
        <${Field} label="Size"><${Select} name="size" value=${size} onChange=${setSize} options=${SIZES[model]} /><//>
        ${model === 'dall-e-3' && html`<${Field} label="Quality"><${Select} name="quality" value=${quality} onChange=${setQuality} options=${['standard', 'hd']} /><//>`}
      </div>
      <button type="submit" disabled=${busy}>${busy ? 'Generating…' : 'Generate'}</button>
    </form>
    <${ErrorMessage} error=${error} />
    <section aria-label="Gallery" aria-live="polite">
      ${gallery.length === 0 && html`<p class="hint">Generated images appear here.</p>`}
      <ul class="gallery">
        ${gallery.map((item) => html`<li key=${item.id}><figure>
          <a href=${item.src} target="_blank" rel="noopener noreferrer">
            <img src=${item.src} alt=${`Generated for: ${item.prompt}`} loading="lazy" />
          </a>
          <figcaption><strong>${item.prompt}</strong> <span class="hint">${item.size}</span>
            ${item.revised && html`<br /><span class="hint">${item.revised}</span>`}</figcaption>
        </figure></li>`)}
      </ul>
    </section>
    <${Snippets} request=${request} />`;
}
