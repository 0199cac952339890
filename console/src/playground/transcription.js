// Transcription of an uploaded file or of a recording from the microphone.

import { html } from 'htm/preact';
import { useRef, useState } from 'preact/hooks';
import { call } from '../api.js';
import { ErrorMessage, Field, Snippets } from '../ui.js';

function useRecorder(onRecorded, onError) {
  const [recording, setRecording] = useState(false);
  const recorder = useRef(null);
  const start = async () => {
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true });
      const parts = [];
      const media = new MediaRecorder(stream);
      media.ondataavailable = (e) => parts.push(e.data);
      media.onstop = () => {
        stream.getTracks().forEach((t) => t.stop());
        const type = media.mimeType || 'audio/webm';
        const ext = type.includes('ogg') ? 'ogg' : type.includes('mp4') ? 'm4a' : 'webm';
        onRecorded(new File(parts, `recording.${ext}`, { type }));
        setRecording(false);
      };
      media.start();
      recorder.current = media;
      setRecording(true);
    } catch (e) {
      onError(new Error(`The microphone is not available: ${e.message}`));
    }
  };
  const stop = () => recorder.current?.stop();
  return [recording, start, stop];
}

export function TranscriptionTab() {
  const [file, setFile] = useState(null);
  const [language, setLanguage] = useState('');
  const [result, setResult] = useState(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const [request, setRequest] = useState(null);
  const [recording, startRecording, stopRecording] = useRecorder(setFile, setError);

  const transcribe = async (event) => {
    event.preventDefault();
    if (!file) return setError(new Error('Choose an audio file or record one first.'));
    const fields = { model: 'whisper-1', ...(language.trim() ? { language: language.trim() } : {}) };
    const form = new FormData();
    form.append('file', file, file.name);
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    setBusy(true);
    setError(null);
    setResult(null);
    setRequest({ kind: 'transcription', body: fields, file: file.name });
    const started = performance.now();
    try {
      const answer = await call('/v1/audio/transcriptions', { method: 'POST', form });
      setResult({ text: answer.text, ms: Math.round(performance.now() - started) });
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return html`<form class="panel" onSubmit=${transcribe} aria-label="Transcription settings">
      <div class="row">
        <${Field} label="Audio file" hint="mp3, wav, ogg, flac, m4a or webm, up to 25 MB">
          <input type="file" name="file" accept="audio/*,video/webm,video/mp4"
            onChange=${(e) => setFile(e.currentTarget.files[0] ?? null)} />
        <//>
        <div class="field"><span class="label">Or record</span>
          ${recording
            ? html`<button type="button" class="danger" onClick=${stopRecording}>Stop recording</button>`
            : html`<button type="button" class="secondary" onClick=${startRecording}>Record from microphone</button>`}
        </div>
        <${Field} label="Language (optional)" hint="ISO-639-1, e.g. de">
          <input type="text" name="language" maxlength="8" value=${language} onInput=${(e) => setLanguage(e.currentTarget.value)} />
        <//>
      </div>
      ${file && html`<p class="hint">Ready: ${file.name} (${(file.size / 1024).toFixed(1)} KiB)</p>`}
      <button type="submit" disabled=${busy || recording}>${busy ? 'Transcribing…' : 'Transcribe'}</button>
    </form>
    <${ErrorMessage} error=${error} />
    ${result && html`<section class="panel" aria-label="Transcript">
      <h3>Transcript</h3>
      <p class="transcript" data-testid="transcript">${result.text || '(no speech found)'}</p>
      <p class="hint">${result.ms} ms</p>
    </section>`}
    <${Snippets} request=${request} />`;
}
