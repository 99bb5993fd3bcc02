// The operators' queues: bank transfers that matched no account (assign one to an account, once per
// Idempotency-Key, or return it), purchase orders waiting for a decision (approve, or reject with a reason), and
// the reconciliation runs of a period with each day's findings.
import { useState } from "preact/hooks";
import { get, post } from "../api.js";
import { Field, Pager, Problem, TOP_PAGES, html, useLoad, usePages } from "../ui.js";
import { addTexts } from "../i18n.js";
import { aimed, localProblem, useActionKey } from "./ops_forms.js";

addTexts({
  en: {
    suspenseQueue: "Suspense", suspenseTitle: "Unmatched bank transfers", state: "State",
    stateOpen: "Open", stateAssigned: "Assigned", stateReturned: "Returned", received: "Received",
    payer: "Payer", reference: "Reference", whyUnmatched: "Why", message: "Message",
    assignTo: "Account id to credit", assign: "Assign", returnReason: "Reason for returning", returnIt: "Return",
    assignedTo: "Credited to account", returnedDone: "Marked as returned to the payer.",
    reason_no_reference: "No reference", reason_invalid_reference: "Invalid reference",
    reason_unknown_reference: "Unknown reference", reason_currency_mismatch: "Another currency",
    noAccountId: "Give the account id", noReason: "Give a reason", show: "Show", resolved: "Resolved",
    poQueue: "Purchase orders", poTitle: "Purchase orders waiting for a decision", poNumber: "PO number",
    account: "Account", note: "Note", approve: "Approve", reject: "Reject", rejectReason: "Reason for rejecting",
    approvedDone: "Approved: invoice", rejectedDone: "Rejected.", stateSubmitted: "Submitted",
    stateApproved: "Approved", stateRejected: "Rejected", stateCancelled: "Cancelled", statePaid: "Paid",
    reconciliation: "Reconciliation", reconTitle: "Reconciliation runs", day: "Day", accountsChecked: "Accounts checked",
    mismatches: "Findings", byCheck: "By check", run: "Run", findings: "Findings", check: "Check", subject: "Subject",
    detail: "Detail", refs: "Concerns", allAddsUp: "Everything adds up: no findings.", skipped: "Skipped (kept changing)",
    back: "Back to the runs", noRuns: "No runs in this period.", working: "Working...", reason: "Reason",
  },
  sk: {
    suspenseQueue: "Nespárované", suspenseTitle: "Nespárované bankové prevody", state: "Stav",
    stateOpen: "Otvorené", stateAssigned: "Pripísané", stateReturned: "Vrátené", received: "Prijaté",
    payer: "Platiteľ", reference: "Symbol", whyUnmatched: "Prečo", message: "Správa",
    assignTo: "Číslo účtu na pripísanie", assign: "Pripísať", returnReason: "Dôvod vrátenia", returnIt: "Vrátiť",
    assignedTo: "Pripísané na účet", returnedDone: "Označené ako vrátené platiteľovi.",
    reason_no_reference: "Bez symbolu", reason_invalid_reference: "Chybný symbol",
    reason_unknown_reference: "Neznámy symbol", reason_currency_mismatch: "Iná mena",
    noAccountId: "Zadajte číslo účtu", noReason: "Zadajte dôvod", show: "Zobraziť", resolved: "Vybavené",
    poQueue: "Objednávky (PO)", poTitle: "Objednávky čakajúce na rozhodnutie", poNumber: "Číslo objednávky",
    account: "Účet", note: "Poznámka", approve: "Schváliť", reject: "Zamietnuť", rejectReason: "Dôvod zamietnutia",
    approvedDone: "Schválené: faktúra", rejectedDone: "Zamietnuté.", stateSubmitted: "Podané",
    stateApproved: "Schválené", stateRejected: "Zamietnuté", stateCancelled: "Zrušené", statePaid: "Zaplatené",
    reconciliation: "Rekonciliácia", reconTitle: "Behy rekonciliácie", day: "Deň", accountsChecked: "Kontrolované účty",
    mismatches: "Nálezy", byCheck: "Podľa kontroly", run: "Beh", findings: "Nálezy", check: "Kontrola", subject: "Predmet",
    detail: "Podrobnosti", refs: "Týka sa", allAddsUp: "Všetko sedí: žiadne nálezy.", skipped: "Vynechané (menili sa)",
    back: "Späť na behy", noRuns: "V tomto období nie sú žiadne behy.", working: "Pracuje sa...", reason: "Dôvod",
  },
});

const cap = (s) => s.charAt(0).toUpperCase() + s.slice(1);

function StateFilter({ t, states, value, onChange, name }) {
  return html`<form class="filters" onSubmit=${(e) => { e.preventDefault(); onChange(new FormData(e.target).get(name)); }}>
    <${Field} label=${t("state")} name=${name}><select value=${value}>
      ${states.map((s) => html`<option value=${s}>${t(`state${cap(s)}`)}</option>`)}</select><//>
    <button type="submit">${t("show")}</button></form>`;
}

// One unmatched transfer and what an operator does with it.
function SuspenseRow({ t, item, onDone }) {
  const tr = item.transfer;
  const tid = item.transfer_id;
  const [account, setAccount] = useState("");
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const keys = useActionKey();
  const act = async (fn) => {
    setError(null); setBusy(true);
    try { onDone(await fn()); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const assign = () => {
    if (!account.trim()) { setError(localProblem(t("assign"), t("noAccountId"), "account_id")); return; }
    const body = { account_id: account.trim() };
    const key = keys.keyFor({ tid, ...body });
    act(async () => {
      const r = await post(`/bank-transfers/suspense/${encodeURIComponent(tid)}/assign`, body, { "Idempotency-Key": key });
      keys.done();
      return `${t("assignedTo")} ${r.account_id || body.account_id}: ${t.money(tr.amount, tr.currency)}`;
    });
  };
  const giveBack = () => {
    if (!reason.trim()) { setError(localProblem(t("returnIt"), t("noReason"), "reason")); return; }
    act(async () => {
      await post(`/bank-transfers/suspense/${encodeURIComponent(tid)}/return`, { reason });
      return t("returnedDone");
    });
  };
  const open = item.state === "open";
  return html`<li class="queue-item" data-transfer-id=${tid}>
    <dl class="facts">
      <div><dt>${t("amount")}</dt><dd class="num">${t.money(tr.amount, tr.currency)}</dd></div>
      <div><dt>${t("received")}</dt><dd>${t.date(tr.booked_date)}</dd></div>
      <div><dt>${t("payer")}</dt><dd>${tr.payer_name || "-"} <code>${tr.payer_iban || ""}</code></dd></div>
      <div><dt>${t("reference")}</dt><dd><code>${tr.reference || "-"}</code></dd></div>
      <div><dt>${t("whyUnmatched")}</dt><dd>${t(`reason_${item.reason}`)}</dd></div>
      ${item.message ? html`<div><dt>${t("message")}</dt><dd>${item.message}</dd></div>` : null}
      ${!open ? html`<div><dt>${t("resolved")}</dt><dd>${item.account_id
        ? html`<a href=${`#/a/${item.account_id}`}>${item.account_id}</a>` : item.return_reason || "-"} (${t.date(item.resolved_at)})</dd></div>` : null}
    </dl>
    ${open ? html`<div class="actions">
      <form onSubmit=${(e) => { e.preventDefault(); assign(); }} class="filters">
        <${Field} label=${t("assignTo")} name=${`assign-${tid}`} error=${aimed(error, "account_id", `assign-${tid}`)}>
          <input value=${account} onInput=${(e) => setAccount(e.target.value)} autocomplete="off" /><//>
        <button type="submit" disabled=${busy}>${t("assign")}</button>
      </form>
      <form onSubmit=${(e) => { e.preventDefault(); giveBack(); }} class="filters">
        <${Field} label=${t("returnReason")} name=${`return-${tid}`} error=${aimed(error, "reason", `return-${tid}`)}>
          <input value=${reason} onInput=${(e) => setReason(e.target.value)} autocomplete="off" /><//>
        <button type="submit" disabled=${busy}>${t("returnIt")}</button>
      </form>
      ${busy ? html`<p role="status">${t("working")}</p>` : null}
      <${Problem} t=${t} error=${error} />
    </div>` : null}
  </li>`;
}

function Suspense({ t }) {
  const [state, setState] = useState("open");
  const [done, setDone] = useState(null);
  const { data, error, reload } = useLoad(() => get(`/bank-transfers/suspense?state=${state}&limit=100`), [state]);
  const onDone = (message) => { setDone(message); reload(); };
  return html`<section aria-labelledby="su-h"><h2 id="su-h">${t("suspenseTitle")}</h2>
    <${StateFilter} t=${t} states=${["open", "assigned", "returned"]} value=${state} name="suspense-state"
      onChange=${(s) => { setDone(null); setState(s); }} />
    ${done ? html`<p role="status" class="ok" data-testid="queue-done">${done}</p>` : null}
    <${Problem} t=${t} error=${error} />
    ${data ? (data.items.length ? html`<ul class="queue" data-testid="suspense">${data.items.map((i) =>
      html`<${SuspenseRow} key=${i.transfer_id} t=${t} item=${i} onDone=${onDone} />`)}</ul>`
      : html`<p>${t("noEntries")}</p>`) : html`<p role="status">${t("loading")}</p>`}
  </section>`;
}

function PurchaseOrderRow({ t, po, onDone }) {
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const base = `/accounts/${encodeURIComponent(po.account_id)}/purchase-orders/${encodeURIComponent(po.po_id)}`;
  const act = async (fn) => {
    setError(null); setBusy(true);
    try { onDone(await fn()); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const approve = () => act(async () => `${t("approvedDone")} ${(await post(`${base}/approve`)).invoice_number || ""}`);
  const reject = (e) => {
    e.preventDefault();
    if (!reason.trim()) { setError(localProblem(t("reject"), t("noReason"), "reason")); return; }
    act(async () => { await post(`${base}/reject`, { reason }); return t("rejectedDone"); });
  };
  const field = `reject-${po.po_id}`;
  return html`<li class="queue-item" data-po-id=${po.po_id}>
    <dl class="facts">
      <div><dt>${t("poNumber")}</dt><dd>${po.po_number}</dd></div>
      <div><dt>${t("account")}</dt><dd><a href=${`#/a/${po.account_id}`}>${po.account_id}</a></dd></div>
      <div><dt>${t("amount")}</dt><dd class="num">${t.money(po.amount, po.currency)}</dd></div>
      <div><dt>${t("date")}</dt><dd>${t.date(po.created_at)}</dd></div>
      <div><dt>${t("status")}</dt><dd>${po.status}</dd></div>
      ${po.note ? html`<div><dt>${t("note")}</dt><dd>${po.note}</dd></div>` : null}
      ${po.reason ? html`<div><dt>${t("reason")}</dt><dd>${po.reason}</dd></div>` : null}
    </dl>
    ${po.state === "submitted" ? html`<div class="actions">
      <button type="button" onClick=${approve} disabled=${busy}>${t("approve")}</button>
      <form onSubmit=${reject} class="filters">
        <${Field} label=${t("rejectReason")} name=${field} error=${aimed(error, "reason", field)}>
          <input value=${reason} onInput=${(e) => setReason(e.target.value)} autocomplete="off" /><//>
        <button type="submit" disabled=${busy}>${t("reject")}</button>
      </form>
      ${busy ? html`<p role="status">${t("working")}</p>` : null}
      <${Problem} t=${t} error=${error} />
    </div>` : null}
  </li>`;
}

function PurchaseOrders({ t }) {
  const pages = usePages("/purchase-orders", { state: "submitted" }, 50);
  const [done, setDone] = useState(null);
  const { data, error, reload } = pages;
  return html`<section aria-labelledby="po-h"><h2 id="po-h">${t("poTitle")}</h2>
    <${StateFilter} t=${t} states=${["submitted", "approved", "paid", "rejected", "cancelled"]} value=${pages.filters.state}
      name="po-state" onChange=${(s) => { setDone(null); pages.setFilters({ state: s }); }} />
    ${done ? html`<p role="status" class="ok" data-testid="queue-done">${done}</p>` : null}
    <${Problem} t=${t} error=${error} />
    ${data ? html`${data.items.length ? html`<ul class="queue" data-testid="purchase-orders">${data.items.map((po) =>
      html`<${PurchaseOrderRow} key=${po.po_id} t=${t} po=${po} onDone=${(m) => { setDone(m); reload(); }} />`)}</ul>`
      : html`<p>${t("noEntries")}</p>`}
      <${Pager} t=${t} pages=${pages} />` : html`<p role="status">${t("loading")}</p>`}
  </section>`;
}

const isoDay = (d) => d.toISOString().slice(0, 10);

function Report({ t, day }) {
  const { data: r, error } = useLoad(() => get(`/reconciliation/reports/${encodeURIComponent(day)}`), [day]);
  return html`<section aria-labelledby="rr-h"><h2 id="rr-h">${t("reconciliation")}: ${t.date(day)}</h2>
    <p><a href="#/reconciliation">${t("back")}</a></p>
    <${Problem} t=${t} error=${error} />
    ${r ? html`<div data-testid="report" data-day=${r.day} data-run-id=${r.run_id} data-mismatches=${r.mismatches}>
      <dl class="figures">
        <div><dt>${t("accountsChecked")}</dt><dd>${r.accounts}</dd></div>
        <div><dt>${t("mismatches")}</dt><dd data-testid="mismatches">${r.mismatches}</dd></div>
        <div><dt>${t("run")}</dt><dd class="small">${t.dateTime(r.run_id)}</dd></div>
      </dl>
      ${r.skipped.length ? html`<p>${t("skipped")}: ${r.skipped.map((a) => html`<a href=${`#/a/${a}`}>${a}</a> `)}</p>` : null}
      ${r.findings.length === 0 ? html`<p class="ok" data-testid="all-adds-up">${t("allAddsUp")}</p>`
        : html`<table data-testid="findings"><thead><tr><th scope="col">${t("check")}</th><th scope="col">${t("subject")}</th>
          <th scope="col">${t("detail")}</th><th scope="col">${t("refs")}</th></tr></thead>
          <tbody>${r.findings.map((f) => html`<tr><td>${f.check}</td><td>${f.subject}</td><td>${f.detail}</td>
            <td>${(f.refs || []).map((x) => html`<code>${x}</code> `)}</td></tr>`)}</tbody></table>`}
    </div>` : error ? null : html`<p role="status">${t("loading")}</p>`}
  </section>`;
}

function Reconciliation({ t, route }) {
  const today = new Date();
  const [range, setRange] = useState({ from: isoDay(new Date(today.getTime() - 6 * 864e5)), to: isoDay(today) });
  const { data, error } = useLoad(
    () => (route[0] ? Promise.resolve(null) : get(`/reconciliation/reports?from=${range.from}&to=${range.to}`)),
    [range.from, range.to, route[0]]);
  if (route[0]) return html`<${Report} t=${t} day=${route[0]} />`;
  const apply = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setRange({ from: f.get("from") || range.from, to: f.get("to") || range.to });
  };
  return html`<section aria-labelledby="rc-h"><h2 id="rc-h">${t("reconTitle")}</h2>
    <form class="filters" onSubmit=${apply}>
      <${Field} label=${t("from")} name="from" error=${error}><input type="date" value=${range.from} /><//>
      <${Field} label=${t("to")} name="to" error=${error}><input type="date" value=${range.to} /><//>
      <button type="submit">${t("show")}</button>
    </form>
    <${Problem} t=${t} error=${error} />
    ${data ? (data.items.length === 0 ? html`<p>${t("noRuns")}</p>` : html`<table data-testid="runs"><thead><tr>
        <th scope="col">${t("day")}</th><th scope="col" class="num">${t("accountsChecked")}</th>
        <th scope="col" class="num">${t("mismatches")}</th><th scope="col">${t("byCheck")}</th></tr></thead>
      <tbody>${data.items.map((r) => html`<tr data-day=${r.day}>
        <td><a href=${`#/reconciliation/${r.day}`}>${t.date(r.day)}</a></td><td class="num">${r.accounts}</td>
        <td class="num">${r.mismatches}</td>
        <td>${Object.entries(r.by_check).map(([k, v]) => `${k}: ${v}`).join(", ") || "-"}</td></tr>`)}</tbody></table>`)
      : error ? null : html`<p role="status">${t("loading")}</p>`}
  </section>`;
}

TOP_PAGES.push(
  { path: "suspense", key: "suspenseQueue", roles: ["operator"], component: Suspense },
  { path: "purchase-orders", key: "poQueue", roles: ["operator"], component: PurchaseOrders },
  { path: "reconciliation", key: "reconciliation", roles: ["operator"], component: Reconciliation },
);
