// The period summary of an account (tab "summary": opening, the movements, closing) and an export of the period
// as CSV or JSON: queued, its progress polled (done of total), then downloaded with the session's token.
import { useState } from "preact/hooks";
import { ApiError, download, get, poll, post } from "../api.js";
import { addTexts } from "../i18n.js";
import { ACCOUNT_PAGES, Field, Problem, html, useLoad } from "../ui.js";

addTexts({
  en: {
    "stmt.tab": "Summary", "stmt.title": "Summary of a period", "stmt.show": "Show",
    "stmt.opening": "Opening balance", "stmt.closing": "Closing balance", "stmt.movement": "Movement",
    "stmt.entries": "Entries", "stmt.adds": "Opening balance and the movements add up to the closing balance.",
    "stmt.addsNot": "The movements do not add up to the closing balance: please contact us.",
    "stmt.credit": "Credit in use at the end", "stmt.outside": "Paid outside the balance (card, gift card)",
    "stmt.export": "Export", "stmt.format": "Format", "stmt.kind": "Contents", "stmt.kind.transactions": "Every entry",
    "stmt.kind.summary": "The summary", "stmt.start": "Prepare the file", "stmt.queued": "Waiting to start...",
    "stmt.progress": "Preparing the file: {done} of {total} entries", "stmt.progressUnknown": "Preparing the file: {done} entries",
    "stmt.ready": "The file is ready.", "stmt.download": "Download the file", "stmt.failed": "The export failed.",
    "stmt.timeout": "The export takes longer than usual. Its progress is kept: check again.", "stmt.checkAgain": "Check again",
    "stmt.badPeriod": "Pick the first and the last day of the period.",
  },
  sk: {
    "stmt.tab": "Súhrn", "stmt.title": "Súhrn za obdobie", "stmt.show": "Zobraziť",
    "stmt.opening": "Počiatočný zostatok", "stmt.closing": "Konečný zostatok", "stmt.movement": "Pohyb",
    "stmt.entries": "Záznamy", "stmt.adds": "Počiatočný zostatok a pohyby dávajú konečný zostatok.",
    "stmt.addsNot": "Pohyby nedávajú konečný zostatok: kontaktujte nás, prosím.",
    "stmt.credit": "Čerpaný úver na konci", "stmt.outside": "Zaplatené mimo zostatku (karta, darčeková karta)",
    "stmt.export": "Export", "stmt.format": "Formát", "stmt.kind": "Obsah", "stmt.kind.transactions": "Všetky záznamy",
    "stmt.kind.summary": "Súhrn", "stmt.start": "Pripraviť súbor", "stmt.queued": "Čaká na spustenie...",
    "stmt.progress": "Pripravujeme súbor: {done} z {total} záznamov", "stmt.progressUnknown": "Pripravujeme súbor: {done} záznamov",
    "stmt.ready": "Súbor je pripravený.", "stmt.download": "Stiahnuť súbor", "stmt.failed": "Export zlyhal.",
    "stmt.timeout": "Export trvá dlhšie ako zvyčajne. Jeho priebeh sa nestratí: skontrolujte znova.", "stmt.checkAgain": "Skontrolovať znova",
    "stmt.badPeriod": "Vyberte prvý a posledný deň obdobia.",
  },
});

const fill = (text, values) => text.replace(/\{(\w+)\}/g, (_, k) => String(values[k]));
const today = () => new Date().toISOString().slice(0, 10);
const monthStart = () => `${today().slice(0, 7)}-01`;

function SummaryTable({ t, s }) {
  const m = (v) => t.money(v, s.currency);
  const sum = s.opening_balance + s.rows.reduce((acc, r) => acc + r.amount, 0);
  return html`<table data-testid="summary" data-opening=${s.opening_balance} data-closing=${s.closing_balance}>
      <thead><tr><th scope="col">${t("stmt.movement")}</th><th scope="col" class="num">${t("stmt.entries")}</th>
        <th scope="col" class="num">${t("amount")}</th></tr></thead>
      <tbody>
        <tr data-row="opening_balance"><th scope="row">${t("stmt.opening")}</th><td></td>
          <td class="num">${m(s.opening_balance)}</td></tr>
        ${s.rows.map((r) => html`<tr data-row=${r.row} data-minor=${r.amount}><td>${r.label}</td>
          <td class="num">${r.entries}</td><td class="num">${m(r.amount)}</td></tr>`)}
        <tr data-row="closing_balance"><th scope="row">${t("stmt.closing")}</th><td class="num">${s.entries}</td>
          <td class="num"><strong>${m(s.closing_balance)}</strong></td></tr>
      </tbody></table>
    <p class=${sum === s.closing_balance ? "ok" : "problem"} data-testid="summary-check"
      data-adds=${String(sum === s.closing_balance)}>${t(sum === s.closing_balance ? "stmt.adds" : "stmt.addsNot")}</p>
    <p>${t("stmt.credit")}: ${m(s.credit.in_use_closing)}.
      ${" "}${t("stmt.outside")}: ${m(s.paid_outside_balance.card_orders + s.paid_outside_balance.gift_card_orders)}.</p>`;
}

function ExportForm({ t, id, period }) {
  const [format, setFormat] = useState("csv");
  const [kind, setKind] = useState("transactions");
  const [status, setStatus] = useState(null);
  const [error, setError] = useState(null);
  const [phase, setPhase] = useState(null); // null | "running" | "done" | "failed" | "timeout"
  const follow = async (first) => {
    setPhase("running");
    try {
      const done = await poll(() => get(`/accounts/${id}/exports/${first.export_id}`),
        (s) => s.state === "done" || s.state === "failed", { onTick: setStatus, every: 800, timeout: 120000 });
      setPhase(done.state === "done" ? "done" : "failed");
    } catch (err) {
      if (err instanceof ApiError) { setError(err); setPhase(null); } else setPhase("timeout");
    }
  };
  const start = async (e) => {
    e.preventDefault();
    setError(null); setStatus(null); setPhase(null);
    try {
      const first = await post(`/accounts/${id}/exports`, { from: period.from, to: period.to, format, kind });
      setStatus(first);
      await follow(first);
    } catch (err) { setError(err); setPhase(null); }
  };
  const save = () => download(status.download || `/accounts/${id}/exports/${status.export_id}/file`,
    `${kind}-${period.from}-${period.to}.${status.format}`).catch(setError);
  const running = phase === "running";
  return html`<section aria-labelledby="ex-h"><h3 id="ex-h">${t("stmt.export")}</h3>
    <form class="filters" onSubmit=${start} data-testid="export-form">
      <${Field} label=${t("stmt.format")} name="export-format" error=${error && error.field === "format" ? { field: "export-format" } : null}>
        <select value=${format} onChange=${(e) => setFormat(e.target.value)}>
          <option value="csv">CSV</option><option value="json">JSON</option></select><//>
      <${Field} label=${t("stmt.kind")} name="export-kind" error=${error && error.field === "kind" ? { field: "export-kind" } : null}>
        <select value=${kind} onChange=${(e) => setKind(e.target.value)}>
          <option value="transactions">${t("stmt.kind.transactions")}</option>
          <option value="summary">${t("stmt.kind.summary")}</option></select><//>
      <button type="submit" disabled=${running}>${t("stmt.start")}</button>
    </form>
    <${Problem} t=${t} error=${error} />
    ${running && status ? html`<div role="status" data-testid="export-progress" data-done=${status.done} data-total=${status.total ?? ""}>
        ${status.state === "queued" ? html`<progress aria-label=${t("stmt.queued")}></progress> ${t("stmt.queued")}`
          : html`<progress max=${status.total || undefined} value=${status.total ? status.done : undefined}
              aria-label=${t("stmt.export")}></progress>
            ${status.total ? fill(t("stmt.progress"), status) : fill(t("stmt.progressUnknown"), status)}`}
      </div>` : null}
    ${phase === "done" ? html`<div role="status" class="ok" data-testid="export-ready">
        <p>${t("stmt.ready")}</p>
        <button onClick=${save} data-testid="export-download">${t("stmt.download")} (${status.format.toUpperCase()})</button></div>` : null}
    ${phase === "failed" ? html`<p class="problem" role="alert">${t("stmt.failed")} ${status.error || ""}</p>` : null}
    ${phase === "timeout" ? html`<p role="status">${t("stmt.timeout")}
        <button onClick=${() => follow(status)}>${t("stmt.checkAgain")}</button></p>` : null}
  </section>`;
}

function Statements({ t, id }) {
  const [from, setFrom] = useState(monthStart());
  const [to, setTo] = useState(today());
  const [period, setPeriod] = useState({ from: monthStart(), to: today() });
  const [local, setLocal] = useState(null);
  const { data, error } = useLoad(() => get(`/accounts/${id}/summary?${new URLSearchParams(period)}`), [id, period]);
  const show = (e) => {
    e.preventDefault();
    setLocal(null);
    if (!from || !to) {
      setLocal(new ApiError(422, { title: t("stmt.badPeriod"), field: !from ? "from" : "to" }));
      return;
    }
    setPeriod({ from, to });
  };
  const problem = local || error;
  return html`<section aria-labelledby="st-h"><h2 id="st-h">${t("stmt.title")}</h2>
    <form class="filters" onSubmit=${show} data-testid="summary-period">
      <${Field} label=${t("from")} name="from" error=${problem}>
        <input type="date" value=${from} onInput=${(e) => setFrom(e.target.value)} required /><//>
      <${Field} label=${t("to")} name="to" error=${problem}>
        <input type="date" value=${to} onInput=${(e) => setTo(e.target.value)} required /><//>
      <button type="submit">${t("stmt.show")}</button>
    </form>
    <${Problem} t=${t} error=${problem} />
    ${data ? html`<${SummaryTable} t=${t} s=${data} />` : error ? null : html`<p role="status">${t("loading")}</p>`}
    <${ExportForm} t=${t} id=${id} period=${period} />
  </section>`;
}

ACCOUNT_PAGES.push({ path: "summary", key: "stmt.tab", component: Statements });
