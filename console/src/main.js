// The aiport console: sign in with a key, then the pages that key may see.

import 'uplot/dist/uPlot.min.css';
import './style.css';
import { html, render } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, forgetKey, forgetModels, getKey, setKey, whenUnauthorized } from './api.js';
import { ErrorMessage } from './ui.js';
import { Playground } from './playground/playground.js';
import { KeysPage } from './pages/keys.js';
import { UsagePage } from './pages/usage.js';
import { HealthPage } from './pages/health.js';
import { ApiPage } from './pages/apidocs.js';

const PAGES = [
  // [route, title, component, master key only]
  ['playground', 'Playground', Playground, false],
  ['keys', 'Keys', KeysPage, true],
  ['usage', 'Usage', UsagePage, false],
  ['health', 'Health', HealthPage, true],
  ['api', 'API', ApiPage, false],
];

const route = () => location.hash.replace(/^#\/?/, '').split('/');

function useRoute() {
  const [parts, setParts] = useState(route());
  useEffect(() => {
    const changed = () => setParts(route());
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return parts;
}

function SignIn({ onSignedIn, notice }) {
  const [key, setValue] = useState('');
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await call('/me', { key: key.trim() });
      setKey(key.trim());
      onSignedIn(me);
    } catch (e) {
      setError(e.status === 401
        ? { message: `This key was not accepted: ${e.message}` }
        : e);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin" id="main">
    <h1>aiport console</h1>
    <form onSubmit=${submit} aria-describedby="signin-help">
      <label class="field"><span class="label">API key</span>
        <input type="password" name="key" autocomplete="off" spellcheck="false" required
          value=${key} onInput=${(e) => setValue(e.currentTarget.value)} placeholder="sk-…" />
      </label>
      <p id="signin-help" class="hint">The master key shows everything: it is <code>AIPORT_MASTER_KEY</code>,
        or the key <code>aiport serve</code> printed when it first started (kept in the file <code>master_key</code> of
        its data directory, <code>.aiport</code> by default). A caller's key shows the playground and its own usage. The key stays in this tab
        only (session storage) and is sent to this server as a header, nothing else.</p>
      ${notice && html`<p class="notice" role="status">${notice}</p>`}
      <${ErrorMessage} error=${error} />
      <button type="submit" disabled=${busy}>${busy ? 'Checking…' : 'Sign in'}</button>
    </form>
  </main>`;
}

function Shell({ me, onSignOut }) {
  const [page = 'playground', ...rest] = useRoute();
  const pages = PAGES.filter(([, , , adminOnly]) => me.admin || !adminOnly);
  const current = pages.find(([name]) => name === page) ?? pages[0];
  const [, title, Page] = current;
  const heading = useRef();
  const shown = useRef(false);
  useEffect(() => {
    document.title = `${title} · aiport console`;
    // Another page (not the first): its heading takes the focus, so that a screen reader
    // says where the user is and Tab goes on into the page instead of along the menu.
    if (shown.current) heading.current.focus();
    shown.current = true;
  }, [title]);
  const who = me.admin ? 'master key' : `${me.name} (${me.prefix}…)`;
  return html`<a class="skip" href="#main" onClick=${(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
    <header class="top">
      <span class="brand">aiport</span>
      <nav aria-label="Pages"><ul>
        ${pages.map(([name, label]) => html`<li><a href=${`#/${name}`}
          aria-current=${name === current[0] ? 'page' : undefined}>${label}</a></li>`)}
      </ul></nav>
      <span class="who">Signed in with the <strong>${who}</strong></span>
      <button type="button" class="secondary" onClick=${onSignOut}>Sign out</button>
    </header>
    <main id="main" tabindex="-1">
      <h1 tabindex="-1" ref=${heading}>${title}</h1>
      <${Page} me=${me} sub=${rest[0]} />
    </main>`;
}

function App() {
  const [me, setMe] = useState(null);
  const [checking, setChecking] = useState(Boolean(getKey()));
  const [notice, setNotice] = useState(null);
  const signOut = (message = null) => {
    forgetKey();
    forgetModels();
    setMe(null);
    setNotice(message);
  };
  useEffect(() => whenUnauthorized((error) => signOut(`You were signed out: ${error.message}`)), []);
  useEffect(() => {
    if (!getKey()) return;
    call('/me').then(setMe, (e) => signOut(e.status === 401 ? null : e.message)).finally(() => setChecking(false));
  }, []);
  if (checking) return html`<p class="loading" role="status">Checking your key…</p>`;
  if (!me) return html`<${SignIn} notice=${notice} onSignedIn=${(m) => { setNotice(null); setMe(m); }} />`;
  return html`<${Shell} me=${me} onSignOut=${() => signOut()} />`;
}

render(html`<${App} />`, document.getElementById('app'));
