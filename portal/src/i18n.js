// English and Slovak texts; amounts and dates formatted for the chosen language.
const TEXTS = {
  en: {
    app: "Account Credit", signIn: "Sign in", signOut: "Sign out", language: "Language",
    devLogin: "Development login", devLoginNote: "Local only: mints the same tokens as `make token`. Never served on AWS.",
    role: "Role", customer: "Customer", partner: "Partner", operator: "Operator",
    accountId: "Account id", partnerId: "Partner id", cognitoLogin: "Sign in with your account",
    overview: "Overview", transactions: "Transactions", topUp: "Top up", documents: "Documents", accounts: "Accounts",
    balance: "Balance", creditLimit: "Credit limit", available: "Available to spend", held: "Held",
    company: "Company", paymentReference: "Payment reference",
    type: "Type", from: "From", to: "To", any: "Any", filter: "Filter", next: "Next page", first: "First page",
    date: "Date", description: "Description", amount: "Amount", balanceAfter: "Balance after",
    noEntries: "Nothing here yet.", loading: "Loading...",
    method: "Method", card: "Card", bankTransfer: "Bank transfer", amountMajor: "Amount", pay: "Continue",
    sandboxTitle: "Sandbox checkout (local only)", sandboxPay: "Pay with the test card", sandboxDecline: "Decline",
    waiting: "Waiting for the payment to be confirmed...", credited: "Paid: the balance is topped up.",
    failed: "The payment failed.", proforma: "Proforma invoice", dueDate: "Due", iban: "IBAN", bic: "BIC",
    bank: "Bank", payee: "Payee", print: "Print", stripeNote: "Card payments on AWS continue at the payment provider.",
    redirecting: "Taking you to the payment page...", checkoutCancelled: "The payment was cancelled at the payment page: nothing was charged and the balance is unchanged.",
    saveCard: "Keep this card for renewals and automatic top-ups",
    checkoutNotFound: "This payment is not among the account's recent top-ups: the transactions will show it once it is confirmed.",
    amountInvalid: "Type an amount greater than zero, e.g. 250 or 250.50",
    downloadPdf: "Download PDF", pdfPreparing: "Preparing the PDF...",
    number: "Number", kind: "Kind", issued: "Issued", total: "Total", status: "Status", download: "Download",
    search: "Search", open: "Open", searchHint: "Part of the company name, a VAT id or a payment reference",
    notFound: "This account does not exist or you may not see it.", sessionEnded: "Your session has ended. Please sign in again.",
    forbidden: "You may not do this.", problem: "Something went wrong", retry: "Try again", fieldLabel: "Field",
    "entry.adjustment_credit": "Credit by an operator", "entry.adjustment_debit": "Debit by an operator",
    "entry.deposit_card": "Card top-up", "entry.deposit_bank_transfer": "Bank transfer top-up",
    "entry.deposit_reversal": "Top-up reversed", "entry.order_balance": "Order from the balance",
    "entry.order_credit": "Order on credit", "entry.order_card": "Order by card", "entry.order_gift_card": "Order by gift card",
    "entry.order_cancellation": "Order cancelled", "entry.order_refund": "Order refund",
    "doc.kind.tax_document": "Tax document", "doc.kind.statement": "Statement", "doc.kind.credit_invoice": "Credit invoice",
    "doc.kind.card_invoice": "Card invoice", "doc.kind.credit_note": "Credit note", "doc.kind.payment_request": "Payment request",
    "doc.status.paid": "Paid", "doc.status.due": "Due", "doc.status.overdue": "Overdue",
    // The API's problem titles (shared/account_credit/kernel/errors.py), by their type's slug.
    "problemType.bad-request": "Bad request", "problemType.validation-error": "Request is not valid",
    "problemType.not-found": "Not found", "problemType.unauthorized": "Authentication required",
    "problemType.forbidden": "Not allowed for this role", "problemType.conflict": "Conflict with the current state",
    "problemType.concurrent-update": "Concurrent update, retry with the same Idempotency-Key",
    "problemType.idempotency-key-reused": "Idempotency-Key was already used with a different request",
    "problemType.idempotency-key-missing": "Idempotency-Key header is required",
    "problemType.insufficient-funds": "Insufficient funds", "problemType.currency-mismatch": "Currency does not match the account",
    "problemType.service-unavailable": "Temporarily unavailable, retry later",
    "problemType.invalid-signature": "Webhook signature is not valid",
    "problemType.payment-provider-error": "The payment provider did not complete the request",
    "problemType.not-configured": "This operation is not configured in this deployment",
  },
  sk: {
    app: "Kreditný účet", signIn: "Prihlásiť", signOut: "Odhlásiť", language: "Jazyk",
    devLogin: "Vývojové prihlásenie", devLoginNote: "Len lokálne: vydá tie isté tokeny ako `make token`. Na AWS sa nikdy nezobrazí.",
    role: "Rola", customer: "Zákazník", partner: "Partner", operator: "Operátor",
    accountId: "Číslo účtu", partnerId: "Číslo partnera", cognitoLogin: "Prihlásiť sa svojím účtom",
    overview: "Prehľad", transactions: "Pohyby", topUp: "Dobitie", documents: "Doklady", accounts: "Účty",
    balance: "Zostatok", creditLimit: "Úverový limit", available: "Možno minúť", held: "Blokované",
    company: "Spoločnosť", paymentReference: "Variabilný symbol",
    type: "Typ", from: "Od", to: "Do", any: "Všetky", filter: "Filtrovať", next: "Ďalšia strana", first: "Prvá strana",
    date: "Dátum", description: "Popis", amount: "Suma", balanceAfter: "Zostatok po",
    noEntries: "Zatiaľ nič.", loading: "Načítava sa...",
    method: "Spôsob", card: "Karta", bankTransfer: "Bankový prevod", amountMajor: "Suma", pay: "Pokračovať",
    sandboxTitle: "Testovacia platba (len lokálne)", sandboxPay: "Zaplatiť testovacou kartou", sandboxDecline: "Zamietnuť",
    waiting: "Čakáme na potvrdenie platby...", credited: "Zaplatené: zostatok je dobitý.",
    failed: "Platba zlyhala.", proforma: "Zálohová faktúra", dueDate: "Splatnosť", iban: "IBAN", bic: "BIC",
    bank: "Banka", payee: "Príjemca", print: "Tlačiť", stripeNote: "Platba kartou na AWS pokračuje u poskytovateľa platieb.",
    redirecting: "Presmerúvame vás na platobnú stránku...", checkoutCancelled: "Platba bola na platobnej stránke zrušená: nič sme nestrhli a zostatok sa nezmenil.",
    saveCard: "Uložiť kartu na obnovy a automatické dobíjanie",
    checkoutNotFound: "Táto platba nie je medzi poslednými dobitiami účtu: v pohyboch sa zobrazí, keď bude potvrdená.",
    amountInvalid: "Zadajte sumu väčšiu ako nula, napr. 250 alebo 250,50",
    downloadPdf: "Stiahnuť PDF", pdfPreparing: "Pripravujeme PDF...",
    number: "Číslo", kind: "Druh", issued: "Vystavené", total: "Spolu", status: "Stav", download: "Stiahnuť",
    search: "Hľadať", open: "Otvoriť", searchHint: "Časť názvu firmy, IČ DPH alebo variabilný symbol",
    notFound: "Tento účet neexistuje alebo ho nemôžete vidieť.", sessionEnded: "Vaše prihlásenie vypršalo. Prihláste sa znova.",
    forbidden: "Toto nemôžete urobiť.", problem: "Niečo sa pokazilo", retry: "Skúsiť znova", fieldLabel: "Pole",
    "entry.adjustment_credit": "Pripísanie operátorom", "entry.adjustment_debit": "Odpísanie operátorom",
    "entry.deposit_card": "Dobitie kartou", "entry.deposit_bank_transfer": "Dobitie prevodom",
    "entry.deposit_reversal": "Zrušené dobitie", "entry.order_balance": "Objednávka zo zostatku",
    "entry.order_credit": "Objednávka na úver", "entry.order_card": "Objednávka kartou",
    "entry.order_gift_card": "Objednávka darčekovou kartou", "entry.order_cancellation": "Zrušená objednávka",
    "entry.order_refund": "Vrátenie za objednávku",
    "doc.kind.tax_document": "Daňový doklad", "doc.kind.statement": "Výpis", "doc.kind.credit_invoice": "Faktúra na úver",
    "doc.kind.card_invoice": "Faktúra za platbu kartou", "doc.kind.credit_note": "Dobropis", "doc.kind.payment_request": "Výzva na platbu",
    "doc.status.paid": "Zaplatené", "doc.status.due": "Na úhradu", "doc.status.overdue": "Po splatnosti",
    "problemType.bad-request": "Chybná požiadavka", "problemType.validation-error": "Požiadavka nie je platná",
    "problemType.not-found": "Nenašlo sa", "problemType.unauthorized": "Treba sa prihlásiť",
    "problemType.forbidden": "Pre túto rolu nepovolené", "problemType.conflict": "Nezodpovedá aktuálnemu stavu",
    "problemType.concurrent-update": "Súčasná zmena, skúste znova",
    "problemType.idempotency-key-reused": "Táto požiadavka už bola odoslaná s inými údajmi",
    "problemType.idempotency-key-missing": "Chýba kľúč požiadavky (Idempotency-Key)",
    "problemType.insufficient-funds": "Nedostatok prostriedkov", "problemType.currency-mismatch": "Mena nezodpovedá účtu",
    "problemType.service-unavailable": "Dočasne nedostupné, skúste neskôr",
    "problemType.invalid-signature": "Neplatný podpis webhooku",
    "problemType.payment-provider-error": "Poskytovateľ platieb požiadavku nedokončil",
    "problemType.not-configured": "Táto operácia nie je v tomto nasadení nastavená",
  },
};

export const LANGUAGES = { en: "English", sk: "Slovenčina" };

// A page module's own texts, per language (the same keys in both: a test of the portal checks it).
export function addTexts(more) {
  for (const [lang, texts] of Object.entries(more)) Object.assign(TEXTS[lang], texts);
}
const LOCALES = { en: "en-GB", sk: "sk-SK" };

export function initialLanguage() {
  const saved = localStorage.getItem("ac.lang");
  if (saved && TEXTS[saved]) return saved;
  return (navigator.language || "en").toLowerCase().startsWith("sk") ? "sk" : "en";
}

export function translator(lang) {
  const texts = TEXTS[lang] || TEXTS.en;
  const locale = LOCALES[lang] || LOCALES.en;
  const t = (key) => texts[key] ?? TEXTS.en[key] ?? key;
  t.lang = lang;
  // An API code in words ("entry", "deposit_card" -> "Card top-up"); a code without a text stays as it is.
  t.code = (group, code) => texts[`${group}.${code}`] ?? TEXTS.en[`${group}.${code}`] ?? code;
  t.digits = (currency) =>
    new Intl.NumberFormat(locale, { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
  // Minor units to a currency amount for people (EUR 12345 -> "123,45 €" in Slovak); integers only, no float input.
  t.money = (minor, currency) => {
    if (minor === null || minor === undefined) return "-";
    const digits = t.digits(currency);
    const sign = minor < 0 ? -1 : 1;
    const abs = Math.abs(minor);
    const major = Math.floor(abs / 10 ** digits) + (abs % 10 ** digits) / 10 ** digits;
    return new Intl.NumberFormat(locale, { style: "currency", currency }).format(sign * major);
  };
  // A plain date ("2026-12-15": a due date, an issue date) is a calendar day, not an instant: read and shown in UTC
  // so that it is the same day everywhere (new Date("2026-12-15") is UTC midnight, the day before west of UTC).
  t.date = (iso) => (iso ? new Intl.DateTimeFormat(locale, {
    dateStyle: "medium", ...(/^\d{4}-\d{2}-\d{2}$/.test(iso) ? { timeZone: "UTC" } : {}),
  }).format(new Date(iso)) : "-");
  t.dateTime = (iso) =>
    iso ? new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" }).format(new Date(iso)) : "-";
  return t;
}

// "250", "250.5", "250,50" -> minor units (25050 for 2 digits), or null when it is not an amount.
export function toMinor(text, digits) {
  const m = String(text).trim().match(/^(\d{1,13})(?:[.,](\d*))?$/);
  if (!m) return null;
  const frac = m[2] || "";
  if (frac.length > digits) return null;
  return Number(m[1]) * 10 ** digits + Number((frac + "0".repeat(digits)).slice(0, digits) || 0);
}
