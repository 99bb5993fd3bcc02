"""FIFO attribution of draws to top-ups (billing/attribution.py): examples, then random histories."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from account_credit.billing.attribution import attribute
from account_credit.kernel.domain import EntryType, LedgerEntry


@dataclass
class Ledger:
    """Builds placed entries like the ledger rules would (floors included)."""

    credit_limit: int = 10_000
    entries: list[LedgerEntry] = field(default_factory=list)
    balance: int = 0
    n: int = 0

    def add(self, type_: str, amount: int, **reference: str) -> LedgerEntry:
        self.n += 1
        self.balance += amount
        entry = LedgerEntry(
            entry_id=f"e{self.n:03d}",
            account_id="acc",
            type=type_,
            amount=amount,
            currency="EUR",
            created_at=f"2026-11-01T00:00:{self.n:02d}.000000Z",
            reference=dict(reference),
            seq=self.n,
            balance_after=self.balance,
        )
        self.entries.append(entry)
        return entry

    def deposit(self, amount: int) -> LedgerEntry:
        return self.add(EntryType.DEPOSIT_BANK_TRANSFER, amount, deposit_id=f"dep{self.n + 1}")

    def order(self, amount: int, order_id: str) -> LedgerEntry:
        kind = EntryType.ORDER_BALANCE if self.balance >= amount else EntryType.ORDER_CREDIT
        return self.add(kind, -amount, order_id=order_id)


def test_a_draw_takes_from_the_earliest_top_ups_and_splits_across_them() -> None:
    ledger = Ledger()
    first, second = ledger.deposit(1_000), ledger.deposit(5_000)
    a = ledger.order(600, "o1")
    b = ledger.order(700, "o2")
    attr = attribute(ledger.entries)
    assert [(p.source, p.amount) for p in attr.portions[a.entry_id]] == [(first.entry_id, 600)]
    assert [(p.source, p.amount) for p in attr.portions[b.entry_id]] == [(first.entry_id, 400), (second.entry_id, 300)]
    assert (attr.sources[first.entry_id].left, attr.sources[second.entry_id].left) == (0, 4_700)


def test_what_no_top_up_covers_is_owed_and_the_next_top_up_repays_it_first() -> None:
    ledger = Ledger()
    top = ledger.deposit(500)
    draw = ledger.order(800, "o1")
    later = ledger.deposit(1_000)
    attr = attribute(ledger.entries)
    assert [(p.source, p.amount) for p in attr.portions[draw.entry_id]] == [(top.entry_id, 500), (None, 300)]
    assert [(r.top_up, r.owed, r.amount) for r in attr.repayments] == [(later.entry_id, draw.entry_id, 300)]
    assert attr.prepayment[later.entry_id] == 700 and attr.sources[later.entry_id].left == 700
    assert attr.balance() == ledger.balance == 700


def test_a_top_up_that_only_repays_debt_adds_no_source() -> None:
    ledger = Ledger()
    ledger.order(800, "o1")
    repay = ledger.deposit(800)
    attr = attribute(ledger.entries)
    assert attr.prepayment[repay.entry_id] == 0 and repay.entry_id not in attr.sources
    assert attr.owed == [] and attr.balance() == 0


def test_a_cancellation_gives_the_draw_back_to_its_sources_last_portion_first() -> None:
    ledger = Ledger()
    first, second = ledger.deposit(400), ledger.deposit(400)
    draw = ledger.order(600, "o1")
    cancel = ledger.add(EntryType.ORDER_CANCELLATION, 600, order_id="o1")
    attr = attribute(ledger.entries)
    assert [(p.source, p.amount) for p in attr.returned[cancel.entry_id]] == [
        (second.entry_id, 200),
        (first.entry_id, 400),
    ]
    assert attr.cancelled_by[draw.entry_id] == cancel.entry_id
    assert attr.sources[first.entry_id].left == attr.sources[second.entry_id].left == 400


def test_cancelling_a_repaid_credit_draw_leaves_the_money_as_a_new_source() -> None:
    ledger = Ledger()
    ledger.order(300, "o1")
    ledger.deposit(300)
    cancel = ledger.add(EntryType.ORDER_CANCELLATION, 300, order_id="o1")
    attr = attribute(ledger.entries)
    assert attr.returned[cancel.entry_id] == [] and attr.sources[cancel.entry_id].left == 300
    assert attr.balance() == ledger.balance == 300


def test_a_reversal_takes_back_what_is_left_of_its_top_up_and_owes_the_rest() -> None:
    ledger = Ledger()
    top = ledger.deposit(1_000)
    other = ledger.deposit(500)
    ledger.order(800, "o1")
    reversal = ledger.add(EntryType.DEPOSIT_REVERSAL, -1_000, deposit_id=top.reference["deposit_id"])
    attr = attribute(ledger.entries)
    assert attr.reversal_taken[reversal.entry_id] == 200
    assert attr.owed == [[reversal.entry_id, 800]] and attr.sources[other.entry_id].left == 500
    assert attr.balance() == ledger.balance == -300


def test_replaying_a_longer_ledger_never_changes_an_earlier_attribution() -> None:
    ledger = Ledger()
    ledger.deposit(1_000)
    a = ledger.order(700, "o1")
    before = attribute(ledger.entries).portions[a.entry_id]
    ledger.deposit(2_000)
    ledger.order(900, "o2")
    ledger.add(EntryType.ORDER_CANCELLATION, 700, order_id="o1")
    assert attribute(ledger.entries).portions[a.entry_id] == before


ops = st.lists(
    st.one_of(
        st.tuples(st.just("deposit"), st.integers(1, 5_000)),
        st.tuples(st.just("order"), st.integers(1, 4_000)),
        st.tuples(st.just("cancel"), st.integers(0, 30)),
        st.tuples(st.just("reverse"), st.integers(0, 30)),
        st.tuples(st.just("adjust"), st.integers(-2_000, 2_000)),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(ops)
def test_random_histories_keep_every_top_up_within_what_it_paid_and_the_balance_exact(history: list) -> None:
    ledger = Ledger()
    orders: list[tuple[str, int]] = []
    deposits: list[LedgerEntry] = []
    n_orders = 0
    for op, value in history:
        if op == "deposit":
            deposits.append(ledger.deposit(value))
        elif op == "order" and ledger.balance + ledger.credit_limit >= value:
            n_orders += 1
            orders.append((f"o{n_orders}", value))
            ledger.order(value, f"o{n_orders}")
        elif op == "cancel" and orders:
            order_id, amount = orders.pop(value % len(orders))
            ledger.add(EntryType.ORDER_CANCELLATION, amount, order_id=order_id)
        elif op == "reverse" and deposits:
            dep = deposits.pop(value % len(deposits))
            ledger.add(EntryType.DEPOSIT_REVERSAL, -dep.amount, deposit_id=dep.reference["deposit_id"])
        elif op == "adjust" and value > 0:
            ledger.add(EntryType.ADJUSTMENT_CREDIT, value)
        elif op == "adjust" and value < 0 and ledger.balance + ledger.credit_limit >= -value:
            ledger.add(EntryType.ADJUSTMENT_DEBIT, value)
        attr = attribute(ledger.entries)
        assert attr.balance() == ledger.balance
    attr = attribute(ledger.entries)
    # every draw is fully attributed: its portions add up to it
    draws = {
        e.entry_id: -e.amount for e in ledger.entries if e.type in ("order_balance", "order_credit", "adjustment_debit")
    }
    assert {d: sum(p.amount for p in attr.portions[d]) for d in draws} == draws
    # per top-up, what was drawn (net of what cancellations gave back) never exceeds what it paid in
    for source in attr.sources.values():
        drawn = sum(p.amount for ps in attr.portions.values() for p in ps if p.source == source.entry_id)
        back = sum(p.amount for ps in attr.returned.values() for p in ps if p.source == source.entry_id)
        assert 0 <= drawn - back <= source.amount
        reversed_ = sum(
            attr.reversal_taken[e.entry_id]
            for e in ledger.entries
            if e.type == "deposit_reversal" and source.deposit_id and e.reference["deposit_id"] == source.deposit_id
        )
        assert source.left == source.amount - (drawn - back) - reversed_
    # a top-up's repayments and prepayment add up to it
    for e in ledger.entries:
        if e.type in ("deposit_bank_transfer", "adjustment_credit"):
            assert (
                sum(r.amount for r in attr.repayments if r.top_up == e.entry_id) + attr.prepayment[e.entry_id]
                == e.amount
            )
