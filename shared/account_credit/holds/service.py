"""Holds: part of the balance reserved for a coming renewal, so other orders cannot spend it.

A hold is an item ``HOLD#<hold_id>`` in the account's partition (amount, currency, state, the subscription and
term it is for) and, while ``active``, counted in the account item's ``held``. The balance does not move and no
ledger entry is written: a hold changes what can be spent (``Account.available`` = balance - held + credit
limit), not what the account holds, so the balance and the sum of its entries still agree. Every floor counts
what is held (``kernel/ledger.minimum_balance``), so an order cannot take reserved money, on the balance or on
credit; the renewal itself uses its hold up.

Each change is ONE transaction with the account update (``ADD held``), the hold item and its event:

* **place** (``active``): reserves up to the amount asked, as much as the balance can spare (balance - held); a
  reservation must stay covered by the balance. Once per hold id: placing it again returns the first hold.
* **use up** (``captured``): the renewal's payment includes ``use_up``'s parts: the balance debit gives its hold
  back in the same write (``Movement.hold``), a card or gift-card payment releases it.
* **release** (``released``): the subscription was suspended, auto-renew was turned off or the renewal was paid
  another way. Releasing a hold that is not active does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from account_credit.kernel.domain import Movement
from account_credit.kernel.errors import Conflict, InsufficientFunds, NotFound
from account_credit.kernel.ids import iso, utc_now
from account_credit.kernel.money import Money
from account_credit.platform.commit import commit
from account_credit.platform.events import DomainEvent, EventType
from account_credit.platform.store import Posting, Record, RecordUpdate, Store, keys

HOLD = "hold"  # the movement type of a reservation alone (it writes no ledger entry)
PLACE_ATTEMPTS = 5  # re-reads when other writes take the free balance between the read and the write


@dataclass(frozen=True)
class Hold:
    hold_id: str
    account_id: str
    amount: int  # minor units reserved (may be less than asked: what the balance could spare)
    asked: int  # what the renewal will cost
    currency: str
    state: str  # "active" | "captured" | "released"
    subscription_id: str
    term: int
    created_at: str
    closed_at: str | None = None
    reason: str | None = None  # why it was released, or the order that used it up

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Hold:
        return cls(
            hold_id=item["hold_id"],
            account_id=item["account_id"],
            amount=int(item["amount"]),
            asked=int(item.get("asked", item["amount"])),
            currency=item["currency"],
            state=item["state"],
            subscription_id=item["subscription_id"],
            term=int(item["term"]),
            created_at=item["created_at"],
            closed_at=item.get("closed_at"),
            reason=item.get("reason"),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "hold_id": self.hold_id,
            "amount": self.amount,
            "asked": self.asked,
            "currency": self.currency,
            "state": self.state,
            "subscription_id": self.subscription_id,
            "term": self.term,
            "created_at": self.created_at,
            "closed_at": self.closed_at,
            "reason": self.reason,
        }


class _Placed(Conflict):
    """The hold id was placed before."""


class HoldNotActive(Conflict):
    """The hold was used up or released meanwhile."""


def get(store: Store, account_id: str, hold_id: str) -> Hold | None:
    item = store.get_item(*keys.hold(account_id, hold_id))
    return Hold.from_item(item) if item is not None else None


def active(store: Store, account_id: str) -> list[Hold]:
    """The account's active holds, oldest first."""
    out: list[Hold] = []
    after: str | None = None
    while True:
        page = store.query_prefix(*keys.holds_prefix(account_id), limit=100, after=after)
        out += [Hold.from_item(i) for i in page if i.get("state") == "active"]
        if len(page) < 100:
            return out
        after = page[-1]["sk"]


def place(
    store: Store, account_id: str, hold_id: str, amount: int, currency: str, *, subscription_id: str, term: int
) -> Hold | None:
    """Reserve up to ``amount`` of the balance for ``hold_id``: the hold (the first one if placed before), or None
    when the balance has nothing to spare."""
    if amount <= 0:
        raise ValueError("a hold reserves a positive amount")
    for _ in range(PLACE_ATTEMPTS):
        existing = get(store, account_id, hold_id)
        if existing is not None:
            return existing
        account = store.get_account(account_id)
        if account is None:
            raise NotFound(f"account {account_id} not found")
        reserved = min(amount, account.balance - account.held)
        if reserved <= 0:
            return None
        now = iso(utc_now())
        hold = Hold(hold_id, account_id, reserved, amount, currency, "active", subscription_id, term, now)
        uow = store.unit_of_work()
        uow.move(
            Movement(
                account_id=account_id,
                amount=Money.zero(currency),
                type=HOLD,
                hold=reserved,
                description=f"Reserved for the renewal of subscription {subscription_id} (term {term})",
                actor="schedule:renewals",
            )
        )
        uow.put(
            Record(
                *keys.hold(account_id, hold_id),
                attrs={"kind": "hold", "account_id": account_id, **hold.as_dict()},
                on_exists=lambda _old: _Placed("placed before"),
            )
        )
        uow.emit(DomainEvent(account_id=account_id, type=EventType.HOLD_PLACED, payload=hold.as_dict()))
        try:
            commit(uow, None, _answer(hold.as_dict()))
        except _Placed:
            continue  # another run placed it: return that one
        except InsufficientFunds:
            continue  # other writes took the free balance: read again, reserve what is left
        return hold
    return get(store, account_id, hold_id)


def release(store: Store, account_id: str, hold_id: str, *, reason: str) -> bool:
    """Give an active hold back to what can be spent; False when it is not active (used up, released, none)."""
    hold = get(store, account_id, hold_id)
    if hold is None or hold.state != "active":
        return False
    uow = store.unit_of_work()
    uow.move(
        Movement(
            account_id=account_id,
            amount=Money.zero(hold.currency),
            type=HOLD,
            hold=-hold.amount,
            description=f"Reservation {hold_id} released: {reason}",
            actor="system",
        )
    )
    uow.update(_close(hold, "released", reason))
    closed = {**hold.as_dict(), "state": "released", "reason": reason}
    uow.emit(DomainEvent(account_id=account_id, type=EventType.HOLD_RELEASED, payload=closed))
    try:
        commit(uow, None, _answer(closed))
    except HoldNotActive:
        return False
    return True


def use_up(store: Store, account_id: str, hold_id: str, order_id: str) -> tuple[int, RecordUpdate] | None:
    """What a payment adds to its own write to use the hold up: the amount to give back (``Movement.hold`` =
    minus it) and the hold's update (expects it still active). None when the hold is not active."""
    hold = get(store, account_id, hold_id)
    if hold is None or hold.state != "active":
        return None
    return hold.amount, _close(hold, "captured", f"order {order_id}")


def _answer(body: dict[str, Any]) -> Callable[[Posting], dict[str, Any]]:
    return lambda _posting: body


def _close(hold: Hold, state: str, reason: str) -> RecordUpdate:
    return RecordUpdate(
        *keys.hold(hold.account_id, hold.hold_id),
        changes={"state": state, "reason": reason, "closed_at": iso(utc_now())},
        expect={"state": "active"},
        on_mismatch=lambda _old: HoldNotActive(f"hold {hold.hold_id} is no longer active"),
    )
