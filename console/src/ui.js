// Small shared pieces: accessible tabs, a code block with a copy button, messages.

import { html } from 'htm/preact';
import { useRef, useState } from 'preact/hooks';
import { LANGUAGES } from './snippets.js';

let nextId = 0;
export const useId = (prefix) => useRef(`${prefix}-${++nextId}`).current;

/** Tabs after WAI-ARIA's pattern: arrow keys, Home and End move between them. */
export function Tabs({ label, tabs, selected, onSelect, idPrefix, panelPerTab = false }) {
  const list = useRef();
  const move = (event) => {
    const names = tabs.map(([name]) => name);
    const at = names.indexOf(selected);
    const to = { ArrowRight: at + 1, ArrowLeft: at - 1, Home: 0, End: names.length - 1 }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    const name = names[(to + names.length) % names.length];
    onSelect(name);
    list.current.querySelector(`#${idPrefix}-tab-${name}`)?.focus();
  };
  return html`<div class="tabs" role="tablist" aria-label=${label} ref=${list} onKeyDown=${move}>
    ${tabs.map(([name, title]) => html`<button type="button" role="tab" id=${`${idPrefix}-tab-${name}`}
        aria-selected=${name === selected}
        aria-controls=${panelPerTab ? `${idPrefix}-panel-${name}` : `${idPrefix}-panel`}
        tabindex=${name === selected ? 0 : -1} onClick=${() => onSelect(name)}>${title}</button>`)}
  </div>`;
}

export function TabPanel({ idPrefix, selected, children }) {
  return html`<div role="tabpanel" id=${`${idPrefix}-panel`} aria-labelledby=${`${idPrefix}-tab-${selected}`}
    class="tabpanel">${children}</div>`;
}

export function CopyButton({ text, label = 'Copy' }) {
  const [done, setDone] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone(true);
      setTimeout(() => setDone(false), 2000);
    } catch {
      setDone(null);
    }
  };
  return html`<button type="button" class="secondary" onClick=${copy}>
    ${done ? 'Copied' : done === null ? 'Select and copy by hand' : label}</button>`;
}

export function Code({ text, label }) {
  return html`<div class="code">
    <div class="code-bar"><span>${label}</span><${CopyButton} text=${text} /></div>
    <pre tabindex="0" aria-label=${label}><code>${text}</code></pre>
  </div>`;
}

/** The request just made, as curl, Python and JavaScript. */
export function Snippets({ request }) {
  const [language, setLanguage] = useState('curl');
  const idPrefix = useId('snippet');
  if (!request) return null;
  const make = LANGUAGES.find(([name]) => name === language)[1];
  return html`<section class="snippets" aria-label="The same request in code">
    <h3>The same request in code</h3>
    <${Tabs} label="Language" idPrefix=${idPrefix} tabs=${LANGUAGES.map(([n]) => [n, n])}
      selected=${language} onSelect=${setLanguage} />
    <${TabPanel} idPrefix=${idPrefix} selected=${language}>
      <${Code} text=${make(request)} label=${language} />
      <p class="hint">Set <code>AIPORT_API_KEY</code> to your key first; it is never written into a snippet.</p>
    <//>
  </section>`;
}

export function ErrorMessage({ error }) {
  if (!error) return null;
  const status = error.status ? ` (${error.status})` : '';
  return html`<p class="error" role="alert">${error.message}${status}</p>`;
}

export function Field({ label, hint, children }) {
  return html`<label class="field"><span class="label">${label}</span>${children}
    ${hint && html`<span class="hint">${hint}</span>`}</label>`;
}

export function Select({ value, onChange, options, ...rest }) {
  return html`<select value=${value} onChange=${(e) => onChange(e.currentTarget.value)} ...${rest}>
    ${options.map((o) => (Array.isArray(o) ? html`<option value=${o[0]}>${o[1]}</option>` : html`<option value=${o}>${o}</option>`))}
  </select>`;
}

export const formatTime = (unix) => (unix ? new Date(unix * 1000).toLocaleString() : '—');
