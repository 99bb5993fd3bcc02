"""The parties of a document and the treatment of an account, from the deployment's seller configuration and the
account's own data (the pure rules are billing/tax.py and billing/document.py)."""

from __future__ import annotations

from account_credit.billing.document import Party
from account_credit.billing.tax import SellerTax, Treatment, decide
from account_credit.kernel.domain import Account
from account_credit.platform.config import Seller, seller


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
        endpoint=cfg.peppol_endpoint,
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
        endpoint=account.tax.peppol_endpoint,
        email=account.billing_emails[0] if account.billing_emails else None,
    )
