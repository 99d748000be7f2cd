// Every request the console makes to the server goes through request() below: one place to
// add authentication headers or a CSRF token. stream() uses it too (fetch, not EventSource).

const BASE = "/console/api";

export class ApiError extends Error {
  constructor(status, code, message, diagnostics) {
    super(message);
    this.status = status;
    this.code = code;
    this.diagnostics = diagnostics || [];
  }
}

/** The one function that talks to the server. Returns the fetch Response. */
export async function request(path, { method = "GET", params, body, signal } = {}) {
  const url = new URL(BASE + path, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const init = { method, signal, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  // Signed in (access keys exist): the session's CSRF token on every request (console/auth.py).
  const csrf = csrfToken();
  if (csrf) init.headers["X-CSRF-Token"] = csrf;
  const response = await fetch(url, init);
  if (response.status === 401) window.location.assign(LOGIN); // the session ended
  return response;
}

const LOGIN = "/console/login";

/** The session's CSRF token (the statewright_csrf cookie), "" when not signed in. */
export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === "statewright_csrf") return value.join("=");
  }
  return "";
}

/** Ends the session and goes to the sign-in page. */
export async function signOut() {
  await request("/logout", { method: "POST", body: {} });
  window.location.assign(LOGIN);
}

/** A JSON call: the answer's body, or an ApiError. */
export async function call(path, options) {
  const response = await request(path, options);
  let data = null;
  try {
    data = await response.json();
  } catch (e) {
    throw new ApiError(response.status, "BadResponse", `The server answered ${response.status}`);
  }
  if (!response.ok) {
    const error = (data && data.error) || {};
    throw new ApiError(response.status, error.code || "Error", error.message || "Request failed",
      data && data.diagnostics);
  }
  return data;
}

/**
 * Follows server-sent events at `path`; onEvent(kind, data) per message. Reconnects (from
 * the position `resume()` returns) when the server ends a stream early, and stops after an
 * `end` message or when `signal` aborts.
 */
export async function stream(path, { params, resume, onEvent, signal }) {
  let failures = 0;
  while (!signal.aborted) {
    let ended = false;
    try {
      const response = await request(path, { params: { ...params, ...resume() }, signal });
      if (!response.ok || !response.body) throw new Error(`stream answered ${response.status}`);
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let kind = "message";
          const data = [];
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) kind = line.slice(7);
            else if (line.startsWith("data: ")) data.push(line.slice(6));
          }
          if (!data.length) continue;
          onEvent(kind, JSON.parse(data.join("\n")));
          if (kind === "end") ended = true;
        }
      }
      failures = 0;
    } catch (e) {
      if (signal.aborted) return;
      failures += 1;
      await new Promise((r) => setTimeout(r, Math.min(5000, 500 * failures)));
    }
    if (ended) return;
  }
}
