"""Email texts per kind and language (English default, Slovak). Text and HTML bodies."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str  # e.g. application/pdf
    data: bytes


@dataclass(frozen=True)
class Email:
    to: tuple[str, ...]
    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


# kind -> language -> (subject, body). Bodies are str.format templates over the context.
_TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "low_balance": {
        "en": (
            "Low balance: {company}",
            "The balance of account {account_id} ({company}) is {balance}, below your alert threshold of "
            "{threshold}.\nTop up to keep orders and renewals paid automatically.",
        ),
        "sk": (
            "Nízky kredit: {company}",
            "Kredit účtu {account_id} ({company}) je {balance}, pod vaším limitom upozornenia {threshold}.\n"
            "Dobite kredit, aby sa objednávky a obnovy platili automaticky.",
        ),
    },
    "credit_in_use": {
        "en": (
            "Credit limit in use: {company}",
            "The balance of account {account_id} ({company}) is {balance}: you are using your credit limit of "
            "{credit_limit}. Used credit is invoiced.",
        ),
        "sk": (
            "Čerpáte úver: {company}",
            "Kredit účtu {account_id} ({company}) je {balance}: čerpáte úverový limit {credit_limit}. "
            "Čerpaný úver bude vyfakturovaný.",
        ),
    },
    "deposit.received": {
        "en": (
            "Deposit received: {amount}",
            "We received {amount} for account {account_id} ({company}). New balance: {balance}.",
        ),
        "sk": (
            "Platba prijatá: {amount}",
            "Prijali sme {amount} na účet {account_id} ({company}). Nový zostatok kreditu: {balance}.",
        ),
    },
    "deposit.reversed": {
        "en": (
            "Top-up reversed: {amount}",
            "A top-up of {amount} on account {account_id} ({company}) was refunded or disputed at the payment "
            "provider and has been taken back. New balance: {balance}.",
        ),
        "sk": (
            "Dobitie stornované: {amount}",
            "Dobitie {amount} na účte {account_id} ({company}) bolo vrátené alebo reklamované a bolo odpočítané. "
            "Nový zostatok kreditu: {balance}.",
        ),
    },
    "proforma.issued": {
        "en": (
            "Proforma invoice {number}: {amount}",
            "Proforma invoice {number} for {amount} was issued to account {account_id} ({company}).\n"
            "Pay by bank transfer by {due_date} with the payment reference {reference}.\n{bank}\n"
            "Balance now: {balance}.",
        ),
        "sk": (
            "Zálohová faktúra {number}: {amount}",
            "Vystavili sme zálohovú faktúru {number} na {amount} pre účet {account_id} ({company}).\n"
            "Zaplaťte prevodom do {due_date} s variabilným symbolom {reference}.\n{bank}\n"
            "Aktuálny kredit: {balance}.",
        ),
    },
    "document.stored": {
        "en": (
            "{title} {number}: {amount}",
            "{title} {number} for {amount} was issued to account {account_id} ({company}); the PDF is attached and "
            "the e-invoice (UBL XML) can be downloaded with the API or the portal.\n{due}",
        ),
        "sk": (
            "Doklad {number} ({title}): {amount}",
            "Pre účet {account_id} ({company}) sme vystavili doklad {number} ({title}) na {amount}; PDF je v "
            "prílohe, elektronickú faktúru (UBL XML) si stiahnete cez API alebo portál.\n{due}",
        ),
    },
    "po.submitted": {
        "en": (
            "Purchase order {po_number} submitted: {amount}",
            "Account {account_id} ({company}) submitted purchase order {po_number} for {amount}. Approve or reject "
            "it in the purchase orders queue.",
        ),
        "sk": (
            "Prijatá objednávka {po_number}: {amount}",
            "Účet {account_id} ({company}) poslal objednávku {po_number} na {amount}. Schváľte ju alebo zamietnite "
            "vo fronte objednávok.",
        ),
    },
    "po.approved": {
        "en": (
            "Purchase order {po_number} approved: invoice {number}",
            "Your purchase order {po_number} of account {account_id} ({company}) is approved. Invoice {number} for "
            "{amount} is attached; funds become available as your payments arrive.\n{due}",
        ),
        "sk": (
            "Objednávka {po_number} schválená: faktúra {number}",
            "Vaša objednávka {po_number} účtu {account_id} ({company}) je schválená. Faktúru {number} na {amount} "
            "nájdete v prílohe; kredit pribúda s každou prijatou platbou.\n{due}",
        ),
    },
    "po.rejected": {
        "en": (
            "Purchase order {po_number} rejected",
            "Your purchase order {po_number} of account {account_id} ({company}) was rejected: {reason}",
        ),
        "sk": (
            "Objednávka {po_number} zamietnutá",
            "Vaša objednávka {po_number} účtu {account_id} ({company}) bola zamietnutá: {reason}",
        ),
    },
    "po.cancelled": {
        "en": (
            "Invoice {number} of purchase order {po_number} cancelled",
            "Invoice {number} of purchase order {po_number} (account {account_id}, {company}) was cancelled: "
            "{reason}. Payments received so far stay on your balance.",
        ),
        "sk": (
            "Faktúra {number} k objednávke {po_number} zrušená",
            "Faktúra {number} k objednávke {po_number} (účet {account_id}, {company}) bola zrušená: {reason}. "
            "Doteraz prijaté platby zostávajú na vašom kredite.",
        ),
    },
    "po.overdue": {
        "en": (
            "Reminder: invoice {number} of purchase order {po_number} is overdue",
            "Invoice {number} of purchase order {po_number} (account {account_id}, {company}) was due on "
            "{due_date}; {amount} is still unpaid.\nPay by bank transfer with the payment reference {reference}.\n"
            "{bank}",
        ),
        "sk": (
            "Upomienka: faktúra {number} k objednávke {po_number} je po splatnosti",
            "Faktúra {number} k objednávke {po_number} (účet {account_id}, {company}) bola splatná {due_date}; "
            "neuhradených zostáva {amount}.\nZaplaťte prevodom s variabilným symbolom {reference}.\n{bank}",
        ),
    },
    "invoice.paid": {
        "en": (
            "Invoice {number} paid: {amount}",
            "Invoice {number} of account {account_id} ({company}) for {amount} is paid in full. Thank you.",
        ),
        "sk": (
            "Faktúra {number} uhradená: {amount}",
            "Faktúra {number} účtu {account_id} ({company}) na {amount} je uhradená v plnej výške. Ďakujeme.",
        ),
    },
    "invoice.overdue": {
        "en": (
            "Invoice {number} is overdue: {amount} due",
            "Invoice {number} of account {account_id} ({company}) was due on {due_date}; {amount} is still "
            "unpaid.\nPay by bank transfer with the payment reference {reference}.\n{bank}",
        ),
        "sk": (
            "Faktúra {number} je po splatnosti: zostáva {amount}",
            "Faktúra {number} účtu {account_id} ({company}) bola splatná {due_date}; neuhradených zostáva "
            "{amount}.\nZaplaťte prevodom s variabilným symbolom {reference}.\n{bank}",
        ),
    },
    "order.declined": {
        "en": (
            "Order {order_id} declined: insufficient funds",
            "Order {order_id} for {amount} on account {account_id} ({company}) was declined: insufficient funds, "
            "short by {shortfall}. Balance: {balance}.",
        ),
        "sk": (
            "Objednávka {order_id} zamietnutá: nedostatok kreditu",
            "Objednávka {order_id} na {amount} na účte {account_id} ({company}) bola zamietnutá pre nedostatok "
            "kreditu, chýba {shortfall}. Kredit: {balance}.",
        ),
    },
    "order.refunded": {
        "en": (
            "Order {order_id}: {amount} refunded",
            "{certificates} certificate(s) of order {order_id} of account {account_id} ({company}) were refunded: "
            "{amount} went back {refunded_to}.\nA credit note for it follows (a card order's at once; a balance "
            "order's with the month's statement that lists it).",
        ),
        "sk": (
            "Objednávka {order_id}: vrátených {amount}",
            "Za {certificates} certifikát(y) objednávky {order_id} účtu {account_id} ({company}) sme vrátili "
            "{amount}: {refunded_to}.\nDobropis nasleduje (pri platbe kartou hneď, pri platbe z kreditu s mesačným "
            "výpisom, v ktorom je objednávka).",
        ),
    },
    # ----------------------------------------------------------------- subscriptions, renewals, cards, auto top-up
    "renewal.succeeded": {
        "en": (
            "Subscription {subscription_id} renewed: {amount}",
            "Subscription {subscription_id} of account {account_id} ({company}) is renewed for term {term}. "
            "{amount} was paid {paid_by} (order {order_id}).",
        ),
        "sk": (
            "Predplatné {subscription_id} obnovené: {amount}",
            "Predplatné {subscription_id} účtu {account_id} ({company}) je obnovené na obdobie {term}. "
            "Suma {amount} bola uhradená {paid_by} (objednávka {order_id}).",
        ),
    },
    "renewal.paid_with_alternate": {
        "en": (
            "Subscription {subscription_id} renewed with your alternate payment method",
            "Subscription {subscription_id} of account {account_id} ({company}) is renewed for term {term}, but "
            "{failed_method} could not pay it ({decline_code}). {amount} was paid {paid_by} instead (order "
            "{order_id}).\nPlease check or update {failed_method} so that the next renewal is paid as you chose.",
        ),
        "sk": (
            "Predplatné {subscription_id} obnovené náhradným spôsobom platby",
            "Predplatné {subscription_id} účtu {account_id} ({company}) je obnovené na obdobie {term}, no platba "
            "({failed_method}) bola zamietnutá ({decline_code}). Suma {amount} bola namiesto toho uhradená {paid_by} "
            "(objednávka {order_id}).\nSkontrolujte alebo aktualizujte spôsob platby, ktorý zlyhal, aby sa ďalšia "
            "obnova uhradila podľa vašej voľby.",
        ),
    },
    "renewal.failed": {
        "en": (
            "Action needed: the renewal of subscription {subscription_id} could not be paid",
            "The renewal of subscription {subscription_id} of account {account_id} ({company}) for term {term} "
            "({amount}) could not be paid: {reasons}.\nWe try again every day until {retry_until}; if it is still "
            "unpaid then, the subscription is suspended. To keep it: top up your balance (balance now {balance}), "
            "update the card on file, or choose another payment method for the subscription.",
        ),
        "sk": (
            "Potrebná akcia: obnovu predplatného {subscription_id} sa nepodarilo uhradiť",
            "Obnovu predplatného {subscription_id} účtu {account_id} ({company}) na obdobie {term} ({amount}) sa "
            "nepodarilo uhradiť: {reasons}.\nSkúsime to znova každý deň do {retry_until}; ak ani potom nebude "
            "uhradená, predplatné pozastavíme. Ak ho chcete zachovať: dobite kredit (aktuálne {balance}), "
            "aktualizujte uloženú kartu alebo zvoľte pre predplatné iný spôsob platby.",
        ),
    },
    "subscription.suspended": {
        "en": (
            "Subscription {subscription_id} suspended",
            "Subscription {subscription_id} of account {account_id} ({company}) is suspended: {why}\nIts "
            "certificates inventory cannot be used while it is suspended.",
        ),
        "sk": (
            "Predplatné {subscription_id} pozastavené",
            "Predplatné {subscription_id} účtu {account_id} ({company}) je pozastavené: {why}\nPočas pozastavenia "
            "nemožno používať jeho certifikáty.",
        ),
    },
    "renewal.forecast_short": {
        "en": (
            "Upcoming renewals: {due} due by {window_end}, {available} available",
            "Renewals of account {account_id} ({company}) due by {window_end} cost {due}: {renewals}.\nYour balance "
            "and credit limit cover {available}, short by {shortfall}. Top up before the renewal date so the "
            "renewals do not fail.",
        ),
        "sk": (
            "Blížiace sa obnovy: {due} do {window_end}, k dispozícii {available}",
            "Obnovy predplatných účtu {account_id} ({company}) splatné do {window_end} stoja {due}: {renewals}.\n"
            "Kredit a úverový limit pokryjú {available}, chýba {shortfall}. Dobite kredit pred dátumom obnovy, aby "
            "obnovy neboli zamietnuté.",
        ),
    },
    "card.expiring": {
        "en": (
            "Your {brand} card ending {last4} expires {expiry}",
            "The {brand} card ending {last4} on account {account_id} ({company}) expires at the end of {expiry}. "
            "Renewals and top-ups rely on it: add a new card before then.",
        ),
        "sk": (
            "Vaša karta {brand} končiaca {last4} expiruje {expiry}",
            "Platnosť karty {brand} končiacej {last4} na účte {account_id} ({company}) končí koncom {expiry}. "
            "Obnovy a dobitia sa na ňu spoliehajú: pridajte novú kartu ešte predtým.",
        ),
    },
    "auto_top_up.succeeded": {
        "en": (
            "Automatic top-up: {amount}",
            "Your balance on account {account_id} ({company}) fell below your auto top-up level, so we charged "
            "{amount} to your {brand} card ending {last4} and added it to the balance (top-up {deposit_id}).",
        ),
        "sk": (
            "Automatické dobitie: {amount}",
            "Kredit účtu {account_id} ({company}) klesol pod hranicu automatického dobitia, preto sme z vašej "
            "karty {brand} končiacej {last4} strhli {amount} a pripísali ich ku kreditu (dobitie {deposit_id}).",
        ),
    },
    "auto_top_up.declined": {
        "en": (
            "Automatic top-up declined: {amount}",
            "Your balance on account {account_id} ({company}) fell below your auto top-up level, but the {brand} "
            "card ending {last4} declined the charge of {amount} ({decline_code}). Balance: {balance}.\nUpdate your "
            "card or top up by bank transfer.",
        ),
        "sk": (
            "Automatické dobitie zamietnuté: {amount}",
            "Kredit účtu {account_id} ({company}) klesol pod hranicu automatického dobitia, no karta {brand} "
            "končiaca {last4} platbu {amount} zamietla ({decline_code}). Kredit: {balance}.\nAktualizujte kartu "
            "alebo dobite kredit prevodom.",
        ),
    },
}

KINDS = frozenset(_TEMPLATES)
RENEWAL_KINDS = frozenset(
    k for k in _TEMPLATES if k.split(".")[0] in ("renewal", "subscription", "card", "auto_top_up")
)

_METHODS = {
    "balance": {"en": "from your balance", "sk": "z kreditu"},
    "credit": {"en": "on your credit limit", "sk": "z úverového limitu"},
    "gift_card": {"en": "with a gift card", "sk": "darčekovou kartou"},
    "card": {"en": "by card", "sk": "kartou"},
}
_REFUNDED_TO = {
    "balance": {"en": "to your balance", "sk": "do kreditu"},
    "credit": {"en": "off the credit used", "sk": "na znížení čerpaného úveru"},
    "card": {"en": "to your card", "sk": "na kartu"},
    "gift_card": {"en": "to the gift card", "sk": "na darčekovú kartu"},
}


def refunded_to(to: Any, currency: str, language: str) -> str:
    """Where a refund's money went, per source: "to your balance (€10.00), off the credit used (€5.00)"."""
    lang = language if language in ("en", "sk") else "en"
    if not isinstance(to, dict) or not to:
        return "-"
    return ", ".join(
        f"{_REFUNDED_TO.get(str(k), {}).get(lang, str(k))} ({money(v, currency, lang)})" for k, v in to.items()
    )


_FAILED = {"balance": {"en": "your balance", "sk": "kredit"}, "card": {"en": "your card", "sk": "vaša karta"}}
_SUSPENDED = {
    "renewal_failed": {
        "en": "its renewal could not be paid within the grace period. Create a new subscription to continue.",
        "sk": "jeho obnovu sa nepodarilo uhradiť v lehote. Pre pokračovanie vytvorte nové predplatné.",
    },
    "customer": {
        "en": "you suspended it. Reactivate it any time before its term ends.",
        "sk": "pozastavili ste ho. Kedykoľvek pred koncom obdobia ho môžete znova aktivovať.",
    },
}


def _paid_by(p: dict[str, Any], lang: str) -> str:
    if p.get("last4"):
        card = (
            f"{p.get('brand') or 'card'} ending {p['last4']}"
            if lang == "en"
            else f"{p.get('brand') or 'karta'} *{p['last4']}"
        )
        return f"by card ({card})" if lang == "en" else f"kartou ({card})"
    return _METHODS.get(str(p.get("method")), {}).get(lang, str(p.get("method") or "-"))


def renewal_context(kind: str, p: dict[str, Any], currency: str, language: str) -> dict[str, Any]:
    """The context of a subscription, renewal, card or auto top-up email from its event's payload."""
    lang = language if language in ("en", "sk") else "en"
    out: dict[str, Any] = {
        k: p[k] for k in ("subscription_id", "term", "brand", "last4", "deposit_id") if p.get(k) is not None
    }
    out["decline_code"] = p.get("decline_code") or ("declined" if lang == "en" else "zamietnuté")
    out["paid_by"] = _paid_by(p, lang)
    failed = p.get("failed_method")
    out["failed_method"] = _FAILED["balance" if failed == "balance" else "card"][lang] if failed else "-"
    reasons = p.get("reasons")
    out["reasons"] = "; ".join(str(r) for r in reasons) if isinstance(reasons, list) and reasons else "-"
    out["retry_until"] = date(p.get("retry_until"), lang)
    out["window_end"] = date(p.get("window_end"), lang)
    for name in ("due", "available"):
        out[name] = money(p.get(name), currency, lang)
    if isinstance(p.get("due"), int) and isinstance(p.get("available"), int):
        out["shortfall"] = money(max(0, p["due"] - p["available"]), currency, lang)
    subs = p.get("subscriptions")
    if isinstance(subs, list):
        listed = [
            f"{x.get('subscription_id')} {date(x.get('renewal_date'), lang)} {money(x.get('amount'), currency, lang)}"
            for x in subs
            if isinstance(x, dict)
        ]
        out["renewals"] = ", ".join(listed) or "-"
    if kind == "subscription.suspended":
        out["why"] = _SUSPENDED.get(str(p.get("reason")), _SUSPENDED["customer"])[lang]
    if str(p.get("exp_month", "")).isdigit() and str(p.get("exp_year", "")).isdigit():
        out["expiry"] = f"{int(p['exp_month']):02d}/{int(p['exp_year'])}"
    return out


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "-"


TITLES = {
    "tax_document": {"en": "Tax document", "sk": "Daňový doklad k prijatej platbe"},
    "statement": {"en": "Statement", "sk": "Vyúčtovanie zálohy"},
    "credit_invoice": {"en": "Invoice", "sk": "Faktúra"},
    "card_invoice": {"en": "Invoice (paid by card)", "sk": "Faktúra (uhradená kartou)"},
    "credit_note": {"en": "Credit note", "sk": "Dobropis"},
}
DUE = {
    "en": "Amount due {amount} by {due_date}: pay by bank transfer with the payment reference {reference}.\n{bank}",
    "sk": "K úhrade {amount} do {due_date}: zaplaťte prevodom s variabilným symbolom {reference}.\n{bank}",
}
PAID = {"en": "Nothing is due: it is paid.", "sk": "Nič nie je k úhrade: doklad je uhradený."}


def money(amount: Any, currency: str, language: str = "en") -> str:
    """``1 234,50 €`` in Slovak, ``€1,234.50`` in English: formatted for the locale by Babel."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        return "-"
    from account_credit.rendering.locale import money as localized  # Babel: the documents layer

    return localized(amount, currency, language)


def date(value: Any, language: str = "en") -> str:
    if not isinstance(value, str) or not value:
        return "-"
    from account_credit.rendering.locale import date as localized

    return localized(value[:10], language)


def render(
    kind: str, language: str, to: tuple[str, ...], context: dict[str, Any], attachments: tuple[Attachment, ...] = ()
) -> Email:
    """The email for ``kind`` in ``language`` (falls back to English)."""
    by_lang = _TEMPLATES[kind]
    if language not in by_lang:
        language = "en"
    subject_t, body_t = by_lang[language]
    ctx = _Blank({k: str(v) for k, v in context.items()})
    # A header is one line: control characters (a line break in a company name) become spaces.
    subject = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", subject_t.format_map(ctx)).split())
    text = body_t.format_map(ctx)
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n") if p.strip())
    body_html = (
        f'<!doctype html><html lang="{html.escape(language)}"><body style="font-family:sans-serif">'
        f"<h2>{html.escape(subject)}</h2>{paragraphs}</body></html>"
    )
    return Email(to=to, subject=subject, text=text + "\n", html=body_html, attachments=attachments)
