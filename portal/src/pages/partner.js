// A partner (or an operator) opens an account: the company, its address, billing emails, currency and the
// language of its emails. A partner always opens accounts for itself (the API sets its partner id); an operator
// may name the managing partner. On success the new account's overview opens.
import { useState } from "preact/hooks";
import { post, session } from "../api.js";
import { Field, Problem, TOP_PAGES, html } from "../ui.js";
import { LANGUAGES, addTexts } from "../i18n.js";
import { aimed, localProblem } from "./ops_forms.js";

const CURRENCIES = ["EUR", "CZK", "USD", "GBP", "PLN", "HUF", "CHF", "SEK", "NOK", "DKK"];

addTexts({
  en: {
    newAccount: "New account", companyName: "Company name", addressLine1: "Street and number",
    addressLine2: "Address (more)", city: "City", postalCode: "Postal code", country: "Country (2 letters, e.g. SK)",
    billingEmails: "Billing emails", billingEmailsHint: "One or more, separated by commas or lines",
    currency: "Currency", currencyHint: "Fixed for the life of the account", emailLanguage: "Language of emails",
    managingPartnerOptional: "Managing partner id (optional)", openAccount: "Open the account",
    opening: "Opening the account...", forYourself: "The account is managed by you, partner",
    noEmails: "Give at least one email address",
  },
  sk: {
    newAccount: "Nový účet", companyName: "Názov spoločnosti", addressLine1: "Ulica a číslo",
    addressLine2: "Adresa (ďalší riadok)", city: "Mesto", postalCode: "PSČ", country: "Krajina (2 písmená, napr. SK)",
    billingEmails: "E-maily pre faktúry", billingEmailsHint: "Jeden alebo viac, oddelené čiarkou alebo riadkom",
    currency: "Mena", currencyHint: "Nemenná počas celej existencie účtu", emailLanguage: "Jazyk e-mailov",
    managingPartnerOptional: "Číslo spravujúceho partnera (nepovinné)", openAccount: "Otvoriť účet",
    opening: "Účet sa otvára...", forYourself: "Účet budete spravovať vy, partner",
    noEmails: "Zadajte aspoň jednu e-mailovú adresu",
  },
});

function NewAccount({ t, role }) {
  const [f, setF] = useState({ name: "", address_line1: "", address_line2: "", city: "", postal_code: "",
    country: "", emails: "", currency: "EUR", language: t.lang, partner_id: "" });
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const claims = session.claims || {};
  const set = (k) => (e) => setF({ ...f, [k]: e.target.value });
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const emails = f.emails.split(/[\s,;]+/).filter(Boolean);
    if (emails.length === 0) { setError(localProblem(t("billingEmails"), t("noEmails"), "billing_emails")); return; }
    const company = { name: f.name };
    for (const k of ["address_line1", "address_line2", "city", "postal_code"]) if (f[k].trim()) company[k] = f[k];
    if (f.country.trim()) company.country = f.country.trim().toUpperCase();
    const body = { company, billing_emails: emails, currency: f.currency, language: f.language };
    if (role === "operator" && f.partner_id.trim()) body.partner_id = f.partner_id.trim();
    setBusy(true);
    try {
      const account = await post("/accounts", body);
      location.hash = `#/a/${account.account_id}`;
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const input = (name, label, extra = {}) => html`<${Field} label=${label} name=${name} error=${aimed(error, name, name)}>
    <input value=${f[name]} onInput=${set(name)} ...${extra} /><//>`;
  return html`<section aria-labelledby="na-h"><h2 id="na-h">${t("newAccount")}</h2>
    <form onSubmit=${submit} data-testid="new-account">
      ${input("name", t("companyName"), { autocomplete: "organization", "aria-required": "true" })}
      ${input("address_line1", t("addressLine1"), { autocomplete: "address-line1" })}
      ${input("address_line2", t("addressLine2"), { autocomplete: "address-line2" })}
      ${input("city", t("city"), { autocomplete: "address-level2" })}
      ${input("postal_code", t("postalCode"), { autocomplete: "postal-code" })}
      ${input("country", t("country"), { autocomplete: "country", maxlength: "2" })}
      <${Field} label=${t("billingEmails")} name="billing_emails" error=${aimed(error, "billing_emails", "billing_emails")}>
        <textarea rows="2" value=${f.emails} onInput=${set("emails")} aria-describedby="em-hint" aria-required="true"></textarea><//>
      <p id="em-hint" class="hint">${t("billingEmailsHint")}</p>
      <${Field} label=${t("currency")} name="currency" error=${aimed(error, "currency", "currency")}>
        <select value=${f.currency} onChange=${set("currency")} aria-describedby="cur-hint">
          ${CURRENCIES.map((c) => html`<option value=${c}>${c}</option>`)}</select><//>
      <p id="cur-hint" class="hint">${t("currencyHint")}</p>
      <${Field} label=${t("emailLanguage")} name="language" error=${aimed(error, "language", "language")}>
        <select value=${f.language} onChange=${set("language")}>
          ${Object.entries(LANGUAGES).map(([k, v]) => html`<option value=${k}>${v}</option>`)}</select><//>
      ${role === "operator" ? input("partner_id", t("managingPartnerOptional"), { autocomplete: "off" })
        : html`<p>${t("forYourself")} <code>${claims["custom:partner_id"] || "-"}</code>.</p>`}
      <${Problem} t=${t} error=${error} />
      ${busy ? html`<p role="status">${t("opening")}</p>` : null}
      <button type="submit" disabled=${busy}>${t("openAccount")}</button>
    </form>
  </section>`;
}

TOP_PAGES.push({ path: "new-account", key: "newAccount", roles: ["partner", "operator"], component: NewAccount });
