// The coordinator's REST API (/api/v1) as the dashboard uses it: the bearer
// token kept for this browser session, JSON and binary requests, every
// non-2xx answer as an ApiError carrying the server's own message (its JSON
// {"error": ...} body), and server-sent events read over fetch.

const TOKEN_KEY = 'unas-token';
export const token = () => sessionStorage.getItem(TOKEN_KEY) || '';
export const setToken = (value) => sessionStorage.setItem(TOKEN_KEY, value);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;  // the HTTP status; 0 when the server could not be reached
  }
}

// Called with a message when the server refuses the token (401); the router
// sets it to show the token form. The token is forgotten first.
let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

// The message of an error answer: the JSON body's "error", else the status.
async function errorMessage(response) {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (body && typeof body.error === 'string' && body.error) return body.error;
  } catch { /* not JSON: fall through */ }
  return `${response.status} ${response.statusText || 'error'}`.trim();
}

// fetch(`/api/v1${path}`) with the token. `body` is sent as is with
// `contentType` (default application/json). Resolves to the Response when it
// is 2xx; rejects with ApiError otherwise.
export async function request(path, { method = 'GET', body, contentType = 'application/json', signal } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers['Content-Type'] = contentType;
  let response;
  try {
    response = await fetch(`/api/v1${path}`, { method, body, headers, signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `the coordinator could not be reached (${e.message})`);
  }
  if (response.ok) return response;
  const message = await errorMessage(response);
  if (response.status === 401) {
    forgetToken();
    onUnauthorized('The token was refused; enter it again.');
  }
  throw new ApiError(response.status, message);
}

// A request and its JSON answer. A JSON body (the default content type)
// that is not already a string is serialised; other bodies go as they are.
export async function api(path, options = {}) {
  const json = !options.contentType || options.contentType === 'application/json';
  const body = json && options.body !== undefined && typeof options.body !== 'string' ? JSON.stringify(options.body) : options.body;
  const response = await request(path, { ...options, body });
  return response.json();
}

// A request whose answer is a file (exports, models) as a Blob.
export async function apiBlob(path, options = {}) {
  return (await request(path, options)).blob();
}

// Server-sent events over fetch (EventSource cannot send the bearer token).
// Calls onEvent(kind, data) for each event until the stream ends or the
// returned AbortController is aborted; `done` resolves when it ends.
export function streamEvents(path, onEvent) {
  const controller = new AbortController();
  const done = (async () => {
    try {
      const response = await fetch(`/api/v1${path}`, { headers: { Authorization: `Bearer ${token()}` }, signal: controller.signal });
      if (!response.ok || !response.body) return;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done: finished } = await reader.read();
        if (finished) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let kind = 'message', data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) kind = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) onEvent(kind, JSON.parse(data));
        }
      }
    } catch (e) {
      if (e.name !== 'AbortError') console.warn('event stream ended:', e.message);
    }
  })();
  return { controller, done };
}
