// The playground: one tab per endpoint the seed documents. Every tab stays mounted while
// hidden, so a running stream or a gallery survives a look at another tab.

import { html } from 'htm/preact';
import { Tabs } from '../ui.js';
import { ChatTab } from './chat.js';
import { ImagesTab } from './images.js';
import { SpeechTab } from './speech.js';
import { TranscriptionTab } from './transcription.js';
import { EmbeddingsTab } from './embeddings.js';
import { ModerationTab } from './moderation.js';

const TABS = [
  ['chat', 'Chat', ChatTab],
  ['images', 'Images', ImagesTab],
  ['speech', 'Speech', SpeechTab],
  ['transcription', 'Transcription', TranscriptionTab],
  ['embeddings', 'Embeddings', EmbeddingsTab],
  ['moderation', 'Moderation', ModerationTab],
];

export function Playground({ sub }) {
  const selected = TABS.some(([name]) => name === sub) ? sub : 'chat';
  return html`<${Tabs} label="Endpoints" idPrefix="pg" panelPerTab=${true}
      tabs=${TABS.map(([name, title]) => [name, title])} selected=${selected}
      onSelect=${(name) => { location.hash = `#/playground/${name}`; }} />
    ${TABS.map(([name, , Tab]) => html`<div role="tabpanel" id=${`pg-panel-${name}`}
      aria-labelledby=${`pg-tab-${name}`} class="tabpanel" hidden=${name !== selected}>
      <${Tab} />
    </div>`)}`;
}
