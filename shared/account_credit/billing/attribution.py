"""FIFO attribution of draws to top-ups, derived from the ledger alone. Pure and deterministic.

The ledger is replayed in its commit order (``seq``, placed by the sequencer). Nothing is stored besides the
ledger, so the attribution can never disagree with it; replaying a longer ledger never changes what an earlier
entry was attributed to (every rule looks only backwards).

* A **top-up** (card or bank deposit, an operator's credit adjustment) first repays what the account owes (draws
  no top-up covered, FIFO); the rest becomes a *source* with that much money left.
* A **draw** (order paid from the balance or on credit, an operator's debit) takes from the earliest sources with
  money left; what none covers is *uncovered*: drawn on credit, owed until a later top-up repays it.
* A **cancellation** of an order gives its draw back where it came from, last portion first: to its sources, or
  off the debt. A portion that was already repaid comes back as a new source (money the account now holds).
* A **refund** of some of an order's certificates (``order_refund`` with an amount: a balance or credit order) gives
  back like a cancellation, each portion at most what it has not given back before; several refunds of one order
  take the portions last first, as one cancellation of the same total would.
* A **deposit reversal** (card refund or dispute at the provider) takes back what is left of its top-up; the rest
  is owed like an uncovered draw (the balance went below what top-ups cover).

Invariant after every entry (tested): Σ sources' money left - Σ owed = the balance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from account_credit.kernel.domain import EntryType, LedgerEntry

TOP_UPS = frozenset({EntryType.DEPOSIT_CARD, EntryType.DEPOSIT_BANK_TRANSFER, EntryType.ADJUSTMENT_CREDIT})
DEPOSITS = frozenset({EntryType.DEPOSIT_CARD, EntryType.DEPOSIT_BANK_TRANSFER})
DRAWS = frozenset({EntryType.ORDER_BALANCE, EntryType.ORDER_CREDIT, EntryType.ADJUSTMENT_DEBIT})


@dataclass
class Source:
    """Money a top-up left after repaying debt (or a cancellation gave back after its debt was repaid)."""

    entry_id: str
    kind: str  # the entry type that made it
    amount: int  # what the source holds in total (the top-up minus what it repaid)
    created_at: str
    deposit_id: str | None = None
    left: int = 0


@dataclass(frozen=True)
class Portion:
    """Part of a draw: ``amount`` (gross minor units) from ``source`` (a source's entry id; None: uncovered)."""

    draw: str  # the draw's entry id
    source: str | None
    amount: int


@dataclass(frozen=True)
class Repayment:
    """A top-up repaying ``amount`` of what ``owed`` (an uncovered draw's or a reversal's entry id) left owing."""

    top_up: str
    owed: str
    amount: int


@dataclass
class Attribution:
    sources: dict[str, Source] = field(default_factory=dict)  # entry id -> source, in creation order
    portions: dict[str, list[Portion]] = field(default_factory=dict)  # draw entry id -> its portions
    repayments: list[Repayment] = field(default_factory=list)
    returned: dict[str, list[Portion]] = field(default_factory=dict)  # cancellation entry id -> portions given back
    cancelled_by: dict[str, str] = field(default_factory=dict)  # draw entry id -> cancellation entry id
    reversal_taken: dict[str, int] = field(default_factory=dict)  # reversal entry id -> taken from its top-up
    prepayment: dict[str, int] = field(default_factory=dict)  # top-up entry id -> what it added as a source
    # top-up entry id -> what is a prepayment for tax purposes: all of it but what repaid draws on credit (those are
    # payments of the credit invoice that lists them). Repaying a reversal's shortfall restores spent prepayment.
    tax_base: dict[str, int] = field(default_factory=dict)
    owed: list[list[object]] = field(default_factory=list)  # FIFO of [owing entry id, outstanding]
    order_draw: dict[str, str] = field(default_factory=dict)  # order id -> its draw's entry id
    given: dict[str, list[int]] = field(default_factory=dict)  # draw entry id -> given back so far, per portion
    # refund / cancellation entry id -> what it took back of each portion of the draw (repaid credit included):
    # what each document that listed the draw gets a credit note for
    taken_back: dict[str, list[Portion]] = field(default_factory=dict)

    def balance(self) -> int:
        return sum(s.left for s in self.sources.values()) - sum(int(str(o[1])) for o in self.owed)

    def repaid(self, owed: str) -> int:
        return sum(r.amount for r in self.repayments if r.owed == owed)


def _take(attr: Attribution, draw: str, amount: int) -> None:
    portions = attr.portions.setdefault(draw, [])
    for source in attr.sources.values():
        if amount == 0:
            break
        if source.left > 0:
            part = min(source.left, amount)
            source.left -= part
            amount -= part
            portions.append(Portion(draw, source.entry_id, part))
    if amount:
        portions.append(Portion(draw, None, amount))
        attr.owed.append([draw, amount])


def _repay(attr: Attribution, top_up: str, amount: int) -> int:
    """Repay debt FIFO with ``amount``; returns what is left."""
    while amount and attr.owed:
        owed_id, outstanding = str(attr.owed[0][0]), int(str(attr.owed[0][1]))
        part = min(outstanding, amount)
        attr.repayments.append(Repayment(top_up, owed_id, part))
        amount -= part
        if part == outstanding:
            attr.owed.pop(0)
        else:
            attr.owed[0][1] = outstanding - part
    return amount


def _give_back(attr: Attribution, entry: LedgerEntry, *, cancels: bool = True) -> None:
    order_id = entry.reference.get("order_id")
    draw = attr.order_draw.get(order_id or "")
    amount = entry.amount
    returned: list[Portion] = []
    repaid_back = 0  # given back of portions on credit that a top-up repaid already: the account holds it
    if draw is not None:
        if cancels:
            attr.cancelled_by[draw] = entry.entry_id
        portions = attr.portions.get(draw, [])
        given = attr.given.setdefault(draw, [0] * len(portions))
        for i in reversed(range(len(portions))):
            portion = portions[i]
            if amount == 0:
                break
            part = min(portion.amount - given[i], amount)
            if part <= 0:
                continue
            given[i] += part
            attr.taken_back.setdefault(entry.entry_id, []).append(Portion(draw, portion.source, part))
            if portion.source is not None:
                attr.sources[portion.source].left += part
                returned.append(Portion(draw, portion.source, part))
                amount -= part
                continue
            # an uncovered portion: off the debt as far as it is still owed
            still = next((o for o in attr.owed if o[0] == draw), None)
            off = min(part, int(str(still[1]))) if still is not None else 0
            if still is not None and off:
                still[1] = int(str(still[1])) - off
                if still[1] == 0:
                    attr.owed.remove(still)
            if off:
                returned.append(Portion(draw, None, off))
            amount -= part
            repaid_back += part - off
    attr.returned[entry.entry_id] = returned
    amount += repaid_back
    if amount:  # given back beyond what is owed: the account holds it, like a top-up
        _add_source(attr, entry, amount)


def _add_source(attr: Attribution, entry: LedgerEntry, amount: int) -> None:
    attr.prepayment[entry.entry_id] = amount
    if amount:
        attr.sources[entry.entry_id] = Source(
            entry_id=entry.entry_id,
            kind=entry.type,
            amount=amount,
            created_at=entry.created_at,
            deposit_id=entry.reference.get("deposit_id"),
            left=amount,
        )


def _reverse(attr: Attribution, entry: LedgerEntry) -> None:
    deposit_id = entry.reference.get("deposit_id")
    amount = -entry.amount
    source = next((s for s in attr.sources.values() if deposit_id and s.deposit_id == deposit_id), None)
    taken = min(source.left, amount) if source is not None else 0
    if source is not None:
        source.left -= taken
    attr.reversal_taken[entry.entry_id] = taken
    rest = amount - taken
    if rest:  # spent already: owed, repaid by the next top-ups like an uncovered draw
        attr.owed.append([entry.entry_id, rest])


def attribute(entries: Iterable[LedgerEntry]) -> Attribution:
    """Replay ``entries`` (one account's, in ``seq`` order) and attribute every draw FIFO."""
    attr = Attribution()
    for entry in entries:
        kind = entry.type
        if kind in TOP_UPS:
            _add_source(attr, entry, _repay(attr, entry.entry_id, entry.amount))
            attr.tax_base[entry.entry_id] = entry.amount - sum(
                r.amount for r in attr.repayments if r.top_up == entry.entry_id and r.owed in attr.portions
            )
        elif kind in DRAWS:
            if "order_id" in entry.reference:
                attr.order_draw[entry.reference["order_id"]] = entry.entry_id
            _take(attr, entry.entry_id, -entry.amount)
        elif kind == EntryType.ORDER_CANCELLATION:
            _give_back(attr, entry)
        elif kind == EntryType.ORDER_REFUND and entry.amount > 0:
            _give_back(attr, entry, cancels=False)
        elif kind == EntryType.DEPOSIT_REVERSAL:
            _reverse(attr, entry)
        # ORDER_CARD moves no balance: invoiced on its own (billing/builders.py)
    return attr
