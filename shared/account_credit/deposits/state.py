"""The state machine of a deposit (top-up). Pure: no I/O; the service commits what it decides.

States::

    card           pending --succeeded--> credited --refund/dispute--> partially_reversed --> reversed
                      |  \\--failed--> failed --succeeded (a retry on the same intent)--> credited
                      \\--refund/dispute before the success (out of order)--> reversed (nothing credited)
    bank_transfer  pending --transfer--> partly_paid --transfer--> credited (paid or overpaid)

Rules that make every order of provider events end right:

* a success credits only from ``pending`` or ``failed``: a second success, or one arriving after
  a reversal, changes nothing (a refunded top-up is never credited again);
* a failure only moves ``pending`` to ``failed``; a late failure after a success is ignored;
* refunds and disputes carry **cumulative** amounts (Stripe's ``amount_refunded``; the disputed
  amount); the deposit keeps the highest seen of each, so replays and reordering cannot take
  back twice. What is taken back is ``min(refunded + disputed, credited) - already reversed``;
* a reversal seen before the success is remembered: if it covers the amount the deposit ends
  ``reversed`` and the success credits nothing; if partial, the success credits the payment and
  takes the remembered part back in the same transaction;
* bank transfers are credited as received, whatever the amount; the proforma shows unpaid,
  partly paid, paid or overpaid.

Every change bumps ``version``; the service conditions its write on the version it read, so
two deliveries racing on one deposit cannot both apply.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class DepositState(StrEnum):
    PENDING = "pending"
    PARTLY_PAID = "partly_paid"
    CREDITED = "credited"
    FAILED = "failed"
    PARTIALLY_REVERSED = "partially_reversed"
    REVERSED = "reversed"
    CANCELLED = "cancelled"  # a proforma (a purchase order's invoice) cancelled: no transfer is matched to it


class Method(StrEnum):
    CARD = "card"
    BANK_TRANSFER = "bank_transfer"


OPEN_FOR_SUCCESS = (DepositState.PENDING, DepositState.FAILED)
CREDITED_STATES = (DepositState.CREDITED, DepositState.PARTIALLY_REVERSED, DepositState.REVERSED)
OPEN_PROFORMA = (DepositState.PENDING, DepositState.PARTLY_PAID)
PROFORMA_NUMBER = re.compile(r"PF-\d{4}-\d{6}")  # a proforma's number, as a payer quotes it in the remittance text


@dataclass(frozen=True)
class Deposit:
    deposit_id: str
    account_id: str
    method: str
    currency: str
    amount: int  # requested (card: the intent's amount; bank: the proforma's amount)
    state: str = DepositState.PENDING
    credited_amount: int = 0  # credited to the balance so far (bank: sum of transfers)
    reversed_amount: int = 0  # taken back so far (refunds, disputes)
    refunded_amount: int = 0  # highest cumulative refund the provider reported
    disputed_amount: int = 0  # highest disputed amount the provider reported
    version: int = 0
    created_at: str = ""
    updated_at: str = ""
    actor: str = ""
    # card
    provider: str | None = None
    payment_id: str | None = None
    save_card: bool = False
    failure_message: str | None = None
    # bank transfer
    payment_reference: str | None = None
    proforma: dict[str, Any] | None = None
    transfers: tuple[dict[str, Any], ...] = ()

    def attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "deposit",
            "deposit_id": self.deposit_id,
            "account_id": self.account_id,
            "method": self.method,
            "currency": self.currency,
            "amount": self.amount,
            "state": str(self.state),
            "credited_amount": self.credited_amount,
            "reversed_amount": self.reversed_amount,
            "refunded_amount": self.refunded_amount,
            "disputed_amount": self.disputed_amount,
            "version": self.version,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            "actor": self.actor,
            "provider": self.provider,
            "payment_id": self.payment_id,
            "save_card": self.save_card,
            "failure_message": self.failure_message,
            "payment_reference": self.payment_reference,
            "proforma": self.proforma,
            "transfers": [dict(t) for t in self.transfers],
        }
        return out

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Deposit:
        return cls(
            deposit_id=item["deposit_id"],
            account_id=item["account_id"],
            method=item["method"],
            currency=item["currency"],
            amount=int(item["amount"]),
            state=item["state"],
            credited_amount=int(item.get("credited_amount", 0)),
            reversed_amount=int(item.get("reversed_amount", 0)),
            refunded_amount=int(item.get("refunded_amount", 0)),
            disputed_amount=int(item.get("disputed_amount", 0)),
            version=int(item.get("version", 0)),
            created_at=item.get("created_at", ""),
            updated_at=item.get("updated_at", ""),
            actor=item.get("actor", ""),
            provider=item.get("provider"),
            payment_id=item.get("payment_id"),
            save_card=bool(item.get("save_card", False)),
            failure_message=item.get("failure_message"),
            payment_reference=item.get("payment_reference"),
            proforma=item.get("proforma"),
            transfers=tuple(item.get("transfers") or ()),
        )


@dataclass(frozen=True)
class Transition:
    """What an event does to a deposit: money to credit / take back, and attributes to set."""

    outcome: str
    credit: int = 0  # minor units credited to the balance (>= 0)
    reverse: int = 0  # minor units taken back from the balance (>= 0)
    changes: dict[str, Any] = field(default_factory=dict)  # empty: the deposit stays as it is

    @property
    def moves_money(self) -> bool:
        return self.credit > 0 or self.reverse > 0


def _require(deposit: Deposit, method: Method) -> None:
    if deposit.method != method:
        raise ValueError(f"deposit {deposit.deposit_id} is a {deposit.method} deposit, not {method}")


def on_payment_succeeded(deposit: Deposit, received: int) -> Transition:
    """The provider captured ``received`` minor units for this deposit's payment."""
    _require(deposit, Method.CARD)
    if received <= 0:
        raise ValueError("a successful payment has a positive amount")
    if deposit.state not in OPEN_FOR_SUCCESS:
        return Transition("already_reversed" if deposit.state == DepositState.REVERSED else "already_credited")
    noted = deposit.refunded_amount + deposit.disputed_amount
    take_back = min(noted, received)
    if take_back >= received:
        return Transition("reversed_before_credit", changes={"state": DepositState.REVERSED, "failure_message": None})
    return Transition(
        "credited",
        credit=received,
        reverse=take_back,
        changes={
            "state": DepositState.PARTIALLY_REVERSED if take_back else DepositState.CREDITED,
            "credited_amount": received,
            "reversed_amount": take_back,
            "failure_message": None,
        },
    )


def on_payment_failed(deposit: Deposit, message: str) -> Transition:
    _require(deposit, Method.CARD)
    if deposit.state != DepositState.PENDING:
        return Transition("ignored_late_failure" if deposit.state in CREDITED_STATES else "already_failed")
    return Transition("failed", changes={"state": DepositState.FAILED, "failure_message": message[:500]})


def on_reversal(deposit: Deposit, kind: str, cumulative: int) -> Transition:
    """A refund (``kind="refund"``, cumulative refunded amount) or a dispute of the payment."""
    _require(deposit, Method.CARD)
    if kind not in ("refund", "dispute"):
        raise ValueError(f"unknown reversal kind {kind!r}")
    refunded = max(deposit.refunded_amount, cumulative) if kind == "refund" else deposit.refunded_amount
    disputed = max(deposit.disputed_amount, cumulative) if kind == "dispute" else deposit.disputed_amount
    if (refunded, disputed) == (deposit.refunded_amount, deposit.disputed_amount):
        return Transition("no_change")
    changes: dict[str, Any] = {"refunded_amount": refunded, "disputed_amount": disputed}
    total = refunded + disputed
    if deposit.state in OPEN_FOR_SUCCESS:
        # Nothing credited yet: remember it; the success (if it comes) nets it out.
        if total >= deposit.amount:
            changes["state"] = DepositState.REVERSED
            return Transition("reversed_before_credit", changes=changes)
        return Transition("reversal_noted", changes=changes)
    target = min(total, deposit.credited_amount)
    delta = target - deposit.reversed_amount
    if delta <= 0:
        return Transition("no_change", changes=changes)
    changes["reversed_amount"] = target
    changes["state"] = DepositState.REVERSED if target >= deposit.credited_amount else DepositState.PARTIALLY_REVERSED
    return Transition("reversed", reverse=delta, changes=changes)


def on_transfer(deposit: Deposit, amount: int, transfer: dict[str, Any]) -> Transition:
    """An incoming bank transfer linked to this proforma deposit: credited as received."""
    _require(deposit, Method.BANK_TRANSFER)
    if amount <= 0:
        raise ValueError("a transfer has a positive amount")
    received = deposit.credited_amount + amount
    return Transition(
        "credited",
        credit=amount,
        changes={
            "state": DepositState.CREDITED if received >= deposit.amount else DepositState.PARTLY_PAID,
            "credited_amount": received,
            "transfers": [*[dict(t) for t in deposit.transfers], dict(transfer)],
        },
    )


def proforma_status(deposit: Deposit) -> Literal["unpaid", "partly_paid", "paid", "overpaid"]:
    """unpaid / partly_paid / paid / overpaid, from what was received against the proforma."""
    paid = deposit.credited_amount
    if paid <= 0:
        return "unpaid"
    if paid < deposit.amount:
        return "partly_paid"
    return "paid" if paid == deposit.amount else "overpaid"


def pick_proforma(open_deposits: list[Deposit], amount: int, message: str | None = None) -> Deposit | None:
    """The proforma a transfer pays: the one whose number its remittance text quotes, else the oldest whose
    outstanding amount it matches, else the oldest open one."""
    candidates = sorted(
        (d for d in open_deposits if d.method == Method.BANK_TRANSFER and d.state in OPEN_PROFORMA and d.proforma),
        key=lambda d: (d.created_at, d.deposit_id),
    )
    quoted = set(PROFORMA_NUMBER.findall(message or ""))
    for d in candidates:
        if d.proforma and d.proforma.get("number") in quoted:
            return d
    for d in candidates:
        if d.amount - d.credited_amount == amount:
            return d
    return candidates[0] if candidates else None
