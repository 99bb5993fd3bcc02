// An operator on one account (the tab "Manage"): the credit limit, a credit or debit adjustment with its reason
// (money: one Idempotency-Key per action), and the managing partner (audited, with a reason). Other roles see a
// plain notice when they open its address by hand: the tab itself is listed for operators only (roles), and the API refuses others anyway.
import { useState } from "preact/hooks";
import { get, post } from "../api.js";
import { ACCOUNT_PAGES, Field, Problem, html, useLoad } from "../ui.js";
import { addTexts, toMinor } from "../i18n.js";
import { aimed, localProblem, put, useActionKey } from "./ops_forms.js";

addTexts({
  en: {
    manage: "Manage", operatorsOnly: "Only operators manage accounts.", save: "Save", working: "Working...",
    newCreditLimit: "New credit limit", creditLimitSaved: "Credit limit saved.",
    adjustment: "Adjustment", adjustmentType: "Direction", adjustCredit: "Credit (adds to the balance)",
    adjustDebit: "Debit (takes from the balance)", reason: "Reason", adjust: "Make the adjustment",
    adjusted: "Adjusted. Balance now", managingPartner: "Managing partner", partnerNone: "Empty: no partner",
    changePartner: "Change the partner", partnerChanged: "Partner changed.", now: "Now",
    notAnAmount: "Not an amount in this currency",
  },
  sk: {
    manage: "Správa", operatorsOnly: "Účty spravujú len operátori.", save: "Uložiť", working: "Pracuje sa...",
    newCreditLimit: "Nový úverový limit", creditLimitSaved: "Úverový limit je uložený.",
    adjustment: "Úprava zostatku", adjustmentType: "Smer", adjustCredit: "Pripísať (zvýši zostatok)",
    adjustDebit: "Odpísať (zníži zostatok)", reason: "Dôvod", adjust: "Vykonať úpravu",
    adjusted: "Upravené. Zostatok teraz", managingPartner: "Spravujúci partner", partnerNone: "Prázdne: bez partnera",
    changePartner: "Zmeniť partnera", partnerChanged: "Partner je zmenený.", now: "Teraz",
    notAnAmount: "Nie je to suma v tejto mene",
  },
});

// A form's run: busy while the request is out (the button says so), the problem or the success message after.
function useRun() {
  const [state, setState] = useState({ busy: false, error: null, done: null });
  const run = async (fn) => {
    setState({ busy: true, error: null, done: null });
    try { setState({ busy: false, error: null, done: await fn() }); }
    catch (error) { setState({ busy: false, error, done: null }); }
  };
  return [state, run, (error) => setState({ busy: false, error, done: null })];
}

const Busy = ({ t, state }) => (state.busy ? html`<p role="status" class="busy">${t("working")}</p>` : null);

function CreditLimitForm({ t, account, onChange }) {
  const digits = t.digits(account.currency);
  const [value, setValue] = useState("");
  const [state, run, fail] = useRun();
  const submit = (e) => {
    e.preventDefault();
    const minor = toMinor(value, digits);
    if (minor === null) { fail(localProblem(t("newCreditLimit"), `${t("notAnAmount")}: ${value || "-"}`, "credit_limit")); return; }
    run(async () => {
      onChange(await put(`/accounts/${account.account_id}/credit-limit`, { credit_limit: minor }));
      setValue("");
      return t("creditLimitSaved");
    });
  };
  return html`<form onSubmit=${submit} data-testid="credit-limit-form" aria-labelledby="cl-h">
    <h3 id="cl-h">${t("creditLimit")}</h3>
    <p>${t("now")}: <strong>${t.money(account.credit_limit, account.currency)}</strong></p>
    <${Field} label=${`${t("newCreditLimit")} (${account.currency})`} name="credit_limit" error=${state.error}>
      <input inputmode="decimal" value=${value} onInput=${(e) => setValue(e.target.value)} autocomplete="off" /><//>
    <${Problem} t=${t} error=${state.error} />
    <${Busy} t=${t} state=${state} />
    ${state.done ? html`<p role="status" class="ok">${state.done}</p>` : null}
    <button type="submit" disabled=${state.busy}>${t("save")}</button>
  </form>`;
}

function AdjustmentForm({ t, account, onChange }) {
  const digits = t.digits(account.currency);
  const [type, setType] = useState("credit");
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [state, run, fail] = useRun();
  const keys = useActionKey();
  const submit = (e) => {
    e.preventDefault();
    const minor = toMinor(amount, digits);
    if (minor === null || minor <= 0) { fail(localProblem(t("amount"), `${t("notAnAmount")}: ${amount || "-"}`, "amount")); return; }
    const body = { type, amount: minor, reason };
    const key = keys.keyFor(body);
    run(async () => {
      await post(`/accounts/${account.account_id}/adjustments`, body, { "Idempotency-Key": key });
      keys.done();
      setAmount(""); setReason("");
      const fresh = await get(`/accounts/${account.account_id}`);
      onChange(fresh);
      return `${t("adjusted")}: ${t.money(fresh.balance, fresh.currency)}`;
    });
  };
  return html`<form onSubmit=${submit} data-testid="adjustment-form" aria-labelledby="adj-h">
    <h3 id="adj-h">${t("adjustment")}</h3>
    <fieldset><legend>${t("adjustmentType")}</legend>
      <label><input type="radio" name="adj-type" value="credit" checked=${type === "credit"} onChange=${() => setType("credit")} /> ${t("adjustCredit")}</label><br />
      <label><input type="radio" name="adj-type" value="debit" checked=${type === "debit"} onChange=${() => setType("debit")} /> ${t("adjustDebit")}</label>
    </fieldset>
    <${Field} label=${`${t("amount")} (${account.currency})`} name="amount" error=${state.error}>
      <input inputmode="decimal" value=${amount} onInput=${(e) => setAmount(e.target.value)} autocomplete="off" /><//>
    <${Field} label=${t("reason")} name="reason" error=${state.error}>
      <input value=${reason} onInput=${(e) => setReason(e.target.value)} autocomplete="off" maxlength="500" /><//>
    <${Problem} t=${t} error=${state.error} />
    <${Busy} t=${t} state=${state} />
    ${state.done ? html`<p role="status" class="ok" data-testid="adjusted">${state.done}</p>` : null}
    <button type="submit" disabled=${state.busy}>${t("adjust")}</button>
  </form>`;
}

function PartnerForm({ t, account, onChange }) {
  const [partner, setPartner] = useState("");
  const [reason, setReason] = useState("");
  const [state, run] = useRun();
  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      onChange(await put(`/accounts/${account.account_id}/partner`, { partner_id: partner.trim() || null, reason }));
      setPartner(""); setReason("");
      return t("partnerChanged");
    });
  };
  return html`<form onSubmit=${submit} data-testid="partner-form" aria-labelledby="pa-h">
    <h3 id="pa-h">${t("managingPartner")}</h3>
    <p>${t("now")}: <code data-testid="partner-id">${account.partner_id || "-"}</code></p>
    <${Field} label=${t("partnerId")} name="new_partner_id" error=${aimed(state.error, "partner_id", "new_partner_id")}>
      <input value=${partner} onInput=${(e) => setPartner(e.target.value)} autocomplete="off" aria-describedby="pa-hint" /><//>
    <p id="pa-hint" class="hint">${t("partnerNone")}</p>
    <${Field} label=${t("reason")} name="partner_reason" error=${aimed(state.error, "reason", "partner_reason")}>
      <input value=${reason} onInput=${(e) => setReason(e.target.value)} autocomplete="off" maxlength="500" /><//>
    <${Problem} t=${t} error=${state.error} />
    <${Busy} t=${t} state=${state} />
    ${state.done ? html`<p role="status" class="ok">${state.done}</p>` : null}
    <button type="submit" disabled=${state.busy}>${t("changePartner")}</button>
  </form>`;
}

function Manage({ t, id, role }) {
  const [fresh, setFresh] = useState(null);
  const { data, error } = useLoad(() => (role === "operator" ? get(`/accounts/${id}`) : Promise.resolve(null)), [id, role]);
  if (role !== "operator") return html`<p role="note" class="notice" data-testid="operators-only">${t("operatorsOnly")}</p>`;
  if (error) return html`<${Problem} t=${t} error=${error} />`;
  const a = fresh && fresh.account_id === id ? fresh : data;
  if (!a) return html`<p role="status">${t("loading")}</p>`;
  const m = (v) => t.money(v, a.currency);
  return html`<section aria-labelledby="mg-h" class="manage">
    <h2 id="mg-h">${t("manage")}: ${a.company.name}</h2>
    <dl class="figures">
      <div><dt>${t("balance")}</dt><dd data-testid="manage-balance" data-minor=${a.balance}>${m(a.balance)}</dd></div>
      <div><dt>${t("creditLimit")}</dt><dd data-testid="manage-credit-limit" data-minor=${a.credit_limit}>${m(a.credit_limit)}</dd></div>
      <div><dt>${t("available")}</dt><dd data-testid="manage-available" data-minor=${a.available}>${m(a.available)}</dd></div>
    </dl>
    <${CreditLimitForm} t=${t} account=${a} onChange=${setFresh} />
    <${AdjustmentForm} t=${t} account=${a} onChange=${setFresh} />
    <${PartnerForm} t=${t} account=${a} onChange=${setFresh} />
  </section>`;
}

ACCOUNT_PAGES.push({ path: "manage", key: "manage", roles: ["operator"], component: Manage });
