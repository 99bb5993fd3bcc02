// Orders of an account (tab "orders"): the list with state/date filters and cursor paging, one order's lines
// (bought, refunded, refundable), a refund by certificate count per line and cancel (refund everything).
import { useRef, useState } from "preact/hooks";
import { ApiError, get, post } from "../api.js";
import { addTexts } from "../i18n.js";
import { ACCOUNT_PAGES, Field, Pager, Problem, html, newKey, useLoad, usePages } from "../ui.js";

const STATES = ["paid", "partly_refunded", "refunded", "cancelled"];
const DESTINATIONS = ["balance", "credit", "card", "gift_card"];

addTexts({
  en: {
    "orders.tab": "Orders", "orders.order": "Order", "orders.state": "State", "orders.channel": "Channel",
    "orders.placed": "Placed", "orders.lines": "Lines", "orders.back": "All orders",
    "orders.state.paid": "Paid", "orders.state.partly_refunded": "Partly refunded", "orders.state.refunded": "Refunded",
    "orders.state.cancelled": "Cancelled",
    "orders.line": "Line", "orders.product": "Product", "orders.bought": "Bought", "orders.refunded": "Refunded",
    "orders.refundable": "Refundable", "orders.gross": "Gross", "orders.refundQty": "Certificates to refund",
    "orders.refundQtyLine": "Certificates to refund, line", "orders.reason": "Reason (optional)",
    "orders.refund": "Refund", "orders.refunding": "Refunding...", "orders.refundTitle": "Refund certificates",
    "orders.refundHint": "Type how many certificates of each line to refund; leave the others empty.",
    "orders.nothingNamed": "Type how many certificates to refund on at least one line.",
    "orders.notANumber": "Type a whole number of certificates (1 or more).",
    "orders.refundDone": "Refunded", "orders.wentTo": "Where it went", "orders.newState": "The order is now",
    "orders.to.balance": "to the balance", "orders.to.credit": "off the credit used", "orders.to.card": "to the card",
    "orders.to.gift_card": "to the gift card",
    "orders.windowClosed": "This order was placed more than 30 days ago: only an operator can refund it now. Please contact us.",
    "orders.cancel": "Cancel the order (refund everything)", "orders.cancelConfirm": "Cancel this order and refund all its certificates that are not refunded yet?",
    "orders.cancelYes": "Yes, cancel the order", "orders.cancelNo": "Keep the order", "orders.cancelling": "Cancelling...",
    "orders.cancelled": "The order is cancelled.", "orders.refunds": "Refunds", "orders.total": "Total",
    "orders.payment": "Paid by", "orders.retryNote": "The answer did not arrive: trying again makes the same refund only once.",
  },
  sk: {
    "orders.tab": "Objednávky", "orders.order": "Objednávka", "orders.state": "Stav", "orders.channel": "Kanál",
    "orders.placed": "Vytvorená", "orders.lines": "Položky", "orders.back": "Všetky objednávky",
    "orders.state.paid": "Zaplatená", "orders.state.partly_refunded": "Čiastočne vrátená", "orders.state.refunded": "Vrátená",
    "orders.state.cancelled": "Zrušená",
    "orders.line": "Položka", "orders.product": "Produkt", "orders.bought": "Kúpené", "orders.refunded": "Vrátené",
    "orders.refundable": "Možno vrátiť", "orders.gross": "Suma s DPH", "orders.refundQty": "Certifikáty na vrátenie",
    "orders.refundQtyLine": "Certifikáty na vrátenie, položka", "orders.reason": "Dôvod (nepovinné)",
    "orders.refund": "Vrátiť", "orders.refunding": "Vraciame...", "orders.refundTitle": "Vrátenie certifikátov",
    "orders.refundHint": "Napíšte, koľko certifikátov ktorej položky vrátiť; ostatné nechajte prázdne.",
    "orders.nothingNamed": "Napíšte počet certifikátov na vrátenie aspoň pri jednej položke.",
    "orders.notANumber": "Napíšte celý počet certifikátov (1 alebo viac).",
    "orders.refundDone": "Vrátené", "orders.wentTo": "Kam peniaze išli", "orders.newState": "Objednávka je teraz",
    "orders.to.balance": "na zostatok", "orders.to.credit": "znížený čerpaný úver", "orders.to.card": "na kartu",
    "orders.to.gift_card": "na darčekovú kartu",
    "orders.windowClosed": "Táto objednávka je staršia ako 30 dní: vrátiť ju teraz môže len operátor. Kontaktujte nás, prosím.",
    "orders.cancel": "Zrušiť objednávku (vrátiť všetko)", "orders.cancelConfirm": "Zrušiť túto objednávku a vrátiť všetky jej certifikáty, ktoré ešte neboli vrátené?",
    "orders.cancelYes": "Áno, zrušiť objednávku", "orders.cancelNo": "Ponechať objednávku", "orders.cancelling": "Rušíme...",
    "orders.cancelled": "Objednávka je zrušená.", "orders.refunds": "Vrátenia", "orders.total": "Spolu",
    "orders.payment": "Zaplatené", "orders.retryNote": "Odpoveď neprišla: ďalší pokus urobí to isté vrátenie len raz.",
  },
});

const stateText = (t, s) => t(`orders.state.${s}`);

// A failure worth retrying with the same key: no answer, or the server's own trouble (not a refusal).
const retryable = (err) => !(err instanceof ApiError) || err.status >= 500 || err.problem.type?.endsWith("refund-in-progress");

// One Idempotency-Key per user action: the same action (the same body) retried after a failure keeps its key.
function useAction() {
  const last = useRef(null);
  return (body) => {
    const text = JSON.stringify(body);
    if (!last.current || last.current.body !== text) last.current = { body: text, key: newKey() };
    return {
      key: last.current.key,
      settle: (err) => { if (!err || !retryable(err)) last.current = null; },
    };
  };
}

function OrderList({ t, id }) {
  const pages = usePages(`/accounts/${id}/orders`, { state: "", from: "", to: "" });
  const { data, error } = pages;
  const apply = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    pages.setFilters({ state: f.get("state") || "", from: f.get("from") || "", to: f.get("to") || "" });
  };
  return html`<section aria-labelledby="ord-h"><h2 id="ord-h">${t("orders.tab")}</h2>
    <form class="filters" onSubmit=${apply} data-testid="order-filters">
      <${Field} label=${t("orders.state")} name="state" error=${error}><select>
        <option value="">${t("any")}</option>${STATES.map((s) => html`<option value=${s}>${stateText(t, s)}</option>`)}
      </select><//>
      <${Field} label=${t("from")} name="from" error=${error}><input type="date" /><//>
      <${Field} label=${t("to")} name="to" error=${error}><input type="date" /><//>
      <button type="submit">${t("filter")}</button>
    </form>
    <${Problem} t=${t} error=${error} />
    ${data ? html`<table data-testid="orders"><thead><tr>
        <th scope="col">${t("orders.order")}</th><th scope="col">${t("orders.placed")}</th>
        <th scope="col">${t("orders.channel")}</th><th scope="col">${t("orders.state")}</th>
        <th scope="col" class="num">${t("orders.total")}</th></tr></thead>
      <tbody>${data.items.map((o) => html`<tr data-order=${o.order_id} data-state=${o.state}>
        <td><a href=${`#/a/${id}/orders/${encodeURIComponent(o.order_id)}`}>${o.order_id}</a></td>
        <td>${t.dateTime(o.created_at)}</td><td>${o.channel}</td><td>${stateText(t, o.state)}</td>
        <td class="num">${t.money(o.total, o.currency)}</td></tr>`)}</tbody></table>
      ${data.items.length === 0 ? html`<p>${t("noEntries")}</p>` : null}
      <${Pager} t=${t} pages=${pages} />` : error ? null : html`<p role="status">${t("loading")}</p>`}
  </section>`;
}

// The outcome of a refund: how much, where it went, the order's new state.
function RefundOutcome({ t, order, refund }) {
  const m = (v) => t.money(v, order.currency);
  const to = DESTINATIONS.filter((k) => refund.to[k]).map((k) => `${m(refund.to[k])} ${t(`orders.to.${k}`)}`)
    .concat(Object.keys(refund.to).filter((k) => !DESTINATIONS.includes(k)).map((k) => `${m(refund.to[k])} ${k}`));
  return html`<div class="outcome ok" role="status" data-testid="refund-outcome">
    <p>${t("orders.refundDone")}: <strong data-testid="refund-amount" data-minor=${refund.amount}>${m(refund.amount)}</strong>.
      ${" "}${t("orders.wentTo")}: ${to.join(", ")}.</p>
    <p>${t("orders.newState")}: <strong data-testid="order-state-after">${stateText(t, order.state)}</strong>.</p>
  </div>`;
}

// Which line a problem's field names (lines[k].quantity of the body sent -> that order line), or null.
function lineOfProblem(error, sent) {
  const m = error && error.field && error.field.match(/^lines\[(\d+)\]/);
  return m && sent[Number(m[1])] !== undefined ? sent[Number(m[1])] : null;
}

function RefundForm({ t, id, order, onDone }) {
  const [qty, setQty] = useState({});
  const [reason, setReason] = useState("");
  const [error, setError] = useState(null);
  const [sent, setSent] = useState([]); // order line numbers in the order of the body's lines
  const [busy, setBusy] = useState(false);
  const action = useAction();
  const refundable = order.lines.filter((l) => l.refundable > 0);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const lines = [];
    for (const l of refundable) {
      const text = (qty[l.line] || "").trim();
      if (!text) continue;
      if (!/^\d{1,4}$/.test(text) || Number(text) < 1) {
        setSent([l.line]);
        setError(new ApiError(422, { title: t("orders.notANumber"), detail: text, field: "lines[0].quantity" }));
        return;
      }
      lines.push({ line: l.line, quantity: Number(text) });
    }
    if (lines.length === 0) {
      setError(new ApiError(422, { title: t("orders.nothingNamed"), field: "lines" }));
      return;
    }
    const body = { lines, ...(reason.trim() ? { reason: reason.trim() } : {}) };
    const attempt = action({ order: order.order_id, body });
    setSent(lines.map((l) => l.line));
    setBusy(true);
    try {
      const after = await post(`/accounts/${id}/orders/${encodeURIComponent(order.order_id)}/refunds`, body,
        { "Idempotency-Key": attempt.key });
      attempt.settle(null);
      setQty({});
      setReason("");
      onDone(after, after.refunds[after.refunds.length - 1]);
    } catch (err) {
      attempt.settle(err);
      setError(err);
    } finally { setBusy(false); }
  };
  const badLine = lineOfProblem(error, sent);
  const windowClosed = error instanceof ApiError && error.problem.type?.endsWith("refund-window-closed");
  return html`<form onSubmit=${submit} data-testid="refund-form" aria-labelledby="rf-h" aria-describedby="rf-hint">
    <h3 id="rf-h">${t("orders.refundTitle")}</h3>
    <p id="rf-hint" class="hint">${t("orders.refundHint")}</p>
    <div class="refund-lines">${refundable.map((l) => html`<${Field}
        label=${`${t("orders.refundQtyLine")} ${l.line}: ${l.name} (${t("orders.refundable")} ${l.refundable})`}
        name=${`refund-line-${l.line}`} error=${badLine === l.line ? { field: `refund-line-${l.line}` } : null}>
        <input inputmode="numeric" autocomplete="off" value=${qty[l.line] || ""} data-line=${l.line}
          onInput=${(e) => setQty({ ...qty, [l.line]: e.target.value })} />
      <//>`)}</div>
    <${Field} label=${t("orders.reason")} name="refund-reason" error=${error && error.field === "reason" ? { field: "refund-reason" } : null}>
      <input value=${reason} maxlength="500" onInput=${(e) => setReason(e.target.value)} autocomplete="off" />
    <//>
    ${windowClosed ? html`<p class="problem" role="alert" data-testid="window-closed">${t("orders.windowClosed")}</p>` : null}
    <${Problem} t=${t} error=${error} />
    ${error && retryable(error) ? html`<p class="hint">${t("orders.retryNote")}</p>` : null}
    ${busy ? html`<p role="status">${t("orders.refunding")}</p>` : null}
    <button type="submit" disabled=${busy}>${error && retryable(error) ? t("retry") : t("orders.refund")}</button>
  </form>`;
}

function CancelOrder({ t, id, order, onDone }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const action = useAction();
  const cancel = async () => {
    setError(null);
    setBusy(true);
    const attempt = action({ cancel: order.order_id });
    try {
      const after = await post(`/accounts/${id}/orders/${encodeURIComponent(order.order_id)}/cancel`, {},
        { "Idempotency-Key": attempt.key });
      attempt.settle(null);
      setAsking(false);
      onDone(after, null);
    } catch (err) { attempt.settle(err); setError(err); } finally { setBusy(false); }
  };
  const windowClosed = error instanceof ApiError && error.problem.type?.endsWith("refund-window-closed");
  return html`<div class="cancel-order" data-testid="cancel-order">
    ${asking ? html`<div role="group" aria-labelledby="cancel-q" class="confirm">
        <p id="cancel-q"><strong>${t("orders.cancelConfirm")}</strong></p>
        <button onClick=${cancel} disabled=${busy} data-testid="cancel-yes">${t("orders.cancelYes")}</button>
        <button class="secondary" onClick=${() => { setAsking(false); setError(null); }} disabled=${busy}>${t("orders.cancelNo")}</button>
        ${busy ? html`<p role="status">${t("orders.cancelling")}</p>` : null}
      </div>`
      : html`<button class="danger" onClick=${() => setAsking(true)}>${t("orders.cancel")}</button>`}
    ${windowClosed ? html`<p class="problem" role="alert">${t("orders.windowClosed")}</p>` : null}
    <${Problem} t=${t} error=${error} />
  </div>`;
}

function OrderDetail({ t, id, orderId }) {
  const { data, error } = useLoad(() => get(`/accounts/${id}/orders/${encodeURIComponent(orderId)}`), [id, orderId]);
  const [changed, setChanged] = useState(null); // {order, refund} after a refund or a cancel
  const order = changed && changed.order.order_id === orderId ? changed.order : data;
  const back = html`<p><a href=${`#/a/${id}/orders`}>${t("orders.back")}</a></p>`;
  if (error) return html`${back}<${Problem} t=${t} error=${error} />`;
  if (!order) return html`<p role="status">${t("loading")}</p>`;
  const m = (v) => t.money(v, order.currency);
  const open = order.state === "paid" || order.state === "partly_refunded";
  const onDone = (after, refund) => setChanged({ order: after, refund });
  return html`<section aria-labelledby="od-h" data-testid="order" data-state=${order.state}>
    ${back}
    <h2 id="od-h">${t("orders.order")} ${order.order_id}</h2>
    <dl class="figures">
      <div><dt>${t("orders.state")}</dt><dd data-testid="order-state">${stateText(t, order.state)}</dd></div>
      <div><dt>${t("orders.placed")}</dt><dd>${t.dateTime(order.created_at)}</dd></div>
      <div><dt>${t("orders.total")}</dt><dd>${m(order.total)}</dd></div>
      <div><dt>${t("orders.payment")}</dt><dd>${order.payment.method}</dd></div>
    </dl>
    <table data-testid="order-lines"><caption>${t("orders.lines")}</caption><thead><tr>
      <th scope="col">${t("orders.line")}</th><th scope="col">${t("orders.product")}</th>
      <th scope="col" class="num">${t("orders.bought")}</th><th scope="col" class="num">${t("orders.refunded")}</th>
      <th scope="col" class="num">${t("orders.refundable")}</th><th scope="col" class="num">${t("orders.gross")}</th></tr></thead>
      <tbody>${order.lines.map((l) => html`<tr data-line=${l.line}>
        <td>${l.line}</td><td>${l.name} <code>${l.product_code}</code></td>
        <td class="num" data-col="bought">${l.quantity}</td><td class="num" data-col="refunded">${l.refunded}</td>
        <td class="num" data-col="refundable">${l.refundable}</td>
        <td class="num">${m(l.gross ?? l.amount + (l.vat || 0))}</td></tr>`)}</tbody></table>
    ${changed && changed.refund ? html`<${RefundOutcome} t=${t} order=${order} refund=${changed.refund} />` : null}
    ${changed && !changed.refund && order.state === "cancelled"
      ? html`<p class="ok" role="status" data-testid="cancel-outcome">${t("orders.cancelled")}</p>` : null}
    ${order.refunds.length ? html`<h3>${t("orders.refunds")}</h3><ul data-testid="refunds">${order.refunds.map((r) => html`<li>
      ${t.dateTime(r.refunded_at)}: ${m(r.amount)} (${r.lines.map((x) => `${t("orders.line")} ${x.line}: ${x.quantity}`).join(", ")})
      ${r.reason ? ` - ${r.reason}` : ""}</li>`)}</ul>` : null}
    ${open && order.lines.some((l) => l.refundable > 0) ? html`
      <${RefundForm} key=${order.refunds.length} t=${t} id=${id} order=${order} onDone=${onDone} />
      <${CancelOrder} t=${t} id=${id} order=${order} onDone=${onDone} />` : null}
  </section>`;
}

function Orders({ t, id, route }) {
  return route && route[0]
    ? html`<${OrderDetail} t=${t} id=${id} orderId=${decodeURIComponent(route[0])} />`
    : html`<${OrderList} t=${t} id=${id} />`;
}

ACCOUNT_PAGES.push({ path: "orders", key: "orders.tab", component: Orders });
