// The API client: the bearer token from sessionStorage, RFC 9457 problems turned into ApiError.
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || problem.message || `HTTP ${status}`);
    this.status = status;
    this.problem = problem; // {type, title, status, detail, field} or API Gateway's {message}
    this.field = problem.field || null;
  }
}

export const session = {
  get token() { return sessionStorage.getItem("ac.token"); },
  get claims() {
    const token = this.token;
    if (!token) return null;
    try {
      const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      return JSON.parse(decodeURIComponent(escape(atob(part))));
    } catch { return null; }
  },
  save(token) { sessionStorage.setItem("ac.token", token); },
  clear() { sessionStorage.removeItem("ac.token"); },
};

let base = "";
export function setApiBase(url) { base = (url || "").replace(/\/$/, ""); }

export async function request(method, path, { body, headers = {}, raw = false } = {}) {
  const h = { ...headers };
  if (session.token) h.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) h["content-type"] = "application/json";
  const r = await fetch(base + path, { method, headers: h, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) {
    let problem = {};
    try { problem = await r.json(); } catch { problem = { title: r.statusText }; }
    throw new ApiError(r.status, problem);
  }
  if (raw) return r;
  return r.status === 204 ? null : r.json();
}

export const get = (path) => request("GET", path);
export const post = (path, body, headers) => request("POST", path, { body, headers });

// A file behind the bearer token (a PDF, an XML) saved under its name.
export async function download(path, filename) {
  const r = await request("GET", path, { raw: true });
  const url = URL.createObjectURL(await r.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// Polls fn until done(value) or the deadline; each value goes to onTick (progress on screen, never a frozen page).
export async function poll(fn, done, { every = 700, timeout = 60000, onTick } = {}) {
  const until = Date.now() + timeout;
  for (;;) {
    const value = await fn();
    if (onTick) onTick(value);
    if (done(value)) return value;
    if (Date.now() > until) throw new Error("timeout");
    await new Promise((res) => setTimeout(res, every));
  }
}
