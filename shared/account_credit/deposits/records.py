"""What card top-ups (deposits/service.py) and bank transfers (bank/) share: the deposit item's
conditional update, the duplicate/stale signals, the amount bounds, the view, and the refusal
of a webhook that fails verification. Neither of the two imports the other's internals.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NoReturn

from aws_lambda_powertools import Logger

from account_credit.deposits import schemas as ds
from account_credit.deposits.config import deposit_settings
from account_credit.deposits.state import Deposit, proforma_status
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import CurrencyMismatchError, DomainError, InvalidInput, InvalidWebhookSignature
from account_credit.kernel.money import Money
from account_credit.platform.store import RecordUpdate, Store, keys

logger = Logger(child=True)


# --------------------------------------------------------------------------- shared by card and bank


class StaleDeposit(DomainError):
    """The deposit changed between our read and our write: read again and decide again."""

    status = 409
    slug = "concurrent-update"
    title = "Concurrent update"


class AlreadyRecorded(DomainError):
    """A must-not-exist record (webhook event, bank transfer) is already there: a duplicate delivery."""

    status = 409
    slug = "duplicate"
    title = "Already recorded"

    def __init__(self, old: dict[str, Any]) -> None:
        super().__init__("already recorded")
        self.old = old


def _raise_duplicate(old: dict[str, Any]) -> DomainError:
    return AlreadyRecorded(old)


def _stale(_old: dict[str, Any] | None) -> DomainError:
    return StaleDeposit("the deposit changed meanwhile")


def plain(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Enum values as plain strings (the stores keep exactly what they are given)."""
    return {k: (v.value if isinstance(v, StrEnum) else v) for k, v in changes.items()}


def deposit_update(deposit: Deposit, changes: Mapping[str, Any], now: str) -> RecordUpdate:
    """SET ``changes`` on the deposit only if nobody changed it since it was read (version)."""
    return RecordUpdate(
        *keys.deposit(deposit.account_id, deposit.deposit_id),
        changes={**plain(changes), "version": deposit.version + 1, "updated_at": now},
        expect={"version": deposit.version},
        on_mismatch=_stale,
    )


def check_amount(account: Account, amount: int, currency: str | None) -> Money:
    if currency is not None and currency != account.currency:
        raise CurrencyMismatchError(
            f"account {account.account_id} is in {account.currency}, not {currency}", field="currency"
        )
    low, high = deposit_settings().bounds(account.currency)
    if not low.amount <= amount <= high.amount:
        raise InvalidInput(f"a top-up must be between {low} and {high}", field="amount")
    return Money(amount, account.currency)


def get(store: Store, account_id: str, deposit_id: str) -> Deposit | None:
    item = store.get_item(*keys.deposit(account_id, deposit_id))
    return Deposit.from_item(item) if item else None


# --------------------------------------------------------------------------- views


def view(d: Deposit) -> dict[str, Any]:
    proforma = None
    if d.proforma:
        proforma = ds.Proforma(**d.proforma, status=proforma_status(d), paid_amount=d.credited_amount)
    return ds.DepositView(
        deposit_id=d.deposit_id,
        account_id=d.account_id,
        method=d.method,  # type: ignore[arg-type]
        state=str(d.state),
        amount=d.amount,
        currency=d.currency,
        credited_amount=d.credited_amount,
        reversed_amount=d.reversed_amount,
        created_at=d.created_at,
        updated_at=d.updated_at,
        provider=d.provider,
        payment_id=d.payment_id,
        failure_message=d.failure_message,
        payment_reference=d.payment_reference,
        proforma=proforma,
        transfers=[ds.Transfer(**t) for t in d.transfers],
        save_card=d.save_card,
    ).model_dump(mode="json")


def refuse(provider_name: str, exc: Exception) -> NoReturn:
    """Nothing is stored for a delivery that fails verification: one log line, then 400."""
    logger.warning("webhook refused", extra={"provider": provider_name, "reason": str(exc)})
    raise InvalidWebhookSignature(f"{provider_name} webhook refused: {exc}")
