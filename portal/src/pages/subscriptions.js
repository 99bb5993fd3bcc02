// Subscriptions of an account (tab "subscriptions"): the list and the renewal forecast, a new subscription with
// the first charge previewed before it is confirmed (prorated when backdated: ./proration.js mirrors the server's
// rule; the server's answer is final and shown after), and one subscription's page: inventory added mid-term
// (previewed too), renewal inventory, automatic renewal, the paying method, suspend and reactivate.
import { useRef, useState } from "preact/hooks";
import { ApiError, get, post, request } from "../api.js";
import { ACCOUNT_PAGES, Field, Problem, html, newKey, useLoad } from "../ui.js";
import { addTexts } from "../i18n.js";
import { describeMethod } from "./methods.js";
import { firstTermPreview, inventoryPreview, todayIso } from "./proration.js";

// One Idempotency-Key per user action: the same request again (a retry after a failure) reuses it, a changed
// request or a new action after a success gets a new one.
function useActionKey() {
  const last = useRef({ body: null, key: null });
  return {
    keyFor(body) {
      const text = JSON.stringify(body);
      if (last.current.body !== text) last.current = { body: text, key: newKey() };
      return last.current.key;
    },
    done() { last.current = { body: null, key: null }; },
  };
}

const loadContext = (id) => Promise.all([
  get(`/accounts/${id}`),
  get("/catalog/products"),
  get(`/accounts/${id}/payment-methods`).catch(() => ({ items: [] })),
]).then(([account, catalog, methods]) => ({ account, products: catalog.items, methods: methods.items }));

const priced = (products, currency, months) =>
  products.filter((p) => p.active && p.prices[currency] !== undefined && (!months || p.term_months === months));

// Lines of products and quantities; names like lines[0].quantity, the fields the API's problems name.
function LinesEditor({ t, prefix, lines, setLines, products, currency, error }) {
  const set = (i, k, v) => setLines(lines.map((l, j) => (j === i ? { ...l, [k]: v } : l)));
  return html`<fieldset><legend>${t("sub.products")}</legend>
    ${lines.map((l, i) => html`<div class="row" key=${i}>
      <${Field} label=${`${t("sub.product")} ${i + 1}`} name=${`${prefix}[${i}].product_code`} error=${error}>
        <select onChange=${(e) => set(i, "product_code", e.target.value)}>
          <option value="" selected=${!l.product_code}>-</option>
          ${products.map((p) => html`<option value=${p.code} selected=${p.code === l.product_code}>
            ${p.name} (${p.code}), ${t.money(p.prices[currency], currency)}</option>`)}</select><//>
      <${Field} label=${`${t("sub.quantity")} ${i + 1}`} name=${`${prefix}[${i}].quantity`} error=${error}>
        <input inputmode="numeric" value=${l.quantity} onInput=${(e) => set(i, "quantity", e.target.value)} autocomplete="off" /><//>
      ${lines.length > 1 ? html`<button type="button" class="secondary" onClick=${() => setLines(lines.filter((_, j) => j !== i))}
        aria-label=${`${t("sub.removeLine")} ${i + 1}`}>${t("sub.removeLine")}</button>` : null}
    </div>`)}
    <button type="button" class="secondary" onClick=${() => setLines([...lines, { product_code: "", quantity: "1" }])}>${t("sub.addLine")}</button>
  </fieldset>`;
}

// The lines as the API wants them, or an ApiError naming the first bad field (checked in the browser first).
function readLines(t, prefix, lines) {
  const out = [];
  for (const [i, l] of lines.entries()) {
    if (!l.product_code) throw new ApiError(422, { title: t("sub.product"), detail: t("sub.pickProduct"), field: `${prefix}[${i}].product_code` });
    const q = /^\d+$/.test(String(l.quantity).trim()) ? Number(l.quantity) : 0;
    if (q < 1 || q > 10000) throw new ApiError(422, { title: t("sub.quantity"), detail: String(l.quantity || "-"), field: `${prefix}[${i}].quantity` });
    out.push({ product_code: l.product_code, quantity: q });
  }
  return out;
}

function PreviewTable({ t, preview, currency, testid }) {
  return html`<div class="preview" data-testid=${testid} data-net=${preview.net ?? ""} aria-live="polite">
    <table><thead><tr><th scope="col">${t("sub.product")}</th><th scope="col" class="num">${t("sub.quantity")}</th>
      <th scope="col" class="num">${t("sub.fullPrice")}</th><th scope="col" class="num">${t("sub.days")}</th>
      <th scope="col" class="num">${t("amount")}</th></tr></thead>
      <tbody>${preview.lines.map((l) => html`<tr><td>${l.product_code}</td><td class="num">${l.quantity}</td>
        <td class="num">${t.money(l.full, currency)}</td>
        <td class="num">${l.remainingDays ? `${l.remainingDays} / ${l.termDays}` : t("sub.wholeTerm")}</td>
        <td class="num">${t.money(l.amount, currency)}</td></tr>`)}</tbody>
      <tfoot><tr><th scope="row" colspan="4">${t("sub.estimateNet")}</th>
        <td class="num" data-testid=${`${testid}-net`}>${t.money(preview.net, currency)}</td></tr></tfoot></table>
    <p class="hint-text">${t("sub.estimateNote")}</p>
  </div>`;
}

function Charged({ t, order }) {
  return html`<dl class="charged" data-testid="charged" data-net=${order.net} data-total=${order.total}>
    <div><dt>${t("sub.order")}</dt><dd><code>${order.order_id}</code></dd></div>
    <div><dt>${t("sub.net")}</dt><dd>${t.money(order.net, order.currency)}</dd></div>
    <div><dt>${t("sub.vat")}</dt><dd>${t.money(order.vat, order.currency)}</dd></div>
    <div><dt>${t("sub.charged")}</dt><dd data-testid="charged-total">${t.money(order.total, order.currency)}</dd></div>
    <div><dt>${t("method")}</dt><dd>${order.payment && order.payment.method}</dd></div>
  </dl>`;
}

function MethodSelect({ t, name, methods, value, error, label }) {
  const cards = methods.filter((m) => m.type === "card");
  return html`<${Field} label=${label} name=${name} error=${error}>
    <select>
      <option value="" selected=${!value}>${t("sub.accountDefault")}</option>
      <option value="balance" selected=${value === "balance"}>${t("pm.balance")}</option>
      ${cards.map((m) => html`<option value=${m.payment_method_id} selected=${value === m.payment_method_id}>${describeMethod(t, m)}</option>`)}
    </select><//>`;
}

function CreateSubscription({ t, id, ctx, onCreated }) {
  const currency = ctx.account.currency;
  const terms = [...new Set(priced(ctx.products, currency).map((p) => p.term_months))].sort((a, b) => a - b);
  const [months, setMonths] = useState(terms[0] || 12);
  const [lines, setLines] = useState([{ product_code: "", quantity: "1" }]);
  const [start, setStart] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const action = useActionKey();
  const today = todayIso();
  const products = priced(ctx.products, currency, months);
  const chosen = lines.filter((l) => l.product_code && /^\d+$/.test(String(l.quantity).trim()) && Number(l.quantity) > 0)
    .map((l) => ({ product_code: l.product_code, quantity: Number(l.quantity),
      unit_price: products.find((p) => p.code === l.product_code)?.prices[currency] ?? 0 }));
  const preview = chosen.length ? firstTermPreview(chosen, start, months, today) : null;
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const form = new FormData(e.target);
    try {
      const body = { term_months: months, lines: readLines(t, "lines", lines), auto_renew: form.get("auto_renew") === "on",
        inventory_billing: form.get("inventory_billing") };
      if (start) body.start_date = start;
      const pm = form.get("payment_method_id");
      if (pm) body.payment_method_id = pm;
      setBusy(true);
      const sub = await post(`/accounts/${id}/subscriptions`, body, { "Idempotency-Key": action.keyFor(body) });
      action.done();
      const order = sub.orders.length ? await get(`/accounts/${id}/orders/${encodeURIComponent(sub.orders[0])}`).catch(() => null) : null;
      onCreated(sub, order, preview);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return html`<form onSubmit=${submit} data-testid="new-subscription" aria-labelledby="sub-new-h">
    <h3 id="sub-new-h">${t("sub.new")}</h3>
    <${Field} label=${t("sub.term")} name="term_months" error=${error}>
      <select onChange=${(e) => { setMonths(Number(e.target.value)); setLines([{ product_code: "", quantity: "1" }]); }}>
        ${terms.map((m) => html`<option value=${m} selected=${m === months}>${t("sub.months").replace("{n}", m)}</option>`)}</select><//>
    ${terms.length === 0 ? html`<p>${t("sub.noProducts")}</p>` : null}
    <${LinesEditor} t=${t} prefix="lines" lines=${lines} setLines=${setLines} products=${products} currency=${currency} error=${error} />
    <${Field} label=${t("sub.startDate")} name="start_date" error=${error}>
      <input type="date" value=${start} onInput=${(e) => setStart(e.target.value)} aria-describedby="sub-start-hint" /><//>
    <p id="sub-start-hint" class="hint">${t("sub.startHint")}</p>
    <div class="field check"><label><input type="checkbox" name="auto_renew" checked /> ${t("sub.autoRenew")}</label></div>
    <${MethodSelect} t=${t} name="payment_method_id" label=${t("sub.paysWith")} methods=${ctx.methods} value="" error=${error} />
    <${Field} label=${t("sub.inventoryBilling")} name="inventory_billing" error=${error}>
      <select><option value="immediate">${t("sub.billing.immediate")}</option>
        <option value="next_invoice">${t("sub.billing.next_invoice")}</option></select><//>
    ${preview && preview.error ? html`<p class="problem" role="alert">${t("sub.startTooFar")}</p>` : null}
    ${preview && !preview.error ? html`<${PreviewTable} t=${t} preview=${preview} currency=${currency} testid="preview" />` : null}
    <${Problem} t=${t} error=${error} />
    ${busy ? html`<div role="status" data-testid="progress"><progress aria-label=${t("sub.creating")}></progress> ${t("sub.creating")}</div>` : null}
    <button type="submit" disabled=${busy}>${t("sub.confirm")}</button>
  </form>`;
}

function Forecast({ t, id }) {
  const { data, error } = useLoad(() => get(`/accounts/${id}/renewals/forecast`), [id]);
  if (error) return html`<${Problem} t=${t} error=${error} />`;
  if (!data) return html`<p role="status">${t("loading")}</p>`;
  const m = (v) => t.money(v, data.currency);
  return html`<section aria-labelledby="sub-fc-h" data-testid="forecast" class="forecast">
    <h3 id="sub-fc-h">${t("sub.forecast")} (${t("to")} ${t.date(data.window_end)})</h3>
    <dl class="figures">
      <div><dt>${t("sub.due")}</dt><dd>${m(data.due)}</dd></div>
      <div><dt>${t("sub.canPay")}</dt><dd>${m(data.available)}</dd></div>
    </dl>
    ${data.short ? html`<p class="problem" role="alert">${t("sub.short").replace("{amount}", m(data.shortfall))}
      <a href=${`#/a/${id}/top-up`}>${t("topUp")}</a></p>` : html`<p>${t("sub.notShort")}</p>`}
    ${data.subscriptions.length ? html`<ul>${data.subscriptions.map((s) => html`<li>
      <a href=${`#/a/${id}/subscriptions/${s.subscription_id}`}>${s.subscription_id}</a>: ${t.date(s.renewal_date)},
      ${t("sub.termN").replace("{n}", s.term)}, ${m(s.amount)}</li>`)}</ul>` : null}
  </section>`;
}

const itemsText = (items) => items.map((l) => `${l.quantity} x ${l.product_code}`).join(", ");

function SubscriptionList({ t, id }) {
  const { data, error, reload } = useLoad(() => get(`/accounts/${id}/subscriptions`), [id]);
  const ctx = useLoad(() => loadContext(id), [id]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState(null);
  return html`<section aria-labelledby="sub-h"><h2 id="sub-h">${t("sub.tab")}</h2>
    <${Forecast} t=${t} id=${id} />
    <${Problem} t=${t} error=${error || ctx.error} />
    ${created ? html`<div class="created" role="status" data-testid="created">
      <p class="ok">${t("sub.created")} <a href=${`#/a/${id}/subscriptions/${created.sub.subscription_id}`}>${created.sub.subscription_id}</a></p>
      ${created.preview && created.preview.net !== null ? html`<p>${t("sub.previewWas")} <span data-testid="preview-was" data-net=${created.preview.net}>${t.money(created.preview.net, created.sub.currency)}</span></p>` : null}
      ${created.order ? html`<${Charged} t=${t} order=${created.order} />` : null}</div>` : null}
    ${creating && ctx.data ? html`<${CreateSubscription} t=${t} id=${id} ctx=${ctx.data}
        onCreated=${(sub, order, preview) => { setCreated({ sub, order, preview }); setCreating(false); reload(); }} />`
      : html`<p><button type="button" onClick=${() => { setCreating(true); setCreated(null); }} disabled=${!ctx.data}>${t("sub.new")}</button></p>`}
    ${data ? (data.items.length === 0 ? html`<p>${t("noEntries")}</p>` : html`<table data-testid="subscriptions"><thead><tr>
        <th scope="col">${t("sub.id")}</th><th scope="col">${t("status")}</th><th scope="col">${t("sub.termCol")}</th>
        <th scope="col">${t("sub.inventory")}</th><th scope="col">${t("sub.renews")}</th></tr></thead>
      <tbody>${data.items.map((s) => html`<tr data-subscription=${s.subscription_id} data-state=${s.state}>
        <td><a href=${`#/a/${id}/subscriptions/${s.subscription_id}`}>${s.subscription_id}</a></td>
        <td>${t(`sub.state.${s.state}`)}</td>
        <td>${t.date(s.term_start)} - ${t.date(s.term_end)}</td>
        <td>${itemsText(s.inventory)}</td>
        <td>${s.renewal_date ? t.date(s.renewal_date) : t("sub.noRenewal")}</td></tr>`)}</tbody></table>`)
      : html`<p role="status">${t("loading")}</p>`}
  </section>`;
}

function AddInventory({ t, id, sub, ctx, onDone }) {
  const currency = sub.currency;
  const products = priced(ctx.products, currency, sub.term_months);
  const [lines, setLines] = useState([{ product_code: sub.inventory[0]?.product_code || "", quantity: "1" }]);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(null);
  const action = useActionKey();
  const today = todayIso();
  const chosen = lines.filter((l) => l.product_code && /^\d+$/.test(String(l.quantity).trim()) && Number(l.quantity) > 0)
    .map((l) => ({ product_code: l.product_code, quantity: Number(l.quantity),
      unit_price: products.find((p) => p.code === l.product_code)?.prices[currency] ?? 0 }));
  const preview = chosen.length ? inventoryPreview(chosen, sub.term_start, sub.term_months, today) : null;
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setResult(null);
    try {
      const body = { lines: readLines(t, "lines", lines) };
      setBusy(true);
      const r = await post(`/accounts/${id}/subscriptions/${sub.subscription_id}/inventory`, body,
        { "Idempotency-Key": action.keyFor(body) });
      action.done();
      setResult(r);
      onDone(r.subscription);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return html`<form onSubmit=${submit} data-testid="add-inventory" aria-labelledby="sub-inv-h">
    <h3 id="sub-inv-h">${t("sub.addInventory")}</h3>
    <p class="hint-text">${t("sub.addInventoryHint")}</p>
    <${LinesEditor} t=${t} prefix="lines" lines=${lines} setLines=${setLines} products=${products} currency=${currency} error=${error} />
    ${preview && !preview.error ? html`<${PreviewTable} t=${t} preview=${preview} currency=${currency} testid="inventory-preview" />` : null}
    <${Problem} t=${t} error=${error} />
    ${busy ? html`<div role="status"><progress aria-label=${t("pm.working")}></progress> ${t("pm.working")}</div>` : null}
    ${result ? html`<p role="status" class="ok" data-testid="inventory-added">${result.billing === "immediate"
      ? t("sub.inventoryCharged").replace("{amount}", t.money(result.amount, currency)).replace("{order}", result.order_id)
      : t("sub.inventoryPending")}</p>` : null}
    <button type="submit" disabled=${busy}>${t("sub.confirm")}</button>
  </form>`;
}

function RenewalInventory({ t, id, sub, ctx, onDone }) {
  const products = priced(ctx.products, sub.currency, sub.term_months);
  const [lines, setLines] = useState(sub.renewal_inventory.map((l) => ({ product_code: l.product_code, quantity: String(l.quantity) })));
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setSaved(false);
    try {
      const body = { renewal_items: readLines(t, "renewal_items", lines) };
      setBusy(true);
      onDone(await request("PATCH", `/accounts/${id}/subscriptions/${sub.subscription_id}`, { body }));
      setSaved(true);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return html`<form onSubmit=${submit} data-testid="renewal-inventory" aria-labelledby="sub-ren-h">
    <h3 id="sub-ren-h">${t("sub.renewalInventory")}</h3>
    <p class="hint-text">${t("sub.renewalHint")}</p>
    <${LinesEditor} t=${t} prefix="renewal_items" lines=${lines} setLines=${setLines} products=${products} currency=${sub.currency} error=${error} />
    <${Problem} t=${t} error=${error} />
    ${busy ? html`<p role="status">${t("pm.working")}</p>` : null}
    ${saved && !busy ? html`<p role="status" class="ok">${t("pm.saved")}</p>` : null}
    <button type="submit" disabled=${busy}>${t("pm.save")}</button>
  </form>`;
}

function Settings({ t, id, sub, ctx, onDone }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setSaved(false);
    const form = new FormData(e.target);
    const body = { auto_renew: form.get("auto_renew") === "on", payment_method_id: form.get("payment_method_id") || null,
      inventory_billing: form.get("inventory_billing") };
    try {
      setBusy(true);
      onDone(await request("PATCH", `/accounts/${id}/subscriptions/${sub.subscription_id}`, { body }));
      setSaved(true);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return html`<form onSubmit=${submit} data-testid="subscription-settings" aria-labelledby="sub-set-h" key=${sub.version}>
    <h3 id="sub-set-h">${t("sub.settings")}</h3>
    <div class="field check"><label><input type="checkbox" name="auto_renew" id="auto_renew" checked=${sub.auto_renew} /> ${t("sub.autoRenew")}</label></div>
    <${MethodSelect} t=${t} name="payment_method_id" label=${t("sub.paysWith")} methods=${ctx.methods} value=${sub.payment_method_id || ""} error=${error} />
    <${Field} label=${t("sub.inventoryBilling")} name="inventory_billing" error=${error}>
      <select>${["immediate", "next_invoice"].map((v) => html`<option value=${v} selected=${sub.inventory_billing === v}>${t(`sub.billing.${v}`)}</option>`)}</select><//>
    <${Problem} t=${t} error=${error} />
    ${busy ? html`<p role="status">${t("pm.working")}</p>` : null}
    ${saved && !busy ? html`<p role="status" class="ok" data-testid="settings-saved">${t("pm.saved")}</p>` : null}
    <button type="submit" disabled=${busy}>${t("pm.save")}</button>
  </form>`;
}

function SubscriptionDetail({ t, id, sid }) {
  const loaded = useLoad(() => get(`/accounts/${id}/subscriptions/${encodeURIComponent(sid)}`), [id, sid]);
  const ctx = useLoad(() => loadContext(id), [id]);
  const [fresh, setFresh] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const sub = fresh && fresh.subscription_id === sid ? fresh : loaded.data;
  if (loaded.error) return html`<${Problem} t=${t} error=${loaded.error} />`;
  if (!sub || !ctx.data) return html`<p role="status">${t("loading")}</p>`;
  const act = async (what) => {
    setError(null); setBusy(true);
    try { setFresh(await post(`/accounts/${id}/subscriptions/${sid}/${what}`)); } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const method = sub.payment_method_id ? (ctx.data.methods.find((m) => m.payment_method_id === sub.payment_method_id) || { type: sub.payment_method_id === "balance" ? "balance" : "card", payment_method_id: sub.payment_method_id }) : null;
  return html`<section aria-labelledby="sub-d-h" data-testid="subscription" data-state=${sub.state}>
    <p><a href=${`#/a/${id}/subscriptions`}>${t("sub.back")}</a></p>
    <h2 id="sub-d-h">${t("sub.one")} <code>${sub.subscription_id}</code></h2>
    <dl class="facts">
      <div><dt>${t("status")}</dt><dd data-testid="state">${t(`sub.state.${sub.state}`)}${sub.inventory_usable ? "" : ` (${t("sub.unusable")})`}</dd></div>
      <div><dt>${t("sub.termCol")}</dt><dd>${t("sub.termN").replace("{n}", sub.term)}: ${t.date(sub.term_start)} - ${t.date(sub.term_end)} (${t("sub.months").replace("{n}", sub.term_months)})</dd></div>
      <div><dt>${t("sub.startDate")}</dt><dd>${t.date(sub.start_date)}</dd></div>
      <div><dt>${t("sub.renews")}</dt><dd>${sub.renewal_date ? t.date(sub.renewal_date) : t("sub.noRenewal")}</dd></div>
      <div><dt>${t("sub.paysWith")}</dt><dd>${method ? describeMethod(t, method) : t("sub.accountDefault")}</dd></div>
      <div><dt>${t("sub.inventory")}</dt><dd data-testid="inventory">${itemsText(sub.inventory)}</dd></div>
      <div><dt>${t("sub.renewalInventory")}</dt><dd data-testid="renewal-items">${itemsText(sub.renewal_inventory)}</dd></div>
      <div><dt>${t("sub.orders")}</dt><dd>${sub.orders.map((o) => html`<code>${o}</code> `)}</dd></div>
      ${(sub.pending_charges || []).length ? html`<div><dt>${t("sub.pending")}</dt><dd>${sub.pending_charges.map((c) =>
        html`<span>${t.date(c.added_on)}: ${itemsText(c.lines)} (${c.state})</span> `)}</dd></div>` : null}
    </dl>
    <div class="actions">
      ${sub.state === "active" ? html`<button type="button" onClick=${() => act("suspend")} disabled=${busy}>${t("sub.suspend")}</button>` : null}
      ${sub.state === "suspended" ? html`<button type="button" onClick=${() => act("reactivate")} disabled=${busy}>${t("sub.reactivate")}</button>` : null}
      ${busy ? html`<span role="status">${t("pm.working")}</span>` : null}
    </div>
    <${Problem} t=${t} error=${error} />
    ${sub.state === "active" ? html`<${AddInventory} t=${t} id=${id} sub=${sub} ctx=${ctx.data} onDone=${setFresh} />` : null}
    ${sub.state !== "expired" ? html`<${RenewalInventory} t=${t} id=${id} sub=${sub} ctx=${ctx.data} onDone=${setFresh} key=${`r${sub.version}`} />
      <${Settings} t=${t} id=${id} sub=${sub} ctx=${ctx.data} onDone=${setFresh} />` : null}
  </section>`;
}

function Subscriptions({ t, id, route }) {
  return route && route[0] ? html`<${SubscriptionDetail} t=${t} id=${id} sid=${route[0]} />` : html`<${SubscriptionList} t=${t} id=${id} />`;
}

ACCOUNT_PAGES.push({ path: "subscriptions", key: "sub.tab", component: Subscriptions });

addTexts({
  en: {
    "sub.tab": "Subscriptions", "sub.new": "New subscription", "sub.one": "Subscription", "sub.back": "All subscriptions",
    "sub.products": "Certificates", "sub.product": "Product", "sub.quantity": "Quantity", "sub.addLine": "Add a product",
    "sub.removeLine": "Remove", "sub.pickProduct": "Choose a product", "sub.term": "Term", "sub.months": "{n} months",
    "sub.noProducts": "No product of the catalog is priced in this account's currency.",
    "sub.startDate": "Start date", "sub.startHint": "Empty: today. An earlier date charges only the part of the term that remains; a later one (within a term) is charged in full now.",
    "sub.autoRenew": "Renew automatically at the end of the term", "sub.paysWith": "Pays with",
    "sub.accountDefault": "The account's default method", "sub.inventoryBilling": "Certificates added mid-term are charged",
    "sub.billing.immediate": "At once", "sub.billing.next_invoice": "On the next monthly invoice",
    "sub.fullPrice": "Whole term", "sub.days": "Days charged", "sub.wholeTerm": "whole term",
    "sub.estimateNet": "Estimate (net, before any VAT)",
    "sub.estimateNote": "An estimate computed here with the server's rule; the server's answer is final and is shown after you confirm.",
    "sub.startTooFar": "This start date is outside what can be charged: at most one term minus a day back, or one term ahead.",
    "sub.confirm": "Confirm and pay", "sub.creating": "Charging and creating the subscription...",
    "sub.created": "The subscription was created:", "sub.previewWas": "The estimate was",
    "sub.order": "Order", "sub.net": "Net", "sub.vat": "VAT", "sub.charged": "Charged",
    "sub.forecast": "Renewals coming up", "sub.due": "Due for renewals", "sub.canPay": "Available to pay them",
    "sub.short": "The renewals cost more than the balance and credit can pay: top up at least {amount}.",
    "sub.notShort": "The balance and credit cover the renewals coming up.", "sub.termN": "term {n}",
    "sub.id": "Subscription", "sub.termCol": "Current term", "sub.inventory": "Inventory", "sub.renews": "Renews",
    "sub.noRenewal": "Does not renew", "sub.state.active": "Active", "sub.state.suspended": "Suspended",
    "sub.state.expired": "Expired", "sub.unusable": "inventory cannot be used now", "sub.orders": "Paid by orders",
    "sub.pending": "Waiting for the monthly invoice", "sub.suspend": "Suspend", "sub.reactivate": "Reactivate",
    "sub.addInventory": "Add certificates now", "sub.addInventoryHint": "Usable at once, charged for the rest of this term. They do not change the renewal inventory.",
    "sub.inventoryCharged": "Added and charged {amount} (order {order}).", "sub.inventoryPending": "Added; charged by the next monthly invoice.",
    "sub.renewalInventory": "Renewal inventory", "sub.renewalHint": "The certificates of the next term, charged at renewal; nothing is charged now.",
    "sub.settings": "Settings",
  },
  sk: {
    "sub.tab": "Predplatné", "sub.new": "Nové predplatné", "sub.one": "Predplatné", "sub.back": "Všetky predplatné",
    "sub.products": "Certifikáty", "sub.product": "Produkt", "sub.quantity": "Počet", "sub.addLine": "Pridať produkt",
    "sub.removeLine": "Odstrániť", "sub.pickProduct": "Vyberte produkt", "sub.term": "Obdobie", "sub.months": "{n} mesiacov",
    "sub.noProducts": "Žiadny produkt katalógu nemá cenu v mene tohto účtu.",
    "sub.startDate": "Začiatok", "sub.startHint": "Prázdne: dnes. Skorší dátum účtuje len zostávajúcu časť obdobia; neskorší (do jedného obdobia) sa účtuje celý hneď.",
    "sub.autoRenew": "Automaticky obnoviť na konci obdobia", "sub.paysWith": "Platí sa",
    "sub.accountDefault": "Predvolenou metódou účtu", "sub.inventoryBilling": "Certifikáty pridané počas obdobia sa účtujú",
    "sub.billing.immediate": "Hneď", "sub.billing.next_invoice": "Na najbližšej mesačnej faktúre",
    "sub.fullPrice": "Celé obdobie", "sub.days": "Účtované dni", "sub.wholeTerm": "celé obdobie",
    "sub.estimateNet": "Odhad (bez DPH)",
    "sub.estimateNote": "Odhad vypočítaný tu podľa pravidla servera; platí odpoveď servera, zobrazí sa po potvrdení.",
    "sub.startTooFar": "Tento začiatok nemožno účtovať: najviac jedno obdobie mínus deň dozadu alebo jedno obdobie dopredu.",
    "sub.confirm": "Potvrdiť a zaplatiť", "sub.creating": "Účtuje sa a zakladá predplatné...",
    "sub.created": "Predplatné bolo založené:", "sub.previewWas": "Odhad bol",
    "sub.order": "Objednávka", "sub.net": "Bez DPH", "sub.vat": "DPH", "sub.charged": "Zaúčtované",
    "sub.forecast": "Blížiace sa obnovenia", "sub.due": "Na obnovenia treba", "sub.canPay": "K dispozícii na ich platbu",
    "sub.short": "Obnovenia stoja viac, než pokryje zostatok a úver: dobite aspoň {amount}.",
    "sub.notShort": "Zostatok a úver pokryjú blížiace sa obnovenia.", "sub.termN": "obdobie {n}",
    "sub.id": "Predplatné", "sub.termCol": "Aktuálne obdobie", "sub.inventory": "Certifikáty", "sub.renews": "Obnoví sa",
    "sub.noRenewal": "Neobnoví sa", "sub.state.active": "Aktívne", "sub.state.suspended": "Pozastavené",
    "sub.state.expired": "Skončené", "sub.unusable": "certifikáty teraz nemožno použiť", "sub.orders": "Zaplatené objednávkami",
    "sub.pending": "Čaká na mesačnú faktúru", "sub.suspend": "Pozastaviť", "sub.reactivate": "Obnoviť činnosť",
    "sub.addInventory": "Pridať certifikáty hneď", "sub.addInventoryHint": "Použiteľné hneď, účtované za zvyšok tohto obdobia. Nemenia certifikáty na obnovenie.",
    "sub.inventoryCharged": "Pridané a zaúčtované {amount} (objednávka {order}).", "sub.inventoryPending": "Pridané; zaúčtuje sa na najbližšej mesačnej faktúre.",
    "sub.renewalInventory": "Certifikáty na obnovenie", "sub.renewalHint": "Certifikáty ďalšieho obdobia, účtované pri obnovení; teraz sa nič neúčtuje.",
    "sub.settings": "Nastavenia",
  },
});
