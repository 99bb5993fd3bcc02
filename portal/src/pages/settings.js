// Payment settings of an account (tab "settings"): bill orders to the balance, allow cards, and the low-balance
// alert threshold (an amount typed by a person, empty for no alert). Problems are shown next to their field.
import { useEffect, useState } from "preact/hooks";
import { ApiError, get, request } from "../api.js";
import { addTexts, toMinor } from "../i18n.js";
import { ACCOUNT_PAGES, Field, Problem, html, useLoad } from "../ui.js";

addTexts({
  en: {
    "set.tab": "Payment settings", "set.title": "Payment settings",
    "set.billToBalance": "Pay orders from the account balance", "set.cardsEnabled": "Allow card and gift card payments",
    "set.threshold": "Email me when the balance falls below", "set.thresholdHint": "Leave empty for no alert.",
    "set.save": "Save", "set.saving": "Saving...", "set.saved": "Saved.",
    "set.badAmount": "Type an amount such as 100 or 100.50, or leave it empty.",
    "set.methodsNote": "Which payment method pays first is chosen with the account's payment methods.",
  },
  sk: {
    "set.tab": "Nastavenia platieb", "set.title": "Nastavenia platieb",
    "set.billToBalance": "Platiť objednávky zo zostatku účtu", "set.cardsEnabled": "Povoliť platby kartou a darčekovou kartou",
    "set.threshold": "Poslať e-mail, keď zostatok klesne pod", "set.thresholdHint": "Nechajte prázdne, ak upozornenie nechcete.",
    "set.save": "Uložiť", "set.saving": "Ukladá sa...", "set.saved": "Uložené.",
    "set.badAmount": "Napíšte sumu, napríklad 100 alebo 100,50, alebo nechajte prázdne.",
    "set.methodsNote": "Ktorý spôsob platby platí prvý, sa volí v spôsoboch platby účtu.",
  },
});

// The amount a person reads, from minor units (no grouping, the language's decimal mark).
function majorText(minor, digits, lang) {
  if (minor === null || minor === undefined) return "";
  const whole = Math.floor(minor / 10 ** digits);
  const frac = String(minor % 10 ** digits).padStart(digits, "0");
  return digits ? `${whole}${lang === "sk" ? "," : "."}${frac}` : String(whole);
}

function Settings({ t, id }) {
  const { data: account, error: loadError } = useLoad(() => get(`/accounts/${id}`), [id]);
  const [form, setForm] = useState(null);
  const [error, setError] = useState(null);
  const [state, setState] = useState(null); // null | "saving" | "saved"
  useEffect(() => {
    if (!account) return;
    const s = account.settings;
    setForm({ bill_to_balance: s.bill_to_balance, cards_enabled: s.cards_enabled,
      threshold: majorText(s.low_balance_threshold, t.digits(account.currency), t.lang) });
  }, [account]);
  if (loadError) return html`<${Problem} t=${t} error=${loadError} />`;
  if (!account || !form) return html`<p role="status">${t("loading")}</p>`;
  const set = (k, v) => { setForm({ ...form, [k]: v }); setState(null); };
  const save = async (e) => {
    e.preventDefault();
    setError(null);
    let threshold = null;
    if (form.threshold.trim()) {
      threshold = toMinor(form.threshold, t.digits(account.currency));
      if (threshold === null) {
        setError(new ApiError(422, { title: t("set.badAmount"), detail: form.threshold, field: "low_balance_threshold" }));
        return;
      }
    }
    setState("saving");
    try {
      const after = await request("PUT", `/accounts/${id}/settings`, { body: {
        bill_to_balance: form.bill_to_balance, cards_enabled: form.cards_enabled, low_balance_threshold: threshold } });
      const s = after.settings;
      setForm({ bill_to_balance: s.bill_to_balance, cards_enabled: s.cards_enabled,
        threshold: majorText(s.low_balance_threshold, t.digits(account.currency), t.lang) });
      setState("saved");
    } catch (err) { setError(err); setState(null); }
  };
  return html`<section aria-labelledby="set-h"><h2 id="set-h">${t("set.title")}</h2>
    <form onSubmit=${save} data-testid="settings">
      <${Field} label=${t("set.billToBalance")} name="bill_to_balance" error=${error}>
        <input type="checkbox" checked=${form.bill_to_balance} onChange=${(e) => set("bill_to_balance", e.target.checked)} /><//>
      <${Field} label=${t("set.cardsEnabled")} name="cards_enabled" error=${error}>
        <input type="checkbox" checked=${form.cards_enabled} onChange=${(e) => set("cards_enabled", e.target.checked)} /><//>
      <${Field} label=${`${t("set.threshold")} (${account.currency})`} name="low_balance_threshold" error=${error}>
        <input inputmode="decimal" autocomplete="off" value=${form.threshold} aria-describedby="thr-hint"
          onInput=${(e) => set("threshold", e.target.value)} /><//>
      <p id="thr-hint" class="hint">${t("set.thresholdHint")}</p>
      <${Problem} t=${t} error=${error} />
      <button type="submit" disabled=${state === "saving"}>${t("set.save")}</button>
      ${state ? html`<span role="status" class=${state === "saved" ? "ok" : ""} data-testid="settings-state">
        ${t(state === "saved" ? "set.saved" : "set.saving")}</span>` : null}
    </form>
    <p class="hint">${t("set.methodsNote")}</p>
  </section>`;
}

ACCOUNT_PAGES.push({ path: "settings", key: "set.tab", component: Settings });
