// Chat with streaming: the answer appears as it is generated; Stop aborts the request,
// which closes the connection, and aiport stops the generation.

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { call, events } from '../api.js';
import { ErrorMessage, Field, Select, Snippets } from '../ui.js';
import { useModels } from './models.js';

// The names of the other tabs' models (OpenAI's and the embedded engines'): never the
// chat tab's first choice, though it lists them (a key's own model names may be anything).
const NOT_CHAT = /dall-e|image|tts|whisper|transcribe|embedding|moderation|minilm|piper|sketch/;

export function ChatTab() {
  const [modelIds, modelError] = useModels('gpt-4o');
  const [model, setModel] = useState('gpt-4o');
  const [system, setSystem] = useState('Du bist ein hilfreicher Assistent.');
  const [temperature, setTemperature] = useState(0.7);
  const [maxTokens, setMaxTokens] = useState(256);
  const [input, setInput] = useState('Was ist maschinelles Lernen?');
  const [history, setHistory] = useState([]);
  const [answer, setAnswer] = useState(null); // the message being streamed
  const [stats, setStats] = useState(null);
  const [error, setError] = useState(null);
  const [request, setRequest] = useState(null);
  const abort = useRef(null);
  const streaming = answer !== null;

  useEffect(() => {
    const chat = modelIds.filter((id) => !NOT_CHAT.test(id));
    if (!modelIds.includes(model)) setModel(chat.includes('gpt-4o') ? 'gpt-4o' : chat[0] ?? modelIds[0]);
  }, [modelIds]);

  const send = async (event) => {
    event.preventDefault();
    if (!input.trim() || streaming) return;
    const asked = [...history, { role: 'user', content: input }];
    const body = {
      model,
      // Only what OpenAI's messages have: `finish` is this page's note, not the API's.
      messages: [
        ...(system.trim() ? [{ role: 'system', content: system }] : []),
        ...asked.map(({ role, content }) => ({ role, content })),
      ],
      temperature: Number(temperature),
      max_tokens: Number(maxTokens),
      stream: true,
      stream_options: { include_usage: true },
    };
    setHistory(asked);
    setInput('');
    setError(null);
    setStats(null);
    setRequest({ kind: 'chat', body });
    const controller = new AbortController();
    abort.current = controller;
    const started = performance.now();
    let text = '';
    let firstToken = null;
    let finish = null;
    let usage = null;
    let failed = null;
    setAnswer('');
    try {
      const response = await call('/v1/chat/completions', { method: 'POST', json: body, signal: controller.signal, raw: true });
      for await (const chunk of events(response)) {
        const choice = chunk.choices?.[0];
        if (choice?.delta?.content) {
          firstToken ??= performance.now();
          text += choice.delta.content;
          setAnswer(text);
        }
        if (choice?.finish_reason) finish = choice.finish_reason;
        if (chunk.usage) usage = chunk.usage;
      }
    } catch (e) {
      if (e.name === 'AbortError') finish = 'stopped';
      else failed = e;
    } finally {
      abort.current = null;
      setAnswer(null);
      setError(failed);
      if (text || finish) setHistory((h) => [...h, { role: 'assistant', content: text, finish: failed ? 'failed' : finish }]);
      else if (failed) { // refused before a word: nothing was said; the message goes back to the box
        setHistory(history);
        setInput((typed) => typed || asked.at(-1).content);
      }
      setStats({
        finish,
        failed: Boolean(failed),
        usage,
        firstTokenMs: firstToken && Math.round(firstToken - started),
        totalMs: Math.round(performance.now() - started),
      });
    }
  };

  return html`<div class="split">
    <form class="panel settings" onSubmit=${send} aria-label="Chat settings">
      <${Field} label="Model"><${Select} value=${model} onChange=${setModel} options=${modelIds} name="model" /><//>
      ${modelError && html`<${ErrorMessage} error=${modelError} />`}
      <${Field} label="System prompt">
        <textarea rows="3" name="system" value=${system} onInput=${(e) => setSystem(e.currentTarget.value)} />
      <//>
      <${Field} label=${`Temperature: ${Number(temperature).toFixed(1)}`}>
        <input type="range" min="0" max="2" step="0.1" name="temperature" value=${temperature}
          onInput=${(e) => setTemperature(e.currentTarget.value)} />
      <//>
      <${Field} label="Max tokens">
        <input type="number" min="1" max="32768" name="max_tokens" value=${maxTokens}
          onInput=${(e) => setMaxTokens(e.currentTarget.value)} />
      <//>
      <button type="button" class="secondary" disabled=${streaming || !history.length}
        onClick=${() => { setHistory([]); setStats(null); setError(null); }}>New conversation</button>
    </form>
    <section class="panel conversation" aria-label="Conversation">
      <ol class="messages" aria-live="polite" aria-busy=${streaming}>
        ${history.map((m) => html`<li class=${`message ${m.role}`}>
          <span class="role">${m.role === 'user' ? 'You' : 'Assistant'}</span>
          <div class="content">${m.content}${m.finish === 'stopped' && html` <em class="stopped">(stopped)</em>`}${m.finish === 'failed' && html` <em class="stopped">(broken off)</em>`}</div>
        </li>`)}
        ${streaming && html`<li class="message assistant streaming">
          <span class="role">Assistant</span><div class="content" data-testid="streaming">${answer || '…'}</div>
        </li>`}
      </ol>
      <${ErrorMessage} error=${error} />
      ${stats && html`<p class="stats" role="status">
        ${stats.finish === 'stopped' ? 'Stopped by you' : stats.failed ? 'Failed' : `Finished: ${stats.finish ?? 'unknown'}`}
        ${stats.usage && ` · ${stats.usage.prompt_tokens} prompt + ${stats.usage.completion_tokens} completion tokens`}
        ${stats.firstTokenMs != null && ` · first token after ${stats.firstTokenMs} ms`} · ${stats.totalMs} ms in all
      </p>`}
      <form class="compose" onSubmit=${send}>
        <label class="field grow"><span class="label">Message</span>
          <textarea rows="2" name="message" value=${input} onInput=${(e) => setInput(e.currentTarget.value)}
            onKeyDown=${(e) => { if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) send(e); }} />
        </label>
        <div class="actions">
          <button type="submit" disabled=${streaming}>Send</button>
          <button type="button" class="danger" disabled=${!streaming} onClick=${() => abort.current?.abort()}>Stop</button>
        </div>
      </form>
    </section>
  </div>
  <${Snippets} request=${request} />`;
}
