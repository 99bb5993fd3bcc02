// The portal: hash routes (#/login, #/accounts, #/a/<id>[/transactions|/top-up|/documents]) over the same API.
import { h, render } from "preact";
import { useEffect, useState } from "preact/hooks";
import htm from "htm";
import { ApiError, download, get, poll, post, session, setApiBase } from "./api.js";
import { ACCOUNT_PAGES, Field, Pager, Problem, TOP_PAGES, newKey, useLoad, usePages, useRoute } from "./ui.js";
import "./pages/index.js";
import { cognitoSignIn, cognitoSignOutUrl, completeCognitoSignIn, devSignIn } from "./auth.js";
import { LANGUAGES, initialLanguage, toMinor, translator } from "./i18n.js";

const html = htm.bind(h);
const ENTRY_TYPES = [
  "adjustment_credit", "adjustment_debit", "deposit_card", "deposit_bank_transfer", "deposit_reversal",
  "order_balance", "order_credit", "order_card", "order_gift_card", "order_cancellation", "order_refund",
];
function Login({ t, config, onSignedIn }) {
  const [role, setRole] = useState("customer");
  const [accountId, setAccountId] = useState("");
  const [partnerId, setPartnerId] = useState("");
  const [error, setError] = useState(null);
  if (config.auth !== "local") {
    return html`<main><h1>${t("signIn")}</h1>
      <button onClick=${() => cognitoSignIn(config)}>${t("cognitoLogin")}</button></main>`;
  }
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    try {
      await devSignIn(role, role === "customer" ? accountId.trim() : "", role === "partner" ? partnerId.trim() : "");
      onSignedIn();
    } catch (err) { setError(err); }
  };
  return html`<main>
    <h1>${t("devLogin")}</h1>
    <p class="local-only" role="note">${t("devLoginNote")}</p>
    <form onSubmit=${submit} data-testid="dev-login">
      <${Field} label=${t("role")} name="role" error=${error}>
        <select value=${role} onChange=${(e) => setRole(e.target.value)}>
          <option value="customer">${t("customer")}</option>
          <option value="partner">${t("partner")}</option>
          <option value="operator">${t("operator")}</option>
        </select>
      <//>
      ${role === "customer" ? html`<${Field} label=${t("accountId")} name="account_id" error=${error}>
        <input value=${accountId} onInput=${(e) => setAccountId(e.target.value)} required autocomplete="off" /><//>` : null}
      ${role === "partner" ? html`<${Field} label=${t("partnerId")} name="partner_id" error=${error}>
        <input value=${partnerId} onInput=${(e) => setPartnerId(e.target.value)} required autocomplete="off" /><//>` : null}
      <${Problem} t=${t} error=${error} />
      <button type="submit">${t("signIn")}</button>
    </form>
  </main>`;
}

function AccountNav({ t, id, here }) {
  const tabs = [["", "overview"], ["transactions", "transactions"], ["top-up", "topUp"], ["documents", "documents"],
    ...ACCOUNT_PAGES.filter((p) => !p.roles || p.roles.includes(session.claims?.["custom:role"])).map((p) => [p.path, p.key])];
  return html`<nav aria-label=${t("overview")} class="tabs">${tabs.map(([path, key]) => html`
    <a href=${`#/a/${id}${path ? "/" + path : ""}`} aria-current=${here === path ? "page" : undefined}>${t(key)}</a>`)}</nav>`;
}

function Overview({ t, id }) {
  const { data: a, error } = useLoad(() => get(`/accounts/${id}`), [id]);
  if (error) return html`<${Problem} t=${t} error=${error} />`;
  if (!a) return html`<p role="status">${t("loading")}</p>`;
  const m = (v) => t.money(v, a.currency);
  return html`<section aria-labelledby="ov-h">
    <h2 id="ov-h">${a.company.name}</h2>
    <dl class="figures">
      <div><dt>${t("balance")}</dt><dd data-testid="balance" data-minor=${a.balance}>${m(a.balance)}</dd></div>
      <div><dt>${t("creditLimit")}</dt><dd data-testid="credit-limit">${m(a.credit_limit)}</dd></div>
      <div><dt>${t("available")}</dt><dd data-testid="available">${m(a.available)}</dd></div>
      <div><dt>${t("held")}</dt><dd data-testid="held">${m(a.held)}</dd></div>
    </dl>
    <p>${t("paymentReference")}: <code>${a.payment_reference || "-"}</code></p>
  </section>`;
}

function Transactions({ t, id, currency }) {
  const pages = usePages(`/accounts/${id}/transactions`, { type: "", from: "", to: "" });
  const { data, error } = pages;
  const apply = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    pages.setFilters({ type: f.get("type") || "", from: f.get("from") || "", to: f.get("to") || "" });
  };
  return html`<section aria-labelledby="tx-h"><h2 id="tx-h">${t("transactions")}</h2>
    <form class="filters" onSubmit=${apply}>
      <${Field} label=${t("type")} name="type" error=${error}><select>
        <option value="">${t("any")}</option>${ENTRY_TYPES.map((v) => html`<option value=${v}>${t.code("entry", v)}</option>`)}
      </select><//>
      <${Field} label=${t("from")} name="from" error=${error}><input type="date" /><//>
      <${Field} label=${t("to")} name="to" error=${error}><input type="date" /><//>
      <button type="submit">${t("filter")}</button>
    </form>
    <${Problem} t=${t} error=${error} />
    ${data ? html`<table data-testid="transactions"><thead><tr>
        <th scope="col">${t("date")}</th><th scope="col">${t("type")}</th><th scope="col">${t("description")}</th>
        <th scope="col" class="num">${t("amount")}</th><th scope="col" class="num">${t("balanceAfter")}</th></tr></thead>
      <tbody>${data.items.map((e) => html`<tr data-entry-type=${e.type}>
        <td>${t.dateTime(e.created_at)}</td><td>${t.code("entry", e.type)}</td><td>${e.description}</td>
        <td class="num">${t.money(e.amount, e.currency)}</td><td class="num">${t.money(e.balance_after, e.currency)}</td>
      </tr>`)}</tbody></table>
      ${data.items.length === 0 ? html`<p>${t("noEntries")}</p>` : null}
      <${Pager} t=${t} pages=${pages} />` : html`<p role="status">${t("loading")}</p>`}
  </section>`;
}

// A card top-up on AWS goes to the provider's hosted checkout page, which sends the browser back to
// #/a/<id>/top-up?checkout=done|cancelled; the deposit being paid is remembered in sessionStorage meanwhile.
const checkoutKey = (id) => `ac.checkout.${id}`;
const hashQuery = () => new URLSearchParams(location.hash.split("?")[1] || "");

function TopUp({ t, id, config }) {
  const { data: account } = useLoad(() => get(`/accounts/${id}`), [id]);
  const [method, setMethod] = useState("card");
  const [amount, setAmount] = useState("");
  const [saveCard, setSaveCard] = useState(false);
  const [error, setError] = useState(null);
  const [deposit, setDeposit] = useState(null);
  // null | "redirecting" | "waiting" | "credited" | "failed" | "cancelled"
  const [progress, setProgress] = useState(null);
  const [pdf, setPdf] = useState(null); // null | "preparing"
  const waitForPayment = async (depositId) => {
    setProgress("waiting");
    const done = await poll(() => get(`/accounts/${id}/deposits/${depositId}`),
      (d) => d.state !== "pending", { onTick: setDeposit, timeout: 120000 });
    setProgress(done.state === "credited" ? "credited" : "failed");
  };
  useEffect(() => {
    const query = hashQuery();
    const returned = query.get("checkout");
    const remembered = sessionStorage.getItem(checkoutKey(id));
    const checkoutSession = query.get("session"); // Stripe names its session: the deposit's payment_id
    if (!returned || (!remembered && !checkoutSession)) return;
    sessionStorage.removeItem(checkoutKey(id));
    history.replaceState(null, "", `#/a/${id}/top-up`);
    if (returned === "cancelled") {
      if (remembered) get(`/accounts/${id}/deposits/${remembered}`).then(setDeposit, setError);
      setProgress("cancelled");
      return;
    }
    // Another tab (or a lost sessionStorage) comes back with only the session id: find its deposit.
    const find = remembered ? Promise.resolve(remembered)
      : get(`/accounts/${id}/deposits?limit=100`).then((page) => {
        const match = page.items.find((d) => d.payment_id === checkoutSession);
        if (!match) throw new ApiError(404, { title: t("checkoutNotFound"), detail: checkoutSession });
        return match.deposit_id;
      });
    find.then(waitForPayment).catch((err) => { setProgress(null); setError(err); });
  }, [id]);
  if (!account) return html`<p role="status">${t("loading")}</p>`;
  const digits = t.digits(account.currency);
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setDeposit(null); setProgress(null);
    const minor = toMinor(amount, digits);
    if (minor === null || minor <= 0) {
      setError(new ApiError(422, { title: t("amount"), detail: t("amountInvalid"), field: "amount" }));
      return;
    }
    try {
      const body = method === "card" ? { method, amount: minor, save_card: saveCard } : { method, amount: minor };
      const created = await post(`/accounts/${id}/deposits`, body, { "Idempotency-Key": newKey() });
      setDeposit(created);
      const url = created.checkout && created.checkout.checkout_url;
      if (created.method === "card" && !config.sandbox && url) {
        sessionStorage.setItem(checkoutKey(id), created.deposit_id);
        setProgress("redirecting");
        location.assign(url);
      }
    } catch (err) { setError(err); }
  };
  // The proforma's PDF is rendered just after the top-up is created: a 404 meanwhile means "a moment".
  const proformaPdf = async (number) => {
    setError(null); setPdf("preparing");
    const path = `/accounts/${id}/documents/${encodeURIComponent(number)}/pdf`;
    try {
      await poll(() => download(path, `${number}.pdf`).then(() => true, (err) => {
        if (err instanceof ApiError && err.status === 404) return false;
        throw err;
      }), (ok) => ok, { every: 1000, timeout: 30000 });
    } catch (err) { setError(err); } finally { setPdf(null); }
  };
  const sandbox = async (outcome) => {
    setError(null);
    setProgress("waiting");
    try {
      const r = await fetch("/local/sandbox/pay", {
        method: "POST", headers: { "content-type": "application/json", Authorization: `Bearer ${session.token}` },
        body: JSON.stringify({ account_id: id, deposit_id: deposit.deposit_id, outcome }),
      });
      if (!r.ok) throw new ApiError(r.status, await r.json());
      await waitForPayment(deposit.deposit_id);
    } catch (err) { setProgress(null); setError(err); }
  };
  const pf = deposit && deposit.proforma;
  return html`<section aria-labelledby="tu-h"><h2 id="tu-h">${t("topUp")}</h2>
    <form onSubmit=${submit} data-testid="top-up">
      <fieldset><legend>${t("method")}</legend>
        <label><input type="radio" name="method" value="card" checked=${method === "card"} onChange=${() => setMethod("card")} /> ${t("card")}</label>
        <label><input type="radio" name="method" value="bank_transfer" checked=${method === "bank_transfer"} onChange=${() => setMethod("bank_transfer")} /> ${t("bankTransfer")}</label>
      </fieldset>
      <${Field} label=${`${t("amountMajor")} (${account.currency})`} name="amount" error=${error}>
        <input inputmode="decimal" value=${amount} onInput=${(e) => setAmount(e.target.value)} required autocomplete="off" />
      <//>
      ${method === "card" ? html`<p class="check"><label><input type="checkbox" id="save_card" checked=${saveCard}
        onChange=${(e) => setSaveCard(e.target.checked)} /> ${t("saveCard")}</label></p>` : null}
      <${Problem} t=${t} error=${error} />
      <button type="submit">${t("pay")}</button>
    </form>
    ${deposit && deposit.method === "card" && !progress ? (config.sandbox ? html`<div class="sandbox local-only" data-testid="sandbox">
        <h3>${t("sandboxTitle")}</h3><p>${t.money(deposit.amount, deposit.currency)}</p>
        <button onClick=${() => sandbox("pay")}>${t("sandboxPay")}</button>
        <button onClick=${() => sandbox("fail")}>${t("sandboxDecline")}</button></div>`
      : html`<p>${t("stripeNote")} ${deposit.checkout && deposit.checkout.checkout_url
        ? html`<a href=${deposit.checkout.checkout_url}>${t("pay")}</a>` : null}</p>`) : null}
    ${progress === "redirecting" ? html`<p role="status">${t("redirecting")}</p>` : null}
    ${progress === "cancelled" ? html`<p role="status" data-testid="cancelled">${t("checkoutCancelled")}</p>` : null}
    ${progress === "waiting" ? html`<div role="status" data-testid="progress"><progress aria-label=${t("waiting")}></progress> ${t("waiting")}</div>` : null}
    ${progress === "credited" ? html`<p role="status" class="ok" data-testid="credited">${t("credited")} <a href=${`#/a/${id}`}>${t("overview")}</a></p>` : null}
    ${progress === "failed" ? html`<p role="alert" class="problem">${t("failed")} ${deposit.failure_message || ""}</p>` : null}
    ${pf ? html`<div class="proforma" data-testid="proforma"><h3>${t("proforma")} ${pf.number}</h3><dl>
        <div><dt>${t("amount")}</dt><dd>${t.money(pf.amount, pf.currency)}</dd></div>
        <div><dt>${t("paymentReference")}</dt><dd><code>${pf.payment_reference}</code></dd></div>
        <div><dt>${t("dueDate")}</dt><dd>${t.date(pf.due_date)}</dd></div>
        <div><dt>${t("payee")}</dt><dd>${pf.seller.name}</dd></div>
        <div><dt>${t("iban")}</dt><dd><code>${pf.seller.iban}</code></dd></div>
        <div><dt>${t("bic")}</dt><dd><code>${pf.seller.bic || "-"}</code></dd></div>
      </dl><button onClick=${() => print()}>${t("print")}</button>
      <button onClick=${() => proformaPdf(pf.number)} disabled=${pdf === "preparing"}>${t("downloadPdf")}</button>
      ${pdf === "preparing" ? html`<span role="status"> ${t("pdfPreparing")}</span>` : null}</div>` : null}
  </section>`;
}

function Documents({ t, id }) {
  const { data, error } = useLoad(() => get(`/accounts/${id}/documents?limit=50`), [id]);
  const [dlError, setDlError] = useState(null);
  const save = (doc, ext) => download(`/accounts/${id}/documents/${encodeURIComponent(doc.number)}/${ext}`,
    `${doc.number}.${ext}`).catch(setDlError);
  if (error) return html`<${Problem} t=${t} error=${error} />`;
  if (!data) return html`<p role="status">${t("loading")}</p>`;
  return html`<section aria-labelledby="doc-h"><h2 id="doc-h">${t("documents")}</h2>
    <${Problem} t=${t} error=${dlError} />
    ${data.items.length === 0 ? html`<p>${t("noEntries")}</p>` : html`<table data-testid="documents"><thead><tr>
      <th scope="col">${t("number")}</th><th scope="col">${t("kind")}</th><th scope="col">${t("issued")}</th>
      <th scope="col" class="num">${t("total")}</th><th scope="col">${t("status")}</th><th scope="col">${t("download")}</th></tr></thead>
      <tbody>${data.items.map((d) => html`<tr data-number=${d.number}>
        <td>${d.number}</td><td>${t.code("doc.kind", d.kind)}</td><td>${t.date(d.issue_date)}</td>
        <td class="num">${t.money(d.totals.gross, d.currency)}</td><td>${t.code("doc.status", d.status)}</td>
        <td><button onClick=${() => save(d, "pdf")} aria-label=${`PDF ${d.number}`}>PDF</button>
            <button onClick=${() => save(d, "xml")} aria-label=${`XML ${d.number}`}>XML</button></td></tr>`)}</tbody></table>`}
  </section>`;
}

function Accounts({ t }) {
  const [q, setQ] = useState("");
  const [query, setQuery] = useState("");
  const { data, error } = useLoad(() => get(`/accounts?limit=50${query ? `&q=${encodeURIComponent(query)}` : ""}`), [query]);
  return html`<section aria-labelledby="acc-h"><h2 id="acc-h">${t("accounts")}</h2>
    <form role="search" onSubmit=${(e) => { e.preventDefault(); setQuery(q.trim()); }}>
      <${Field} label=${t("search")} name="q" error=${error}>
        <input value=${q} onInput=${(e) => setQ(e.target.value)} aria-describedby="q-hint" /><//>
      <p id="q-hint" class="hint">${t("searchHint")}</p>
      <button type="submit">${t("search")}</button>
    </form>
    <${Problem} t=${t} error=${error} />
    ${data ? html`<ul data-testid="accounts">${data.items.map((a) => html`<li>
      <a href=${`#/a/${a.account_id}`}>${a.company_name}</a> <code>${a.account_id}</code> ${a.currency}</li>`)}</ul>` : null}
  </section>`;
}

function App({ config }) {
  const [lang, setLang] = useState(initialLanguage());
  const [, setSignedIn] = useState(0);
  const t = translator(lang);
  const route = useRoute();
  useEffect(() => { document.documentElement.lang = lang; localStorage.setItem("ac.lang", lang); }, [lang]);
  const claims = session.claims;
  const role = claims && claims["custom:role"];
  const home = role === "customer" ? `#/a/${claims["custom:account_id"]}` : "#/accounts";
  useEffect(() => {
    if (claims && (route.length === 0 || route[0] === "login")) location.hash = home;
  });
  const signOut = () => {
    session.clear();
    if (config.auth === "cognito") location.assign(cognitoSignOutUrl(config));
    else { location.hash = "#/login"; setSignedIn((n) => n + 1); }
  };
  let page;
  if (!claims) page = html`<${Login} t=${t} config=${config} onSignedIn=${() => { location.hash = "#/"; setSignedIn((n) => n + 1); }} />`;
  else if (route[0] === "a" && route[1]) {
    const id = route[1];
    const here = route[2] || "";
    const extra = ACCOUNT_PAGES.find((p) => p.path === here);
    const body = here === "transactions" ? html`<${Transactions} t=${t} id=${id} />`
      : here === "top-up" ? html`<${TopUp} t=${t} id=${id} config=${config} />`
      : here === "documents" ? html`<${Documents} t=${t} id=${id} />`
      : extra ? h(extra.component, { t, id, config, role, route: route.slice(3) })
      : html`<${Overview} t=${t} id=${id} />`;
    page = html`<main><${AccountNav} t=${t} id=${id} here=${here} />${body}</main>`;
  } else {
    const top = TOP_PAGES.find((p) => p.path === route[0] && p.roles.includes(role));
    page = top ? html`<main>${h(top.component, { t, config, role, route: route.slice(1) })}</main>`
      : html`<main><${Accounts} t=${t} /></main>`;
  }
  return html`<header>
      ${claims ? html`<h1 class="brand-h"><a class="brand" href="#/">${t("app")}</a></h1>` : html`<a class="brand" href="#/">${t("app")}</a>`}
      ${config.auth === "local" ? html`<span class="badge local-only">LOCAL</span>` : null}
      <span class="spacer"></span>
      ${claims ? html`<span data-testid="who">${t(role)}${claims["custom:account_id"] ? ` ${claims["custom:account_id"]}` : ""}${claims["custom:partner_id"] ? ` ${claims["custom:partner_id"]}` : ""}</span>` : null}
      ${role && role !== "customer" ? html`<a href="#/accounts">${t("accounts")}</a>` : null}
      ${TOP_PAGES.filter((p) => p.roles.includes(role)).map((p) => html`<a href=${`#/${p.path}`}>${t(p.key)}</a>`)}
      <label for="lang">${t("language")}</label>
      <select id="lang" value=${lang} onChange=${(e) => setLang(e.target.value)}>
        ${Object.entries(LANGUAGES).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select>
      ${claims ? html`<button onClick=${signOut}>${t("signOut")}</button>` : null}
    </header>${page}`;
}

async function start() {
  const root = document.getElementById("app");
  try {
    const config = await (await fetch("/portal/config.json")).json();
    setApiBase(config.api_base);
    if (config.auth === "cognito") await completeCognitoSignIn(config);
    root.textContent = "";
    render(html`<${App} config=${config} />`, root);
  } catch (err) {
    root.textContent = `The portal could not start: ${err.message}`;
  }
}

start();
