"""Every word a printed billing document shows, in English and Slovak (``label``, ``title``, ``exemption_note``).

Pure data: a language other than ``en`` or ``sk`` falls back to English, like the amounts and dates
(``rendering.locale``). A label missing from a language is a bug the tests catch: both have the same keys.
"""

from __future__ import annotations

from account_credit.billing.document import Kind
from account_credit.billing.tax import Category, Treatment

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "number": "Number",
        "issue_date": "Issue date",
        "due_date": "Due date",
        "period": "Period",
        "top_up": "Top-up",
        "corrects": "Corrects document",
        "seller": "Seller",
        "buyer": "Buyer",
        "company_id": "Company ID",
        "tax_id": "Tax ID",
        "vat_id": "VAT ID",
        "email": "Email",
        "description": "Description",
        "order": "Order",
        "quantity": "Qty",
        "net": "Net",
        "vat": "VAT",
        "gross": "Gross",
        "vat_summary": "VAT summary",
        "vat_rate": "VAT rate",
        "tax_base": "Tax base",
        "total_net": "Total net",
        "total_vat": "Total VAT",
        "total": "Total",
        "prepaid": "Already paid",
        "prepaid_statement": "Paid by prepayment",
        "prepaid_card": "Paid by card",
        "prepaid_tax_document": "Payment received",
        "payable": "Amount due",
        "reverse_charge": "Reverse charge",
        "not_subject": "Not subject to VAT",
        "payment": "Payment instructions",
        "payment_hint": "Please pay by bank transfer, quoting the payment reference.",
        "beneficiary": "Beneficiary",
        "iban": "IBAN",
        "bic": "BIC (SWIFT)",
        "bank": "Bank",
        "payment_reference": "Payment reference",
        "amount": "Amount",
        "notes": "Notes",
        "page": "Page {page} of {pages}",
    },
    "sk": {
        "number": "Číslo",
        "issue_date": "Dátum vystavenia",
        "due_date": "Dátum splatnosti",
        "period": "Obdobie",
        "top_up": "Záloha",
        "corrects": "Opravuje doklad",
        "seller": "Dodávateľ",
        "buyer": "Odberateľ",
        "company_id": "IČO",
        "tax_id": "DIČ",
        "vat_id": "IČ DPH",
        "email": "E-mail",
        "description": "Popis",
        "order": "Objednávka",
        "quantity": "Množ.",
        "net": "Základ",
        "vat": "DPH",
        "gross": "Spolu",
        "vat_summary": "Rekapitulácia DPH",
        "vat_rate": "Sadzba DPH",
        "tax_base": "Základ dane",
        "total_net": "Základ dane spolu",
        "total_vat": "DPH spolu",
        "total": "Spolu",
        "prepaid": "Už uhradené",
        "prepaid_statement": "Uhradené zálohou",
        "prepaid_card": "Uhradené kartou",
        "prepaid_tax_document": "Prijatá platba",
        "payable": "K úhrade",
        "reverse_charge": "Prenesenie daňovej povinnosti",
        "not_subject": "Nepodlieha DPH",
        "payment": "Platobné údaje",
        "payment_hint": "Uhraďte, prosím, bankovým prevodom s uvedením variabilného symbolu.",
        "beneficiary": "Príjemca",
        "iban": "IBAN",
        "bic": "BIC (SWIFT)",
        "bank": "Banka",
        "payment_reference": "Variabilný symbol",
        "amount": "Suma",
        "notes": "Poznámky",
        "page": "Strana {page} z {pages}",
    },
}

_TITLES: dict[str, dict[Kind, str]] = {
    "en": {
        Kind.TAX_DOCUMENT: "Tax document for a received payment",
        Kind.STATEMENT: "Statement of top-up usage",
        Kind.CREDIT_INVOICE: "Invoice",
        Kind.CARD_INVOICE: "Invoice (paid by card)",
        Kind.CREDIT_NOTE: "Credit note",
        Kind.PAYMENT_REQUEST: "Payment request (proforma invoice)",
    },
    "sk": {
        Kind.TAX_DOCUMENT: "Daňový doklad k prijatej platbe",
        Kind.STATEMENT: "Vyúčtovanie zálohy",
        Kind.CREDIT_INVOICE: "Faktúra",
        Kind.CARD_INVOICE: "Faktúra (uhradená kartou)",
        Kind.CREDIT_NOTE: "Dobropis",
        Kind.PAYMENT_REQUEST: "Zálohová faktúra (výzva na platbu)",
    },
}

# The legal notes billing/tax.py issues (English, as in the e-invoice), in Slovak; by CEF VATEX code for any other.
_REASONS_SK = {
    "Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive 2006/112/EC)": (
        "Prenesenie daňovej povinnosti: daň je povinný zaplatiť príjemca služby (článok 196 smernice Rady 2006/112/ES)"
    ),
    "Not subject to VAT: the seller is not VAT-registered": "Nepodlieha DPH: dodávateľ nie je platiteľom DPH",
    "Not subject to VAT in the EU: services supplied to a customer established outside the EU": (
        "Nepodlieha DPH v EÚ: služba poskytnutá zákazníkovi so sídlom mimo EÚ"
    ),
}
_CODES_SK = {
    "VATEX-EU-AE": "Prenesenie daňovej povinnosti (článok 196 smernice Rady 2006/112/ES)",
    "VATEX-EU-O": "Nepodlieha DPH",
}

_PREPAID = {
    Kind.STATEMENT: "prepaid_statement",
    Kind.CARD_INVOICE: "prepaid_card",
    Kind.TAX_DOCUMENT: "prepaid_tax_document",
}


def _lang(language: str) -> str:
    return language if language in _LABELS else "en"


def label(key: str, language: str) -> str:
    """The text of ``key`` in ``language`` (English if the language is not supported)."""
    return _LABELS[_lang(language)][key]


def labels(language: str) -> dict[str, str]:
    return dict(_LABELS[_lang(language)])


def title(kind: Kind, language: str) -> str:
    """The document's title: sk ``Faktúra``, ``Daňový doklad k prijatej platbe``...; en ``Invoice``..."""
    return _TITLES[_lang(language)][kind]


def prepaid_label(kind: Kind, language: str) -> str:
    """What the amount already paid is called on a document of ``kind``: a deducted prepayment on a statement, a
    card payment on a card invoice, the payment received on a tax document."""
    return label(_PREPAID.get(kind, "prepaid"), language)


def category_label(treatment: Treatment, rate: str, language: str) -> str:
    """The VAT summary's first column: the rate for S, the name of the treatment for AE and O."""
    if treatment.category is Category.REVERSE_CHARGE:
        return f"{label('reverse_charge', language)} ({rate})"
    if treatment.category is Category.NOT_SUBJECT:
        return label("not_subject", language)
    return rate


def exemption_note(treatment: Treatment, language: str) -> str | None:
    """The legal note of a reverse-charged or not-taxed document in ``language``; None under the standard rate.

    English prints the reason as issued; Slovak its translation, or a note by exemption code for a reason not known
    here, or the issued text if neither is known."""
    reason = treatment.exemption_reason
    if treatment.category is Category.STANDARD and not reason:
        return None
    if _lang(language) == "sk":
        return _REASONS_SK.get(reason or "") or _CODES_SK.get(treatment.exemption_code or "") or reason
    return reason or label("reverse_charge" if treatment.category is Category.REVERSE_CHARGE else "not_subject", "en")
