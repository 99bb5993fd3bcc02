"""A hypothesis state machine: the accounts service over the in-memory unit of work, against a
model that is just a few integers. Any sequence of credits, debits (with and without credit),
replays, key reuse and credit-limit changes must leave service and model in agreement."""

from __future__ import annotations

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from account_credit.accounts import service as svc
from account_credit.accounts.schemas import AccountCreate, Adjustment
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.domain import Floor, Movement
from account_credit.kernel.errors import IdempotencyKeyReused, InsufficientFunds
from account_credit.kernel.money import Money
from account_credit.platform.commit import commit
from account_credit.platform.idempotency import claim
from account_credit.platform.store.memory import MemoryStore

OPERATOR = Principal(subject="model", role=Role.OPERATOR)
amounts = st.integers(min_value=1, max_value=300_000)


class LedgerMachine(RuleBasedStateMachine):
    @initialize()
    def open(self) -> None:
        self.store = MemoryStore()
        self.account_id = svc.open_account(
            self.store, AccountCreate(currency="EUR", company={"name": "M"}, billing_emails=["m@x.test"])
        ).account_id
        # the model
        self.balance = 0
        self.limit = 200_000
        self.answers: dict[str, tuple[str, int, dict]] = {}  # key -> (kind, amount, first body)
        self.n = 0

    def _key(self) -> str:
        self.n += 1
        return f"k{self.n}"

    @rule(amount=amounts)
    def credit(self, amount: int) -> None:
        key = self._key()
        r = svc.adjust(
            self.store,
            Adjustment(type="credit", amount=amount, reason="model").command(self.account_id, key, OPERATOR.actor),
        )
        self.balance += amount
        self.answers[key] = ("credit", amount, r.body)
        assert r.body["entry"]["amount"] == amount

    @rule(amount=amounts)
    def debit_into_credit(self, amount: int) -> None:
        key = self._key()
        try:
            r = svc.adjust(
                self.store,
                Adjustment(type="debit", amount=amount, reason="model").command(self.account_id, key, OPERATOR.actor),
            )
        except InsufficientFunds as exc:
            assert self.balance - amount < -self.limit
            assert exc.extra["shortfall"] == -self.limit - (self.balance - amount)
            return
        assert self.balance - amount >= -self.limit
        self.balance -= amount
        self.answers[key] = ("debit", amount, r.body)

    @rule(amount=amounts)
    def debit_from_balance_only(self, amount: int) -> None:
        key = self._key()
        uow = self.store.unit_of_work()
        uow.move(Movement(account_id=self.account_id, amount=Money(-amount, "EUR"), type="t", floor=Floor.ZERO))
        try:
            commit(uow, claim(self.account_id, "t", key, {"a": amount}), lambda p: {})
        except InsufficientFunds:
            assert self.balance < amount
            return
        assert self.balance >= amount
        self.balance -= amount

    @precondition(lambda self: self.answers)
    @rule(data=st.data())
    def replay(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.answers)))
        kind, amount, body = self.answers[key]
        r = svc.adjust(
            self.store,
            Adjustment(type=kind, amount=amount, reason="model").command(self.account_id, key, OPERATOR.actor),
        )
        assert r.replayed and r.body == body

    @precondition(lambda self: self.answers)
    @rule(data=st.data())
    def reuse_key_with_other_body(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.answers)))
        kind, amount, _ = self.answers[key]
        try:
            svc.adjust(
                self.store,
                Adjustment(type=kind, amount=amount + 1, reason="model").command(self.account_id, key, OPERATOR.actor),
            )
        except IdempotencyKeyReused:
            return
        raise AssertionError("a reused key with another body was accepted")

    @rule(limit=st.integers(min_value=0, max_value=400_000))
    def set_limit(self, limit: int) -> None:
        svc.set_credit_limit(self.store, self.account_id, limit)
        self.limit = limit

    @invariant()
    def agrees_with_model(self) -> None:
        account = self.store.get_account(self.account_id)
        assert account is not None
        assert account.balance == self.balance
        entries = self.store.list_entries(
            self.account_id, since=None, until=None, entry_type=None, cursor=None, limit=10_000
        ).items
        assert sum(e.amount for e in entries) == account.balance
        assert len({e.idempotency_key for e in entries}) == len(entries)
        running = 0
        for e in sorted(entries, key=lambda e: e.seq):
            running += e.amount
            assert e.balance_after == running


TestLedgerMachine = LedgerMachine.TestCase
TestLedgerMachine.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)
