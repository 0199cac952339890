// Talking to aiport: the signed-in key lives in sessionStorage (gone when the tab closes)
// and leaves the page only as an Authorization header on requests to this same server.

const KEY = 'aiport.console.key';

// The server's base URL: the console is served at <base>/console/.
export const base = new URL('..', location.href).href.replace(/\/$/, '');

export const getKey = () => sessionStorage.getItem(KEY);
export const setKey = (key) => sessionStorage.setItem(KEY, key);
export const forgetKey = () => sessionStorage.removeItem(KEY);

export class ApiError extends Error {
  constructor(status, message, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// Listeners told when the server stops accepting the key (revoked, expired).
const onUnauthorized = new Set();
export const whenUnauthorized = (fn) => {
  onUnauthorized.add(fn);
  return () => onUnauthorized.delete(fn);
};

/** One request to aiport with the signed-in key (or `key`). Resolves to parsed JSON, text,
 * or the Response itself with `raw`; rejects with an ApiError carrying the server's message. */
export async function call(path, { method = 'GET', json, form, signal, raw, key } = {}) {
  const token = key ?? getKey();
  const headers = token ? { Authorization: `Bearer ${token}` } : {};
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let response;
  try {
    response = await fetch(base + path, {
      method, headers, body, signal, cache: 'no-store', credentials: 'omit', referrerPolicy: 'no-referrer',
    });
  } catch (error) {
    if (error.name === 'AbortError') throw error;
    throw new ApiError(0, `Cannot reach the server at ${base} (${error.message}).`);
  }
  if (!response.ok) {
    const error = await errorOf(response);
    if (error.status === 401 && key === undefined) onUnauthorized.forEach((fn) => fn(error));
    throw error;
  }
  if (raw) return response;
  const type = response.headers.get('content-type') || '';
  return type.includes('json') ? response.json() : response.text();
}

async function errorOf(response) {
  let message = `The server answered ${response.status} ${response.statusText}.`;
  let code = null;
  try {
    const body = await response.json();
    if (body?.error?.message) ({ message, code } = body.error);
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(response.status, message, code);
}

/** The JSON events of a server-sent event stream, until `[DONE]`. */
export async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let pending = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    pending += decoder.decode(value, { stream: true });
    let end;
    while ((end = pending.indexOf('\n\n')) >= 0) {
      const event = pending.slice(0, end);
      pending = pending.slice(end + 2);
      for (const line of event.split('\n')) {
        if (!line.startsWith('data:')) continue;
        const data = line.slice(5).trim();
        if (data === '[DONE]') return;
        const parsed = JSON.parse(data);
        // An error event after the answer began: no HTTP status to show (that was 200).
        if (parsed.error) throw new ApiError(null, parsed.error.message, parsed.error.code);
        yield parsed;
      }
    }
  }
}

/** The model ids /v1/models lists for this key, sorted. */
let modelList;
export function models() {
  modelList ??= call('/v1/models').then((r) => r.data.map((m) => m.id).sort()).catch((e) => {
    modelList = undefined;
    throw e;
  });
  return modelList;
}
export const forgetModels = () => { modelList = undefined; };
