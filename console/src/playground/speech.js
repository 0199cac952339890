// Text to speech, played in the page from a blob: URL (the key never goes into a URL).

import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { call } from '../api.js';
import { ErrorMessage, Field, Select, Snippets } from '../ui.js';
import { useAllowed } from './models.js';

const VOICES = ['alloy', 'echo', 'fable', 'onyx', 'nova', 'shimmer'];
const FORMATS = ['mp3', 'opus', 'aac', 'flac', 'wav'];

export function SpeechTab() {
  const [input, setInput] = useState('Hallo, ich bin eine KI-generierte Stimme!');
  const [voice, setVoice] = useState('alloy');
  const [model, setModel] = useState('tts-1');
  const allowed = useAllowed(['tts-1', 'tts-1-hd'], model, setModel);
  const [format, setFormat] = useState('mp3');
  const [speed, setSpeed] = useState(1);
  const [audio, setAudio] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [request, setRequest] = useState(null);
  const player = useRef();

  useEffect(() => () => audio && URL.revokeObjectURL(audio.url), [audio]);
  useEffect(() => {
    if (audio) player.current?.play().catch(() => {}); // the user can press play if autoplay is refused
  }, [audio]);

  const speak = async (event) => {
    event.preventDefault();
    const body = { model, input, voice, response_format: format, speed: Number(speed) };
    setBusy(true);
    setError(null);
    setRequest({ kind: 'speech', body });
    try {
      const response = await call('/v1/audio/speech', { method: 'POST', json: body, raw: true });
      const blob = await response.blob();
      setAudio({ url: URL.createObjectURL(blob), bytes: blob.size, format });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="panel" onSubmit=${speak} aria-label="Speech settings">
      <${Field} label="Text">
        <textarea rows="3" name="input" required maxlength="4096" value=${input} onInput=${(e) => setInput(e.currentTarget.value)} />
      <//>
      <div class="row">
        <${Field} label="Voice"><${Select} name="voice" value=${voice} onChange=${setVoice} options=${VOICES} /><//>
        <${Field} label="Model"><${Select} name="model" value=${model} onChange=${setModel} options=${allowed} /><//>
        <${Field} label="Format"><${Select} name="format" value=${format} onChange=${setFormat} options=${FORMATS} /><//>
        <${Field} label=${`Speed: ${Number(speed).toFixed(2)}×`}>
          <input type="range" name="speed" min="0.25" max="4" step="0.25" value=${speed} onInput=${(e) => setSpeed(e.currentTarget.value)} />
        <//>
      </div>
      <button type="submit" disabled=${busy}>${busy ? 'Speaking…' : 'Speak'}</button>
    </form>
    <${ErrorMessage} error=${error} />
    ${audio && html`<section class="panel" aria-label="Result">
      <audio controls ref=${player} src=${audio.url} data-testid="speech-audio"></audio>
      <p class="hint">${(audio.bytes / 1024).toFixed(1)} KiB of ${audio.format} ·
        <a href=${audio.url} download=${`speech.${audio.format}`}>download</a></p>
    </section>`}
    <${Snippets} request=${request} />`;
}
