// What every page shares: htm bound to preact, the problem box, labelled fields, loading and the hash route.
import { h } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import htm from "htm";
import { ApiError, get } from "./api.js";

export const html = htm.bind(h);
export const newKey = () => (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());

export function useRoute() {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  return hash.slice(1).split("?")[0].split("/").filter(Boolean);
}

// Loads once per key; {data, error, reload}. Only the latest load's answer counts: an earlier, slower one (the
// account opened before this one) must not replace it.
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const latest = useRef(0);
  const reload = useCallback(() => {
    const mine = ++latest.current;
    setState((s) => ({ ...s, loading: true }));
    fn().then((data) => mine === latest.current && setState({ data, error: null, loading: false }),
      (error) => mine === latest.current && setState({ data: null, error, loading: false }));
  }, deps);
  useEffect(reload, [reload]);
  return { ...state, reload };
}

// A cursor-paged list of `path` with filters (empty ones left out): the page shown and the pager's moves (null
// when there is nowhere to go). New filters start again at the first page.
export function usePages(path, initialFilters, limit = 20) {
  const [filters, setFilterState] = useState(initialFilters);
  const [cursors, setCursors] = useState([null]);
  const cursor = cursors[cursors.length - 1];
  const loaded = useLoad(() => {
    const q = new URLSearchParams({ limit: String(limit) });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    if (cursor) q.set("cursor", cursor);
    return get(`${path}?${q}`);
  }, [path, filters, cursor, limit]);
  const setFilters = (next) => { setFilterState(next); setCursors([null]); };
  const first = cursors.length > 1 ? () => setCursors([null]) : null;
  const nextCursor = loaded.data && loaded.data.next_cursor;
  const next = nextCursor ? () => setCursors([...cursors, nextCursor]) : null;
  return { ...loaded, filters, setFilters, first, next };
}

export function Pager({ t, pages }) {
  return html`<div class="pager">
    ${pages.first ? html`<button type="button" onClick=${pages.first}>${t("first")}</button>` : null}
    ${pages.next ? html`<button type="button" onClick=${pages.next}>${t("next")}</button>` : null}
  </div>`;
}

// Every API problem in plain words: the title and detail, and which field (highlighted next to the input).
export function Problem({ t, error }) {
  if (!error) return null;
  let text = error.message;
  if (error instanceof ApiError) {
    if (error.status === 401) text = t("sessionEnded");
    else if (error.status === 404 && !error.problem.detail) text = t("notFound");
    else if (error.status === 403 && !error.problem.detail) text = t("forbidden");
    else {
      // The API's title in the reader's language (by the problem's type, /problems/<slug>); its detail as it came.
      const key = `problemType.${String(error.problem.type || "").split("/").pop()}`;
      const title = t(key) === key ? error.problem.title : t(key);
      text = [title, error.problem.detail].filter(Boolean).join(": ");
    }
  }
  const heading = error.status === 404 ? t("notFound") : t("problem");
  return html`<div class="problem" role="alert" data-testid="problem">
    <strong>${heading}</strong>
    ${text !== heading ? html`<p>${text}</p>` : null}
    ${error.field ? html`<p>${t("fieldLabel")}: <code>${error.field}</code></p>` : null}
  </div>`;
}

export function Field({ label, name, error, children }) {
  const bad = error && error.field && (error.field === name || error.field.endsWith(`.${name}`));
  return html`<div class=${bad ? "field invalid" : "field"}>
    <label for=${name}>${label}</label>
    ${h(children.type, { ...children.props, id: name, name, "aria-invalid": bad ? "true" : undefined })}
  </div>`;
}


// Pages other modules add: per account (a tab: {path, key, component, roles?: only for those roles}) and top level ({path, key, roles,
// component}). Each module registers itself from main.js's imports; its texts go through i18n.addTexts.
export const ACCOUNT_PAGES = [];
export const TOP_PAGES = [];
