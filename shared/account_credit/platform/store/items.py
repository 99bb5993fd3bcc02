"""Mapping between domain objects and table items (plain Python values).

Both stores use these, so the fake and DynamoDB hold exactly the same items.
"""

from __future__ import annotations

from typing import Any

from account_credit.kernel.domain import Account, CompanyDetails, LedgerEntry, PaymentSettings, TaxDetails
from account_credit.platform.store import keys


def account_to_item(a: Account, version: int = 0) -> dict[str, Any]:
    return {
        "pk": keys.account_pk(a.account_id),
        "sk": keys.ACCOUNT_SK,
        "kind": "account",
        "account_id": a.account_id,
        "currency": a.currency,
        "company": {k: v for k, v in vars(a.company).items() if v is not None},
        "billing_emails": list(a.billing_emails),
        "partner_id": a.partner_id,
        "settings": {k: v for k, v in vars(a.settings).items() if v is not None},
        "credit_limit": a.credit_limit,
        "balance": a.balance,
        "held": a.held,
        "seq": a.seq,
        "version": version,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
        "payment_reference": a.payment_reference,
        "language": a.language,
        **({"tax": tax} if (tax := {k: v for k, v in vars(a.tax).items() if v is not None}) else {}),
        **(low_balance_keys(a) or {}),
    }


def is_below_threshold(a: Account) -> bool:
    t = a.settings.low_balance_threshold
    return t is not None and a.balance < t


def low_balance_keys(a: Account) -> dict[str, str] | None:
    """The sparse-index attributes an account item must carry, or None when it must carry none."""
    return {"gsi1pk": keys.LOW_BALANCE_PK, "gsi1sk": a.account_id} if is_below_threshold(a) else None


def account_from_item(item: dict[str, Any]) -> Account:
    return Account(
        account_id=item["account_id"],
        currency=item["currency"],
        company=CompanyDetails(**item.get("company", {})),
        billing_emails=tuple(item.get("billing_emails", ())),
        partner_id=item.get("partner_id"),
        settings=PaymentSettings.from_item(item.get("settings", {})),
        credit_limit=int(item["credit_limit"]),
        balance=int(item["balance"]),
        held=int(item.get("held", 0)),
        seq=int(item["seq"]),
        created_at=item.get("created_at", ""),
        updated_at=item.get("updated_at", ""),
        language=item.get("language", "en"),
        payment_reference=item.get("payment_reference"),
        tax=TaxDetails(**item.get("tax", {})),
    )


def entry_to_item(e: LedgerEntry) -> dict[str, Any]:
    item: dict[str, Any] = {
        "pk": keys.account_pk(e.account_id),
        "sk": keys.entry_sk(e.created_at, e.entry_id),
        "gsi1pk": keys.entry_type_pk(e.account_id, e.type),
        "gsi1sk": keys.entry_type_sk(e.created_at, e.entry_id),
        "kind": "entry",
        # seq and balance_after are absent until the ledger sequencer places the entry
        **{k: v for k, v in e.as_dict().items() if v is not None and k != "documents"},
    }
    if e.idempotency_key is not None:
        item["idempotency_key"] = e.idempotency_key
    return item


def entry_from_item(item: dict[str, Any]) -> LedgerEntry:
    return LedgerEntry(
        entry_id=item["entry_id"],
        account_id=item["account_id"],
        seq=int(item["seq"]) if "seq" in item else None,
        type=item["type"],
        amount=int(item["amount"]),
        currency=item["currency"],
        balance_after=int(item["balance_after"]) if "balance_after" in item else None,
        created_at=item["created_at"],
        description=item.get("description", ""),
        actor=item.get("actor", ""),
        reference=dict(item.get("reference", {})),
        idempotency_key=item.get("idempotency_key"),
        documents=tuple(item.get("documents", ())),
    )
