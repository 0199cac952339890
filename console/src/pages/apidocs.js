// The API page: the endpoints with the seed document's own examples, filled in with this
// server's base URL (the key stays a placeholder: paste yours, or read it from the env).

import { html } from 'htm/preact';
import { base } from '../api.js';
import { Code } from '../ui.js';

const AUTH = `'Authorization': 'Bearer YOUR_API_KEY'`;

const fetchExample = (path, body, after) => `const response = await fetch('${base}${path}', {
  method: 'POST',
  headers: {
    'Content-Type': 'application/json',
    ${AUTH}
  },
  body: JSON.stringify(${body})
});
${after}`;

const ENDPOINTS = [
  {
    path: '/chat/completions', title: 'Chat Completions',
    about: 'Chat conversations with GPT models, optionally streamed.',
    params: [['model', 'required', 'string, e.g. "gpt-4o", "gpt-4o-mini", "gpt-3.5-turbo"'],
      ['messages', 'required', 'array of {role, content}'], ['temperature', 'optional', 'number 0–2 (default 0.7)'],
      ['stream', 'optional', 'boolean (default false)'], ['max_tokens', 'optional', 'number']],
    examples: [
      ['JavaScript', fetchExample('/chat/completions', `{
    model: 'gpt-4o',
    messages: [
      { role: 'system', content: 'Du bist ein hilfreicher Assistent.' },
      { role: 'user', content: 'Was ist maschinelles Lernen?' }
    ],
    temperature: 0.7,
    stream: true
  }`, `const reader = response.body.getReader();
const decoder = new TextDecoder();
while (true) {
  const { done, value } = await reader.read();
  if (done) break;
  const chunk = decoder.decode(value);
  const lines = chunk.split('\\n').filter(line => line.trim());
  for (const line of lines) {
    if (line.startsWith('data: ')) {
      const data = line.slice(6);
      if (data === '[DONE]') continue;
      const parsed = JSON.parse(data);
      const content = parsed.choices[0]?.delta?.content;
      if (content) {
        console.log(content);
      }
    }
  }
}`)],
      ['Python', `import requests
import json

url = "${base}/chat/completions"
headers = {
    "Content-Type": "application/json",
    "Authorization": "Bearer YOUR_API_KEY"
}
data = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "Du bist ein hilfreicher Assistent."},
        {"role": "user", "content": "Was ist maschinelles Lernen?"}
    ],
    "temperature": 0.7,
    "stream": True
}
response = requests.post(url, headers=headers, json=data, stream=True)
for line in response.iter_lines():
    if line:
        line = line.decode('utf-8')
        if line.startswith('data: '):
            data = line[6:]
            if data == '[DONE]':
                break
            parsed = json.loads(data)
            content = parsed.get('choices', [{}])[0].get('delta', {}).get('content')
            if content:
                print(content, end='', flush=True)`],
    ],
  },
  {
    path: '/images/generate', title: 'Image Generation',
    about: 'Images from a text prompt (OpenAI\'s path /v1/images/generations works too).',
    params: [['prompt', 'required', 'string'], ['model', 'optional', '"dall-e-3" or "dall-e-2" (default "dall-e-3")'],
      ['size', 'optional', '"1024x1024", "1792x1024", "1024x1792" (default "1024x1024")'],
      ['quality', 'optional', '"standard" or "hd" (default "standard")']],
    examples: [['JavaScript', fetchExample('/images/generate', `{
    prompt: 'Ein futuristischer Roboter in einer Cyberpunk-Stadt',
    model: 'dall-e-3',
    size: '1024x1024',
    quality: 'hd'
  }`, `const data = await response.json();
console.log(data.data[0].url);`)]],
  },
  {
    path: '/audio/speech', title: 'Text-to-Speech',
    about: 'Spoken audio from text.',
    params: [['input', 'required', 'string'], ['voice', 'required', '"alloy", "echo", "fable", "onyx", "nova", "shimmer"'],
      ['model', 'optional', '"tts-1" or "tts-1-hd" (default "tts-1")']],
    examples: [['JavaScript', fetchExample('/audio/speech', `{
    input: 'Hallo, ich bin eine KI-generierte Stimme!',
    voice: 'alloy',
    model: 'tts-1-hd'
  }`, `const audioBlob = await response.blob();
const audioUrl = URL.createObjectURL(audioBlob);
const audio = new Audio(audioUrl);
audio.play();`)]],
  },
  {
    path: '/audio/transcriptions', title: 'Transcriptions',
    about: 'Text from an audio file (mp3, mp4, wav, …).',
    params: [['file', 'required', 'audio file'], ['model', 'optional', '"whisper-1" (default)']],
    examples: [['JavaScript', `const formData = new FormData();
formData.append('file', audioFile);
formData.append('model', 'whisper-1');
const response = await fetch('${base}/audio/transcriptions', {
  method: 'POST',
  headers: {
    ${AUTH}
  },
  body: formData
});
const data = await response.json();
console.log(data.text);`]],
  },
  {
    path: '/embeddings', title: 'Embeddings',
    about: 'Vector embeddings of texts (semantic search, clustering, …).',
    params: [['input', 'required', 'string or array of strings'],
      ['model', 'required', '"text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002"']],
    examples: [['JavaScript', fetchExample('/embeddings', `{
    input: 'Maschinelles Lernen ist ein Teilgebiet der KI',
    model: 'text-embedding-3-small'
  }`, `const data = await response.json();
console.log(data.data[0].embedding);`)]],
  },
  {
    path: '/moderations', title: 'Moderations',
    about: 'Checks a text for problematic content (hate, violence, sexual, …).',
    params: [['input', 'required', 'string']],
    examples: [['JavaScript', fetchExample('/moderations', `{
    input: 'Dies ist ein Beispieltext zur Moderation'
  }`, `const data = await response.json();
console.log(data.results[0]);`)]],
  },
  {
    path: '/models', title: 'Models', method: 'GET',
    about: 'Every model this server offers to your key.',
    params: [],
    examples: [['JavaScript', `const response = await fetch('${base}/models', {
  headers: {
    ${AUTH}
  }
});
const data = await response.json();
console.log(data.data);`]],
  },
];

export function ApiPage() {
  return html`<section class="panel">
      <h2>Base URL</h2>
      <p><code data-testid="base-url">${base}</code> — the seed's paths below, and OpenAI's under
        <code>${base}/v1</code> (for the official SDKs: <code>base_url="${base}/v1"</code>).</p>
      <p>Every request needs <code>Authorization: Bearer YOUR_API_KEY</code>. Errors come as
        <code>{"error": {"message", "type", "param", "code"}}</code> with the HTTP status.</p>
      <nav aria-label="Endpoints"><ul class="inline">
        ${ENDPOINTS.map((e) => html`<li><a href=${`#/api`} onClick=${(ev) => { ev.preventDefault(); document.getElementById(`ep-${e.title}`)?.scrollIntoView(); }}>${e.path}</a></li>`)}
      </ul></nav>
    </section>
    ${ENDPOINTS.map((e) => html`<section class="panel" id=${`ep-${e.title}`} aria-labelledby=${`eph-${e.title}`}>
      <h2 id=${`eph-${e.title}`}>${e.title} <code>${e.method ?? 'POST'} ${e.path}</code></h2>
      <p>${e.about}</p>
      ${e.params.length > 0 && html`<table class="params"><caption class="sr-only">Parameters</caption>
        <thead><tr><th scope="col">Parameter</th><th scope="col"></th><th scope="col">Type</th></tr></thead>
        <tbody>${e.params.map(([name, need, type]) => html`<tr><th scope="row"><code>${name}</code></th><td>${need}</td><td>${type}</td></tr>`)}</tbody>
      </table>`}
      ${e.examples.map(([language, code]) => html`<${Code} label=${`${language} (from the seed document)`} text=${code} />`)}
    </section>`)}`;
}
