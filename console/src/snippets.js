// The curl / Python / JavaScript equivalent of a request the playground just made, against
// this server's base URL. The key is never written into a snippet: it reads $AIPORT_API_KEY.

import { base } from './api.js';

// kind → [OpenAI SDK method path, the seed's path, what to do with the answer]
const CALLS = {
  chat: ['chat.completions.create', '/chat/completions'],
  images: ['images.generate', '/images/generate'],
  speech: ['audio.speech.create', '/audio/speech'],
  transcription: ['audio.transcriptions.create', '/audio/transcriptions'],
  embeddings: ['embeddings.create', '/embeddings'],
  moderation: ['moderations.create', '/moderations'],
};

const shellQuote = (text) => `'${text.replace(/'/g, `'\\''`)}'`;

export function curl({ kind, body, file }) {
  const url = base + CALLS[kind][1];
  const lines = [`curl${body?.stream ? ' -N' : ''} ${url}`, `  -H "Authorization: Bearer $AIPORT_API_KEY"`];
  if (kind === 'transcription') {
    lines.push(`  -F file=@${shellQuote(file)}`);
    for (const [name, value] of Object.entries(body)) lines.push(`  -F ${name}=${shellQuote(String(value))}`);
  } else {
    lines.push(`  -H "Content-Type: application/json"`);
    lines.push(`  -d ${shellQuote(JSON.stringify(body, null, 2))}`);
  }
  if (kind === 'speech') lines.push(`  -o speech.${body.response_format || 'mp3'}`);
  return lines.join(' \\\n');
}

/** A JSON value as a Python literal (True/False/None, same strings and numbers). */
function py(value, indent = '') {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string' || typeof value === 'number') return JSON.stringify(value);
  const inner = indent + '    ';
  if (Array.isArray(value)) {
    if (value.every((v) => typeof v !== 'object' || v === null) && JSON.stringify(value).length < 60) {
      return `[${value.map((v) => py(v)).join(', ')}]`;
    }
    return `[\n${value.map((v) => inner + py(v, inner)).join(',\n')},\n${indent}]`;
  }
  const items = Object.entries(value).map(([k, v]) => `${inner}${JSON.stringify(k)}: ${py(v, inner)}`);
  return `{\n${items.join(',\n')},\n${indent}}`;
}

const pyArgs = (body, extra = []) => [
  ...extra,
  ...Object.entries(body).map(([name, value]) => `    ${name}=${py(value, '    ')},`),
].join('\n');

export function python({ kind, body, file }) {
  const head = [
    'import os',
    'from openai import OpenAI',
    '',
    `client = OpenAI(base_url=${JSON.stringify(base + '/v1')}, api_key=os.environ["AIPORT_API_KEY"])`,
    '',
  ];
  const method = `client.${CALLS[kind][0]}`;
  const tail = {
    chat: body.stream
      ? ['for chunk in answer:', '    if chunk.choices:', '        print(chunk.choices[0].delta.content or "", end="", flush=True)']
      : ['print(answer.choices[0].message.content)'],
    images: ['print(answer.data[0].url)'],
    speech: [`answer.write_to_file("speech.${body.response_format || 'mp3'}")`],
    transcription: ['print(answer.text)'],
    embeddings: ['print([len(item.embedding) for item in answer.data])'],
    moderation: ['print(answer.results[0])'],
  }[kind];
  if (kind === 'transcription') {
    return [...head, `with open(${JSON.stringify(file)}, "rb") as audio:`,
      `    answer = ${method}(\n    file=audio,\n${pyArgs(body).replace(/^/gm, '    ')}\n    )`, ...tail].join('\n');
  }
  return [...head, `answer = ${method}(\n${pyArgs(body)}\n)`, ...tail].join('\n');
}

export function javascript({ kind, body, file }) {
  const head = [
    'import OpenAI from "openai";',
    ...(kind === 'speech' || kind === 'transcription' ? ['import fs from "node:fs";'] : []),
    '',
    `const client = new OpenAI({ baseURL: ${JSON.stringify(base + '/v1')}, apiKey: process.env.AIPORT_API_KEY });`,
    '',
  ];
  const method = `client.${CALLS[kind][0]}`;
  const args = kind === 'transcription'
    ? JSON.stringify({ file: '__FILE__', ...body }, null, 2).replace('"__FILE__"', `fs.createReadStream(${JSON.stringify(file)})`)
    : JSON.stringify(body, null, 2);
  const tail = {
    chat: body.stream
      ? ['for await (const chunk of answer) {', '  process.stdout.write(chunk.choices[0]?.delta?.content ?? "");', '}']
      : ['console.log(answer.choices[0].message.content);'],
    images: ['console.log(answer.data[0].url);'],
    speech: [`fs.writeFileSync("speech.${body.response_format || 'mp3'}", Buffer.from(await answer.arrayBuffer()));`],
    transcription: ['console.log(answer.text);'],
    embeddings: ['console.log(answer.data.map((item) => item.embedding.length));'],
    moderation: ['console.log(answer.results[0]);'],
  }[kind];
  return [...head, `const answer = await ${method}(${args});`, ...tail].join('\n');
}

export const LANGUAGES = [['curl', curl], ['Python', python], ['JavaScript', javascript]];
