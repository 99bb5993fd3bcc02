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
}

KINDS = frozenset(_TEMPLATES)


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
