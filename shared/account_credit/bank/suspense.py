"""The suspense list (operators): unmatched bank transfers, assigned to an account (credited once) or
marked returned. Nothing that arrives is dropped: an unmatched transfer waits here (bank/service.py puts it).
Operators only: the router checks the role before calling (403), the functions take commands.
"""

from __future__ import annotations

from typing import Any

from account_credit.bank.commands import AssignSuspense, ReturnSuspense
from account_credit.bank.service import credit_transfer
from account_credit.deposits import schemas as ds
from account_credit.kernel.errors import Conflict, CurrencyMismatchError, NotFound
from account_credit.kernel.ids import iso, utc_now
from account_credit.platform import idempotency
from account_credit.platform.commit import commit
from account_credit.platform.store import CommitResult, RecordUpdate, Store, keys
from account_credit.platform.store.base import stored_response

# The suspense list is one partition, read whole (then filtered and sorted).
LIST_READ_LIMIT = 1000


def _suspense_view(item: dict[str, Any]) -> dict[str, Any]:
    return ds.SuspenseItem(
        transfer_id=item["transfer_id"],
        state=item["state"],
        reason=item["reason"],
        transfer=ds.Transfer(**item["transfer"]),
        message=item.get("message"),
        received_at=item["received_at"],
        account_id=item.get("account_id"),
        deposit_id=item.get("deposit_id"),
        resolved_at=item.get("resolved_at"),
        resolved_by=item.get("resolved_by"),
        return_reason=item.get("return_reason"),
    ).model_dump(mode="json")


def list_suspense(store: Store, *, state: str | None, limit: int) -> dict[str, Any]:
    """Newest first; ``state`` open / assigned / returned (None: all). Operators only (checked at the edge)."""
    rows = store.query_prefix(*keys.suspense_prefix(), limit=LIST_READ_LIMIT)
    if state:
        rows = [r for r in rows if r.get("state") == state]
    rows.sort(key=lambda r: (r["received_at"], r["transfer_id"]), reverse=True)
    return {"items": [_suspense_view(r) for r in rows[:limit]]}


def _open_suspense(store: Store, transfer_id: str) -> dict[str, Any]:
    item = store.get_item(*keys.suspense_transfer(transfer_id))
    if item is None:
        raise NotFound(f"no unmatched transfer {transfer_id}")
    return item


def assign(store: Store, cmd: AssignSuspense) -> CommitResult:
    """Credit a suspense transfer to an account, once. A replay with the same key returns the first answer."""
    transfer_id = cmd.transfer_id
    claim = idempotency.claim(cmd.account_id, "suspense-assign", cmd.idempotency_key, cmd.fingerprint())
    old = store.get_item(claim.pk, claim.sk)
    if old is not None:
        return stored_response(old, claim)
    item = _open_suspense(store, transfer_id)
    if item["state"] != "open":
        raise Conflict(f"transfer {transfer_id} is already {item['state']}")
    account = store.get_account(cmd.account_id)
    if account is None:
        raise NotFound(f"account {cmd.account_id} not found", field="account_id")
    info = item["transfer"]
    if account.currency != info["currency"]:
        raise CurrencyMismatchError(
            f"the transfer is in {info['currency']}, account {account.account_id} in {account.currency}; "
            "mark it returned instead",
            field="account_id",
        )
    transfer = ds.IncomingTransfer(
        transfer_id=transfer_id,
        amount=info["amount"],
        currency=info["currency"],
        reference=info.get("reference"),
        booked_date=info["booked_date"],
    )
    return credit_transfer(store, account, transfer, info, cmd.actor, claim, suspense=item)


def mark_returned(store: Store, cmd: ReturnSuspense) -> dict[str, Any]:
    """The money goes back to the payer outside this service; the transfer leaves the open list."""
    transfer_id = cmd.transfer_id
    item = _open_suspense(store, transfer_id)
    if item["state"] == "returned":
        return _suspense_view(item)
    if item["state"] != "open":
        raise Conflict(f"transfer {transfer_id} is already {item['state']}")
    now = iso(utc_now())
    uow = store.unit_of_work()
    changes = {"state": "returned", "resolved_at": now, "resolved_by": cmd.actor, "return_reason": cmd.reason}
    uow.update(
        RecordUpdate(
            *keys.suspense_transfer(transfer_id),
            changes=changes,
            expect={"state": "open"},
            on_mismatch=lambda _old: Conflict(f"transfer {transfer_id} was resolved meanwhile"),
        )
    )
    uow.update(
        RecordUpdate(
            *keys.bank_transfer(transfer_id),
            changes={"status": "returned"},
            expect={"status": "suspense"},
            on_mismatch=lambda _old: Conflict(f"transfer {transfer_id} was resolved meanwhile"),
        )
    )
    commit(uow, None, lambda _p: {})
    return _suspense_view({**item, **changes})
