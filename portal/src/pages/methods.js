// Payment methods of an account (tab "methods"): the list with each method's role, add a card (the sandbox's test
// cards locally: a provider token, never a card number), add a gift card by its code, change a card's expiry and
// billing address, choose the default and the alternate, delete (a 409 when a subscription relies on it).
import { useState } from "preact/hooks";
import { ApiError, get, post, request } from "../api.js";
import { ACCOUNT_PAGES, Field, Problem, html, useLoad } from "../ui.js";
import { addTexts } from "../i18n.js";

// The sandbox's test cards: what a payment form at the provider would hand back (token, brand, last four).
export const SANDBOX_CARDS = [
  { token: "pm_card_visa", brand: "visa", last4: "4242" },
  { token: "pm_card_mastercard", brand: "mastercard", last4: "4444" },
  { token: "pm_card_amex", brand: "amex", last4: "8431" },
  { token: "pm_card_declined", brand: "visa", last4: "0002" },
];

export function describeMethod(t, m) {
  if (m.type === "balance") return t("pm.balance");
  if (m.type === "invoice") return t("pm.invoice");
  if (m.type === "gift_card") return `${t("pm.giftCard")} \u2022\u2022\u2022\u2022 ${m.last4 || ""}`;
  const brand = m.brand ? m.brand.charAt(0).toUpperCase() + m.brand.slice(1) : t("card");
  return `${brand} \u2022\u2022\u2022\u2022 ${m.last4 || ""}`;
}

const pad = (n) => String(n).padStart(2, "0");
const int = (v) => (/^\d+$/.test(String(v).trim()) ? Number(v) : null);
const localProblem = (title, field) => new ApiError(422, { title, field });

function address(form) {
  const a = {};
  for (const k of ["line1", "line2", "city", "postal_code", "state", "country"]) {
    const v = (form.get(k) || "").trim();
    if (v) a[k] = k === "country" ? v.toUpperCase() : v;
  }
  return Object.keys(a).length ? a : null;
}

function AddressFields({ t, error, value }) {
  const v = value || {};
  return html`<fieldset><legend>${t("pm.billingAddress")}</legend>
    <${Field} label=${t("pm.line1")} name="line1" error=${error}><input defaultValue=${v.line1 || ""} autocomplete="address-line1" /><//>
    <${Field} label=${t("pm.line2")} name="line2" error=${error}><input defaultValue=${v.line2 || ""} autocomplete="address-line2" /><//>
    <${Field} label=${t("pm.city")} name="city" error=${error}><input defaultValue=${v.city || ""} autocomplete="address-level2" /><//>
    <${Field} label=${t("pm.postalCode")} name="postal_code" error=${error}><input defaultValue=${v.postal_code || ""} autocomplete="postal-code" /><//>
    <${Field} label=${t("pm.country")} name="country" error=${error}><input defaultValue=${v.country || ""} maxlength="2" autocomplete="country" /><//>
  </fieldset>`;
}

function ExpiryFields({ t, error, month, year }) {
  return html`<div class="row">
    <${Field} label=${t("pm.expMonth")} name="exp_month" error=${error}>
      <input inputmode="numeric" defaultValue=${month || ""} required autocomplete="cc-exp-month" /><//>
    <${Field} label=${t("pm.expYear")} name="exp_year" error=${error}>
      <input inputmode="numeric" defaultValue=${year || ""} required autocomplete="cc-exp-year" /><//>
  </div>`;
}

function readExpiry(t, form) {
  const month = int(form.get("exp_month"));
  const year = int(form.get("exp_year"));
  if (month === null || month < 1 || month > 12) throw localProblem(t("pm.expMonth"), "exp_month");
  if (year === null || year < 2000 || year > 2100) throw localProblem(t("pm.expYear"), "exp_year");
  return { exp_month: month, exp_year: year };
}

function AddCard({ t, id, config, onDone, onCancel }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const form = new FormData(e.target);
    try {
      const card = SANDBOX_CARDS.find((c) => c.token === form.get("token"));
      const body = { type: "card", token: card.token, brand: card.brand, last4: card.last4, ...readExpiry(t, form) };
      const a = address(form);
      if (a) body.billing_address = a;
      setBusy(true);
      const made = await post(`/accounts/${id}/payment-methods`, body);
      onDone(made);
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  if (!config.sandbox) {
    return html`<p data-testid="add-card-at-provider">${t("pm.providerNote")} <a href=${`#/a/${id}/top-up`}>${t("pm.toTopUp")}</a></p>`;
  }
  return html`<form onSubmit=${submit} data-testid="add-card" aria-labelledby="pm-add-card-h">
    <h3 id="pm-add-card-h">${t("pm.addCard")}</h3>
    <p class="local-only" role="note">${t("pm.sandboxNote")}</p>
    <${Field} label=${t("pm.testCard")} name="token" error=${error}>
      <select>${SANDBOX_CARDS.map((c) => html`<option value=${c.token}>${c.brand} \u2022\u2022\u2022\u2022 ${c.last4} (${c.token})</option>`)}</select>
    <//>
    <${ExpiryFields} t=${t} error=${error} month="12" year=${String(new Date().getUTCFullYear() + 4)} />
    <${AddressFields} t=${t} error=${error} />
    <${Problem} t=${t} error=${error} />
    ${busy ? html`<p role="status">${t("pm.working")}</p>` : null}
    <button type="submit" disabled=${busy}>${t("pm.addCard")}</button>
    <button type="button" class="secondary" onClick=${onCancel}>${t("pm.cancel")}</button>
  </form>`;
}

function AddGiftCard({ t, id, onDone, onCancel }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const code = (new FormData(e.target).get("code") || "").trim();
    try {
      setBusy(true);
      onDone(await post(`/accounts/${id}/payment-methods`, { type: "gift_card", code }));
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return html`<form onSubmit=${submit} data-testid="add-gift-card" aria-labelledby="pm-add-gift-h">
    <h3 id="pm-add-gift-h">${t("pm.addGiftCard")}</h3>
    <${Field} label=${t("pm.giftCode")} name="code" error=${error}><input required autocomplete="off" /><//>
    <${Problem} t=${t} error=${error} />
    ${busy ? html`<p role="status">${t("pm.working")}</p>` : null}
    <button type="submit" disabled=${busy}>${t("pm.addGiftCard")}</button>
    <button type="button" class="secondary" onClick=${onCancel}>${t("pm.cancel")}</button>
  </form>`;
}

function EditCard({ t, id, method, onDone, onCancel }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setError(null);
    const form = new FormData(e.target);
    try {
      const body = { ...readExpiry(t, form) };
      const a = address(form);
      if (a) body.billing_address = a;
      setBusy(true);
      onDone(await request("PATCH", `/accounts/${id}/payment-methods/${encodeURIComponent(method.payment_method_id)}`, { body }));
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  return html`<form onSubmit=${submit} data-testid="edit-card" aria-labelledby="pm-edit-h">
    <h3 id="pm-edit-h">${t("pm.editCard")}: ${describeMethod(t, method)}</h3>
    <${ExpiryFields} t=${t} error=${error} month=${String(method.exp_month || "")} year=${String(method.exp_year || "")} />
    <${AddressFields} t=${t} error=${error} value=${method.billing_address} />
    <${Problem} t=${t} error=${error} />
    ${busy ? html`<p role="status">${t("pm.working")}</p>` : null}
    <button type="submit" disabled=${busy}>${t("pm.save")}</button>
    <button type="button" class="secondary" onClick=${onCancel}>${t("pm.cancel")}</button>
  </form>`;
}

function Preferences({ t, id, data, onDone }) {
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const usable = data.items.filter((m) => m.type !== "gift_card" || (m.remaining ?? 1) > 0);
  const submit = async (e) => {
    e.preventDefault();
    setError(null); setSaved(false);
    const form = new FormData(e.target);
    const alternate = form.get("alternate") || null;
    try {
      setBusy(true);
      await request("PUT", `/accounts/${id}/payment-methods/preferences`, {
        body: { default: form.get("default"), alternate },
      });
      setSaved(true);
      onDone();
    } catch (err) { setError(err); } finally { setBusy(false); }
  };
  const key = `${data.preferences.default}|${data.preferences.alternate}|${usable.length}`;
  return html`<form onSubmit=${submit} data-testid="preferences" aria-labelledby="pm-pref-h" key=${key}>
    <h3 id="pm-pref-h">${t("pm.preferences")}</h3>
    <p class="hint-text">${t("pm.preferencesHint")}</p>
    <div class="row">
      <${Field} label=${t("pm.default")} name="default" error=${error}>
        <select>${usable.map((m) => html`
          <option value=${m.payment_method_id} selected=${m.payment_method_id === data.preferences.default}>${describeMethod(t, m)}</option>`)}</select>
      <//>
      <${Field} label=${t("pm.alternate")} name="alternate" error=${error}>
        <select>
          <option value="" selected=${!data.preferences.alternate}>${t("pm.none")}</option>
          ${usable.map((m) => html`<option value=${m.payment_method_id} selected=${m.payment_method_id === data.preferences.alternate}>${describeMethod(t, m)}</option>`)}</select>
      <//>
    </div>
    <${Problem} t=${t} error=${error} />
    ${busy ? html`<p role="status">${t("pm.working")}</p>` : null}
    ${saved && !busy ? html`<p role="status" class="ok" data-testid="preferences-saved">${t("pm.saved")}</p>` : null}
    <button type="submit" disabled=${busy}>${t("pm.savePreferences")}</button>
  </form>`;
}

function Methods({ t, id, config }) {
  const { data, error, reload } = useLoad(() => get(`/accounts/${id}/payment-methods`), [id]);
  const [panel, setPanel] = useState(null); // null | "card" | "gift" | payment_method_id being edited
  const [confirming, setConfirming] = useState(null);
  const [deleteError, setDeleteError] = useState(null);
  const [deleting, setDeleting] = useState(null);
  const [notice, setNotice] = useState(null);
  if (error) return html`<${Problem} t=${t} error=${error} />`;
  if (!data) return html`<p role="status">${t("loading")}</p>`;
  const done = (key) => () => { setPanel(null); setNotice(key); reload(); };
  const remove = async (m) => {
    setDeleteError(null); setNotice(null); setDeleting(m.payment_method_id);
    try {
      await request("DELETE", `/accounts/${id}/payment-methods/${encodeURIComponent(m.payment_method_id)}`);
      setConfirming(null);
      setNotice("pm.deleted");
      reload();
    } catch (err) {
      setConfirming(null);
      setDeleteError({ err, pm: m });
    } finally { setDeleting(null); }
  };
  const editing = data.items.find((m) => m.payment_method_id === panel);
  const blocked = deleteError && deleteError.err instanceof ApiError && deleteError.err.status === 409
    ? deleteError.err.problem : null;
  return html`<section aria-labelledby="pm-h"><h2 id="pm-h">${t("pm.tab")}</h2>
    ${notice ? html`<p role="status" class="ok" data-testid="pm-notice">${t(notice)}</p>` : null}
    <table data-testid="payment-methods"><thead><tr>
      <th scope="col">${t("pm.method")}</th><th scope="col">${t("pm.details")}</th>
      <th scope="col">${t("pm.role")}</th><th scope="col">${t("pm.actions")}</th></tr></thead>
      <tbody>${data.items.map((m) => {
        const bad = deleteError && deleteError.pm.payment_method_id === m.payment_method_id;
        return html`<tr data-pm=${m.payment_method_id} data-type=${m.type} data-role=${m.role || ""} class=${bad ? "invalid" : ""}>
        <td>${describeMethod(t, m)}</td>
        <td>${m.type === "card" ? html`${t("pm.expires")} ${pad(m.exp_month)}/${m.exp_year}${m.billing_address ? html`<br />${m.billing_address.line1}, ${m.billing_address.postal_code} ${m.billing_address.city}, ${m.billing_address.country}` : null}`
          : m.type === "gift_card" ? html`${t("pm.remaining")} ${t.money(m.remaining, m.currency)}` : null}</td>
        <td data-testid="role">${m.role ? html`<strong>${t(`pm.role.${m.role}`)}</strong>` : "-"}</td>
        <td>${m.type === "card" ? html`<button type="button" class="secondary" onClick=${() => { setPanel(m.payment_method_id); setNotice(null); }}
              aria-label=${`${t("pm.edit")} ${describeMethod(t, m)}`}>${t("pm.edit")}</button>` : null}
          ${m.type !== "balance" ? (confirming === m.payment_method_id
            ? html`<span role="group" aria-label=${t("pm.confirmDelete")}>${t("pm.confirmDelete")}
                <button type="button" class="danger" data-testid="confirm-delete" disabled=${deleting === m.payment_method_id}
                  onClick=${() => remove(m)}>${t("pm.yesDelete")}</button>
                <button type="button" class="secondary" onClick=${() => setConfirming(null)}>${t("pm.cancel")}</button></span>`
            : html`<button type="button" class="secondary" onClick=${() => { setConfirming(m.payment_method_id); setDeleteError(null); }}
                aria-label=${`${t("pm.delete")} ${describeMethod(t, m)}`} data-testid="delete">${t("pm.delete")}</button>`) : null}
          ${deleting === m.payment_method_id ? html`<span role="status">${t("pm.working")}</span>` : null}</td>
      </tr>`; })}</tbody></table>
    ${deleteError ? html`<div data-testid="delete-problem">
      ${blocked ? html`<p class="problem" role="alert" data-testid="in-use">${t("pm.inUse")
        .replace("{method}", describeMethod(t, deleteError.pm))
        .replace("{subscription}", blocked.subscription_id || "")}
        ${blocked.subscription_id ? html` <a href=${`#/a/${id}/subscriptions/${blocked.subscription_id}`}>${t("pm.openSubscription")}</a>` : null}</p>` : null}
      <${Problem} t=${t} error=${deleteError.err} /></div>` : null}
    ${editing ? html`<${EditCard} t=${t} id=${id} method=${editing} onDone=${done("pm.updated")} onCancel=${() => setPanel(null)} />`
      : panel === "card" ? html`<${AddCard} t=${t} id=${id} config=${config} onDone=${done("pm.added")} onCancel=${() => setPanel(null)} />`
      : panel === "gift" ? html`<${AddGiftCard} t=${t} id=${id} onDone=${done("pm.added")} onCancel=${() => setPanel(null)} />`
      : html`<p class="actions">
          <button type="button" onClick=${() => { setPanel("card"); setNotice(null); }}>${t("pm.addCard")}</button>
          <button type="button" onClick=${() => { setPanel("gift"); setNotice(null); }}>${t("pm.addGiftCard")}</button></p>`}
    <${Preferences} t=${t} id=${id} data=${data} onDone=${reload} />
  </section>`;
}

ACCOUNT_PAGES.push({ path: "methods", key: "pm.tab", component: Methods });

addTexts({
  en: {
    "pm.tab": "Payment methods", "pm.balance": "Account balance", "pm.invoice": "Pay on invoice",
    "pm.giftCard": "Gift card", "pm.method": "Method", "pm.details": "Details", "pm.role": "Role",
    "pm.actions": "Actions", "pm.role.default": "Default", "pm.role.alternate": "Alternate",
    "pm.expires": "Expires", "pm.remaining": "Remaining", "pm.edit": "Edit", "pm.delete": "Delete",
    "pm.confirmDelete": "Delete this payment method?", "pm.yesDelete": "Yes, delete", "pm.cancel": "Cancel",
    "pm.addCard": "Add a card", "pm.addGiftCard": "Add a gift card", "pm.editCard": "Change the card",
    "pm.testCard": "Test card", "pm.sandboxNote": "Sandbox (local only): pick one of the provider's test cards. A card number is never entered or stored here.",
    "pm.providerNote": "A card is added at the payment provider: top up by card with \"Keep this card\" ticked, and the card you pay with is kept here once the payment is confirmed.", "pm.toTopUp": "Top up and keep the card",
    "pm.expMonth": "Expiry month (1-12)", "pm.expYear": "Expiry year", "pm.billingAddress": "Billing address (optional)",
    "pm.line1": "Street and number", "pm.line2": "Address line 2", "pm.city": "City", "pm.postalCode": "Postal code",
    "pm.country": "Country (two letters, e.g. SK)", "pm.giftCode": "Gift card code", "pm.save": "Save",
    "pm.preferences": "Which method pays", "pm.preferencesHint": "The default is tried first; the alternate when the default fails (declined, expired).",
    "pm.default": "Default", "pm.alternate": "Alternate", "pm.none": "None", "pm.savePreferences": "Save the choice",
    "pm.saved": "Saved.", "pm.added": "The payment method was added.", "pm.updated": "The card was updated.",
    "pm.deleted": "The payment method was deleted.", "pm.working": "Working...",
    "pm.inUse": "{method} cannot be deleted: subscription {subscription} renews automatically and has no other way to pay. Add another method or set an alternate first, or turn off its automatic renewal.",
    "pm.openSubscription": "Open the subscription",
  },
  sk: {
    "pm.tab": "Platobné metódy", "pm.balance": "Zostatok účtu", "pm.invoice": "Platba na faktúru",
    "pm.giftCard": "Darčeková karta", "pm.method": "Metóda", "pm.details": "Podrobnosti", "pm.role": "Úloha",
    "pm.actions": "Akcie", "pm.role.default": "Predvolená", "pm.role.alternate": "Náhradná",
    "pm.expires": "Platnosť do", "pm.remaining": "Zostáva", "pm.edit": "Upraviť", "pm.delete": "Odstrániť",
    "pm.confirmDelete": "Odstrániť túto platobnú metódu?", "pm.yesDelete": "Áno, odstrániť", "pm.cancel": "Zrušiť",
    "pm.addCard": "Pridať kartu", "pm.addGiftCard": "Pridať darčekovú kartu", "pm.editCard": "Zmeniť kartu",
    "pm.testCard": "Testovacia karta", "pm.sandboxNote": "Testovacie prostredie (len lokálne): vyberte testovaciu kartu poskytovateľa. Číslo karty sa tu nikdy nezadáva ani neukladá.",
    "pm.providerNote": "Karta sa pridáva u poskytovateľa platieb: dobite kredit kartou so zaškrtnutým \"Uložiť kartu\" a karta, ktorou platíte, sa tu uloží po potvrdení platby.", "pm.toTopUp": "Dobiť a uložiť kartu",
    "pm.expMonth": "Mesiac platnosti (1-12)", "pm.expYear": "Rok platnosti", "pm.billingAddress": "Fakturačná adresa (nepovinné)",
    "pm.line1": "Ulica a číslo", "pm.line2": "Adresa, 2. riadok", "pm.city": "Mesto", "pm.postalCode": "PSČ",
    "pm.country": "Krajina (dve písmená, napr. SK)", "pm.giftCode": "Kód darčekovej karty", "pm.save": "Uložiť",
    "pm.preferences": "Ktorá metóda platí", "pm.preferencesHint": "Najprv sa skúša predvolená; náhradná, keď predvolená zlyhá (zamietnutá, neplatná).",
    "pm.default": "Predvolená", "pm.alternate": "Náhradná", "pm.none": "Žiadna", "pm.savePreferences": "Uložiť výber",
    "pm.saved": "Uložené.", "pm.added": "Platobná metóda bola pridaná.", "pm.updated": "Karta bola zmenená.",
    "pm.deleted": "Platobná metóda bola odstránená.", "pm.working": "Pracuje sa...",
    "pm.inUse": "{method} nemožno odstrániť: predplatné {subscription} sa automaticky obnovuje a nemá iný spôsob platby. Najprv pridajte inú metódu alebo nastavte náhradnú, alebo vypnite jeho automatické obnovenie.",
    "pm.openSubscription": "Otvoriť predplatné",
  },
});
