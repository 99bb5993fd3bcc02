"""The parties of a document and the treatment of an account, from the deployment's seller configuration and the
account's own data (the pure rules are billing/tax.py and billing/document.py)."""

from __future__ import annotations

from account_credit.billing.document import Party
from account_credit.billing.tax import SellerTax, Treatment, decide
from account_credit.kernel.domain import Account
from account_credit.platform.config import Seller, seller

# Peppol electronic address schemes (EAS) that identify a party by its VAT number, per country: a party without
# an explicit Peppol endpoint is addressed by its VAT id where one of these exists (Slovakia: 9950, DIC).
VAT_EAS = {
    "AT": "9914", "BE": "9925", "BG": "9926", "CY": "9928", "CZ": "9929", "DE": "9930", "EE": "9931",
    "ES": "9920", "FR": "9957", "GR": "9933", "HR": "9934", "HU": "9910", "IE": "9935", "IT": "0211",
    "LT": "9937", "LU": "9938", "LV": "9939", "MT": "9943", "NL": "9944", "PL": "9945", "PT": "9946",
    "RO": "9947", "SI": "9949", "SK": "9950",
}  # fmt: skip


def endpoint(explicit: str | None, vat_id: str | None, country: str | None) -> str | None:
    """The party's Peppol address: the one it gave, else its VAT id under its country's VAT scheme, else none
    (a consumer: EN 16931 documents, not for a Peppol access point)."""
    if explicit:
        return explicit
    scheme = VAT_EAS.get(country or "")
    return f"{scheme}:{vat_id}" if scheme and vat_id else None


def seller_tax(cfg: Seller | None = None) -> SellerTax:
    cfg = cfg or seller()
    return SellerTax(registered=cfg.vat_registered, country=cfg.country, rate_bp=cfg.vat_rate_bp)


def treatment_of(account: Account, cfg: Seller | None = None) -> Treatment:
    """How everything sold to ``account`` is taxed now (frozen on each order and document when it is made)."""
    return decide(seller_tax(cfg), account.tax)


def seller_party(cfg: Seller | None = None) -> Party:
    cfg = cfg or seller()
    return Party(
        name=cfg.name,
        street=cfg.street,
        city=cfg.city,
        postal_code=cfg.postal_code,
        country=cfg.country,
        vat_id=cfg.vat_id,
        company_id=cfg.company_id,
        endpoint=endpoint(cfg.peppol_endpoint, cfg.vat_id, cfg.country),
        email=cfg.email,
        iban=cfg.iban,
        bic=cfg.bic,
        bank_name=cfg.bank_name,
    )


def buyer_party(account: Account) -> Party:
    company = account.company
    street = ", ".join(x for x in (company.address_line1, company.address_line2, company.address_line3) if x)
    return Party(
        name=company.name,
        street=street or None,
        city=company.city,
        postal_code=company.postal_code,
        country=account.tax.country or company.country,
        vat_id=account.tax.vat_id,
        company_id=account.tax.company_id,
        endpoint=endpoint(account.tax.peppol_endpoint, account.tax.vat_id, account.tax.country or company.country),
        email=account.billing_emails[0] if account.billing_emails else None,
    )
