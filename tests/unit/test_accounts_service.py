"""Accounts service over the in-memory unit of work: opening, adjustments, idempotency, listing.

Who may do what (roles, an account the caller may not see) is decided at the edge: tests/unit/test_http.py."""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pydantic
import pytest
from _support import OPERATOR, Clock, account_request, adjustment

from account_credit.accounts import schemas
from account_credit.accounts import service as svc
from account_credit.kernel.auth import Principal, Role
from account_credit.kernel.domain import Account, EntryType
from account_credit.kernel.errors import (
    CurrencyMismatchError,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidInput,
    NotFound,
)
from account_credit.platform import config
from account_credit.platform.store.memory import MemoryStore

Opener = Callable[..., Account]


def all_entries(store: MemoryStore, account_id: str, **filters: object) -> list:
    page = svc.list_transactions(
        store,
        account_id,
        since=filters.get("since"),  # type: ignore[arg-type]
        until=filters.get("until"),  # type: ignore[arg-type]
        entry_type=filters.get("entry_type"),  # type: ignore[arg-type]
        cursor=None,
        limit=200,
    )
    assert page.next_cursor is None
    return page.items


def balance(store: MemoryStore, account_id: str) -> int:
    acc = store.get_account(account_id)
    assert acc is not None
    return acc.balance


def snapshot(store: MemoryStore) -> dict:
    with store.lock:
        return copy.deepcopy(store.items)


# --------------------------------------------------------------------------- open


def test_operator_opens_an_account_for_any_partner(store: MemoryStore) -> None:
    acc = svc.open_account(store, account_request("EUR", partner_id="partner-x", city="Paris"))
    assert acc.partner_id == "partner-x"
    assert acc.currency == "EUR"
    assert acc.balance == 0 and acc.seq == 0
    assert acc.company.name == "Acme Certificates Ltd" and acc.company.city == "Paris"
    assert acc.billing_emails == ("billing@acme.test",)
    assert acc.account_id.startswith("acc_")
    assert store.get_account(acc.account_id) == acc


def test_operator_may_open_an_account_without_a_partner(store: MemoryStore) -> None:
    acc = svc.open_account(store, account_request("USD"))
    assert acc.partner_id is None
    assert svc.get_account(store, acc.account_id) == acc


def test_account_ids_are_unique(open_account: Opener) -> None:
    ids = {open_account().account_id for _ in range(50)}
    assert len(ids) == 50


@pytest.mark.parametrize(("currency", "limit"), [("USD", 200_000), ("EUR", 200_000), ("JPY", 2000), ("KWD", 2_000_000)])
def test_default_credit_limit_is_2000_major_units_of_the_account_currency(
    open_account: Opener, currency: str, limit: int
) -> None:
    acc = open_account(currency)
    assert acc.credit_limit == limit
    assert acc.available == limit


@pytest.mark.parametrize(("env", "currency", "limit"), [("50", "USD", 5000), ("50", "JPY", 50), ("0", "USD", 0)])
def test_default_credit_limit_comes_from_the_environment(
    open_account: Opener, monkeypatch: pytest.MonkeyPatch, env: str, currency: str, limit: int
) -> None:
    monkeypatch.setenv("DEFAULT_CREDIT_LIMIT", env)
    config.settings.cache_clear()  # the conftest fixture clears it again afterwards
    assert open_account(currency).credit_limit == limit


# --------------------------------------------------------------------------- reads


@pytest.fixture
def three_accounts(open_account: Opener) -> tuple[Account, Account, Account]:
    """(managed by partner-a, managed by partner-b, no partner)."""
    return open_account(partner_id="partner-a"), open_account(partner_id="partner-b"), open_account()


def test_get_account_reads_each_account(store: MemoryStore, three_accounts: tuple[Account, ...]) -> None:
    for acc in three_accounts:
        assert svc.get_account(store, acc.account_id) == acc


@pytest.mark.parametrize("action", ["get", "patch", "settings", "credit_limit", "adjust", "transactions"])
def test_a_missing_account_is_not_found_and_nothing_is_written(store: MemoryStore, action: str) -> None:
    missing = "acc_doesnotexist0000000000000"
    calls: dict[str, Callable[[], object]] = {
        "get": lambda: svc.get_account(store, missing),
        "patch": lambda: svc.update_details(store, missing, schemas.AccountPatch(billing_emails=["x@y.zz"])),
        "settings": lambda: svc.put_settings(
            store, missing, schemas.Settings(bill_to_balance=True, cards_enabled=False)
        ),
        "credit_limit": lambda: svc.set_credit_limit(store, missing, 1),
        "adjust": lambda: svc.adjust(store, adjustment("credit", 1).command(missing, "k1", OPERATOR.actor)),
        "transactions": lambda: svc.list_transactions(
            store, missing, since=None, until=None, entry_type=None, cursor=None, limit=10
        ),
    }
    before = snapshot(store)
    with pytest.raises(NotFound) as info:
        calls[action]()
    assert info.value.detail == f"account {missing} not found"
    assert snapshot(store) == before


# --------------------------------------------------------------------------- credit limit (operators: the edge)


def test_operator_sets_the_credit_limit(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    updated = svc.set_credit_limit(store, acc.account_id, 750)
    assert updated.credit_limit == 750
    assert updated.available == 750
    assert store.get_account(acc.account_id).credit_limit == 750  # type: ignore[union-attr]


# --------------------------------------------------------------------------- adjustments


def test_credit_adjustment_posts_one_entry(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    result = svc.adjust(store, adjustment("credit", 12_550, "goodwill").command(acc.account_id, "k1", OPERATOR.actor))

    assert not result.replayed
    assert result.replayed is False
    entry = result.body["entry"]
    assert entry["amount"] == 12_550
    assert entry["type"] == EntryType.ADJUSTMENT_CREDIT
    assert entry["currency"] == "USD"
    # The answer is the entry as written; its place and the balance after it are the sequencer's.
    assert (entry["seq"], entry["balance_after"]) == (None, None)
    assert entry["description"] == "goodwill"
    assert entry["actor"] == "operator:op-1"
    assert set(result.body) == {"entry"}

    assert balance(store, acc.account_id) == 12_550
    listed = all_entries(store, acc.account_id)
    assert [e.as_dict() for e in listed] == [entry | {"seq": 1, "balance_after": 12_550}]
    assert listed[0].idempotency_key == "k1"


def test_debit_adjustment_posts_a_negative_entry(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    svc.adjust(store, adjustment("credit", 1000).command(acc.account_id, "k1", OPERATOR.actor))
    result = svc.adjust(store, adjustment("debit", 400).command(acc.account_id, "k2", OPERATOR.actor))
    entry = result.body["entry"]
    assert entry["amount"] == -400
    assert entry["type"] == EntryType.ADJUSTMENT_DEBIT
    assert balance(store, acc.account_id) == 600
    entries = all_entries(store, acc.account_id)
    assert (entries[0].entry_id, entries[0].seq, entries[0].balance_after) == (entry["entry_id"], 2, 600)
    assert sum(e.amount for e in entries) == balance(store, acc.account_id)


def test_balance_always_equals_the_sum_of_entries(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("JPY")
    moves = [("credit", 500), ("debit", 1200), ("credit", 3), ("debit", 1303), ("credit", 2000)]
    for i, (kind, amount) in enumerate(moves):
        svc.adjust(store, adjustment(kind, amount).command(acc.account_id, f"k{i}", OPERATOR.actor))
    entries = all_entries(store, acc.account_id)
    assert len(entries) == len(moves)
    assert balance(store, acc.account_id) == sum(e.amount for e in entries) == 500 - 1200 + 3 - 1303 + 2000
    running = 0
    for e in sorted(entries, key=lambda e: e.seq):
        running += e.amount
        assert e.balance_after == running


def test_debit_may_use_the_whole_credit_line_and_no_more(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()  # credit line 200000
    svc.adjust(store, adjustment("debit", acc.credit_limit).command(acc.account_id, "k1", OPERATOR.actor))
    assert balance(store, acc.account_id) == -acc.credit_limit
    assert svc.get_account(store, acc.account_id).available == 0

    before = snapshot(store)
    with pytest.raises(InsufficientFunds) as info:
        svc.adjust(store, adjustment("debit", 1).command(acc.account_id, "k2", OPERATOR.actor))
    assert info.value.extra["shortfall"] == 1
    assert snapshot(store) == before


def test_debit_beyond_the_credit_line_writes_nothing(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    svc.adjust(store, adjustment("credit", 300).command(acc.account_id, "k0", OPERATOR.actor))
    before = snapshot(store)
    with pytest.raises(InsufficientFunds) as info:
        svc.adjust(
            store, adjustment("debit", 300 + acc.credit_limit + 25).command(acc.account_id, "k1", OPERATOR.actor)
        )
    assert info.value.extra["shortfall"] == 25
    assert info.value.extra["currency"] == "USD"
    assert snapshot(store) == before
    assert balance(store, acc.account_id) == 300
    assert len(all_entries(store, acc.account_id)) == 1
    # The refused request did not consume its key: a corrected request with it goes through.
    ok = svc.adjust(store, adjustment("debit", 300).command(acc.account_id, "k1", OPERATOR.actor))
    assert ok.replayed is False
    assert balance(store, acc.account_id) == 0


def test_raising_the_credit_limit_lets_a_refused_debit_through(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    big = acc.credit_limit + 1
    with pytest.raises(InsufficientFunds):
        svc.adjust(store, adjustment("debit", big).command(acc.account_id, "k1", OPERATOR.actor))
    svc.set_credit_limit(store, acc.account_id, big)
    svc.adjust(store, adjustment("debit", big).command(acc.account_id, "k1", OPERATOR.actor))
    assert balance(store, acc.account_id) == -big
    assert svc.get_account(store, acc.account_id).available == 0


def test_adjustment_in_another_currency_is_refused(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account("USD")
    before = snapshot(store)
    with pytest.raises(CurrencyMismatchError) as info:
        svc.adjust(store, adjustment("credit", 100, currency="EUR").command(acc.account_id, "k1", OPERATOR.actor))
    assert info.value.field == "currency"
    assert snapshot(store) == before
    # Naming the account's own currency is fine.
    ok = svc.adjust(store, adjustment("credit", 100, currency="USD").command(acc.account_id, "k1", OPERATOR.actor))
    assert ok.body["entry"]["currency"] == "USD"


# --------------------------------------------------------------------------- idempotency


def test_replay_returns_the_first_answer_and_writes_nothing(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    first = svc.adjust(store, adjustment("credit", 700, "top-up").command(acc.account_id, "key-1", OPERATOR.actor))
    before = snapshot(store)

    for _ in range(3):
        again = svc.adjust(store, adjustment("credit", 700, "top-up").command(acc.account_id, "key-1", OPERATOR.actor))
        assert again.replayed is True
        assert again.replayed and not first.replayed
        assert again.body == first.body
        assert again.posting is None

    assert snapshot(store) == before
    assert balance(store, acc.account_id) == 700
    assert len(all_entries(store, acc.account_id)) == 1


def test_replay_answers_with_the_state_of_the_first_call(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    first = svc.adjust(store, adjustment("credit", 700).command(acc.account_id, "key-1", OPERATOR.actor))
    svc.adjust(store, adjustment("credit", 50).command(acc.account_id, "key-2", OPERATOR.actor))
    again = svc.adjust(store, adjustment("credit", 700).command(acc.account_id, "key-1", OPERATOR.actor))
    assert again.body == first.body
    assert again.body["entry"]["amount"] == 700  # the first answer, not the second movement's
    assert balance(store, acc.account_id) == 750


def test_replay_hashes_the_validated_request(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    first = svc.adjust(store, adjustment("credit", 5, "refund").command(acc.account_id, "k", OPERATOR.actor))
    # Whitespace the schema strips does not make it a different request.
    again = svc.adjust(store, adjustment("credit", 5, "  refund  ").command(acc.account_id, "k", OPERATOR.actor))
    assert again.replayed is True
    assert again.body == first.body


@pytest.mark.parametrize(
    "changed",
    [
        adjustment("credit", 701, "top-up"),
        adjustment("debit", 700, "top-up"),
        adjustment("credit", 700, "top-up!"),
        adjustment("credit", 700, "top-up", currency="USD"),
    ],
    ids=["amount", "type", "reason", "currency"],
)
def test_same_key_different_body_is_refused(
    store: MemoryStore, open_account: Opener, changed: schemas.Adjustment
) -> None:
    acc = open_account()
    svc.adjust(store, adjustment("credit", 700, "top-up").command(acc.account_id, "key-1", OPERATOR.actor))
    before = snapshot(store)
    with pytest.raises(IdempotencyKeyReused) as info:
        svc.adjust(store, changed.command(acc.account_id, "key-1", OPERATOR.actor))
    assert info.value.field == "Idempotency-Key"
    assert info.value.status == 422
    assert snapshot(store) == before


def test_keys_are_scoped_per_account(store: MemoryStore, open_account: Opener) -> None:
    a, b = open_account(), open_account()
    ra = svc.adjust(store, adjustment("credit", 10).command(a.account_id, "shared-key", OPERATOR.actor))
    rb = svc.adjust(store, adjustment("credit", 20).command(b.account_id, "shared-key", OPERATOR.actor))
    assert not ra.replayed and not rb.replayed
    assert balance(store, a.account_id) == 10
    assert balance(store, b.account_id) == 20


def test_concurrent_debits_never_cross_the_floor(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()  # 0 balance, credit line 200000
    outcomes: list[str] = []
    lock = threading.Lock()

    def debit(i: int) -> None:
        try:
            svc.adjust(store, adjustment("debit", 15_000).command(acc.account_id, f"k{i}", OPERATOR.actor))
            result = "ok"
        except InsufficientFunds:
            result = "refused"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=debit, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert outcomes.count("ok") == 200_000 // 15_000
    assert outcomes.count("refused") == 20 - 200_000 // 15_000
    assert balance(store, acc.account_id) == -15_000 * (200_000 // 15_000)
    entries = all_entries(store, acc.account_id)
    assert sorted(e.seq for e in entries) == list(range(1, len(entries) + 1))


# --------------------------------------------------------------------------- transactions


def _post_series(store: MemoryStore, account_id: str, kinds: list[str], clock: Clock | None = None) -> None:
    for i, kind in enumerate(kinds):
        if clock is not None:
            clock.tick(minutes=1)
        svc.adjust(store, adjustment(kind, 10 + i).command(account_id, f"series-{i}", OPERATOR.actor))


def test_transactions_are_newest_first(store: MemoryStore, open_account: Opener, clock: Clock) -> None:
    acc = open_account()
    _post_series(store, acc.account_id, ["credit"] * 6, clock)
    entries = all_entries(store, acc.account_id)
    assert [e.seq for e in entries] == [6, 5, 4, 3, 2, 1]
    assert [e.created_at for e in entries] == sorted((e.created_at for e in entries), reverse=True)


def test_transactions_with_the_same_timestamp_are_ordered_by_seq(
    store: MemoryStore, open_account: Opener, clock: Clock
) -> None:
    acc = open_account()
    _post_series(store, acc.account_id, ["credit"] * 4)  # clock never moves
    assert [e.seq for e in all_entries(store, acc.account_id)] == [4, 3, 2, 1]


def test_type_filter(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    kinds = ["credit", "debit", "credit", "credit", "debit"]
    _post_series(store, acc.account_id, kinds)
    debits = all_entries(store, acc.account_id, entry_type=EntryType.ADJUSTMENT_DEBIT)
    credits = all_entries(store, acc.account_id, entry_type=EntryType.ADJUSTMENT_CREDIT)
    assert [e.seq for e in debits] == [5, 2]
    assert all(e.amount < 0 for e in debits)
    assert [e.seq for e in credits] == [4, 3, 1]
    assert all(e.amount > 0 for e in credits)
    assert all_entries(store, acc.account_id, entry_type="no_such_type") == []


def test_transactions_of_an_account_only(store: MemoryStore, open_account: Opener) -> None:
    a, b = open_account(), open_account()
    _post_series(store, a.account_id, ["credit"] * 3)
    _post_series(store, b.account_id, ["credit"] * 2)
    assert {e.account_id for e in all_entries(store, a.account_id)} == {a.account_id}
    assert len(all_entries(store, b.account_id)) == 2


@pytest.fixture
def dated(store: MemoryStore, open_account: Opener, clock: Clock) -> dict[str, object]:
    """Entries at known instants over three days (UTC)."""
    acc = open_account()
    when = [
        datetime(2026, 3, 1, 0, 0, 0, tzinfo=UTC),  # seq 1: first instant of day 1
        datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=UTC),  # seq 2: last instant of day 1
        datetime(2026, 3, 2, 10, 0, tzinfo=UTC),  # seq 3
        datetime(2026, 3, 2, 23, 30, tzinfo=UTC),  # seq 4
        datetime(2026, 3, 3, 8, 15, tzinfo=UTC),  # seq 5
    ]
    for i, ts in enumerate(when):
        clock.set(ts)
        svc.adjust(store, adjustment("credit", 100 + i).command(acc.account_id, f"d{i}", OPERATOR.actor))
    return {"id": acc.account_id, "when": when}


def _seqs(store: MemoryStore, dated: dict[str, object], **f: object) -> list[int]:
    return [e.seq for e in all_entries(store, dated["id"], **f)]  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (None, None, [5, 4, 3, 2, 1]),
        (date(2026, 3, 2), None, [5, 4, 3]),
        (None, date(2026, 3, 1), [2, 1]),  # a date "until" includes the whole day
        (date(2026, 3, 2), date(2026, 3, 2), [4, 3]),
        (date(2026, 3, 1), date(2026, 3, 1), [2, 1]),
        (date(2026, 3, 4), None, []),
        (None, date(2026, 2, 28), []),
        (date(2026, 3, 3), date(2026, 3, 1), []),
        # date-times are inclusive instants
        (datetime(2026, 3, 2, 10, 0, tzinfo=UTC), None, [5, 4, 3]),
        (datetime(2026, 3, 2, 10, 0, 0, 1, tzinfo=UTC), None, [5, 4]),
        (None, datetime(2026, 3, 2, 10, 0, tzinfo=UTC), [3, 2, 1]),
        (None, datetime(2026, 3, 2, 9, 59, 59, 999_999, tzinfo=UTC), [2, 1]),
        # a naive date-time is UTC
        (datetime(2026, 3, 2, 10, 0), datetime(2026, 3, 2, 23, 30), [4, 3]),
        # an offset is converted to UTC: 12:00+02:00 == 10:00Z
        (datetime(2026, 3, 2, 12, 0, tzinfo=timezone(timedelta(hours=2))), None, [5, 4, 3]),
        (None, datetime(2026, 3, 2, 11, 59, tzinfo=timezone(timedelta(hours=2))), [2, 1]),
    ],
)
def test_date_filters(
    store: MemoryStore, dated: dict[str, object], since: object, until: object, expected: list[int]
) -> None:
    assert _seqs(store, dated, since=since, until=until) == expected


def test_date_and_type_filters_combine(store: MemoryStore, open_account: Opener, clock: Clock) -> None:
    acc = open_account()
    clock.set(datetime(2026, 5, 1, 12, tzinfo=UTC))
    svc.adjust(store, adjustment("credit", 100).command(acc.account_id, "a", OPERATOR.actor))
    svc.adjust(store, adjustment("debit", 1).command(acc.account_id, "b", OPERATOR.actor))
    clock.set(datetime(2026, 5, 2, 12, tzinfo=UTC))
    svc.adjust(store, adjustment("debit", 2).command(acc.account_id, "c", OPERATOR.actor))
    got = all_entries(store, acc.account_id, since=date(2026, 5, 2), entry_type=EntryType.ADJUSTMENT_DEBIT)
    assert [e.amount for e in got] == [-2]
    got = all_entries(store, acc.account_id, until=date(2026, 5, 1), entry_type=EntryType.ADJUSTMENT_DEBIT)
    assert [e.amount for e in got] == [-1]


def _walk(store: MemoryStore, account_id: str, limit: int, **f: object) -> list[list[int]]:
    pages: list[list[int]] = []
    cursor = None
    while True:
        page = svc.list_transactions(
            store,
            account_id,
            since=f.get("since"),  # type: ignore[arg-type]
            until=f.get("until"),  # type: ignore[arg-type]
            entry_type=f.get("entry_type"),  # type: ignore[arg-type]
            cursor=cursor,
            limit=limit,
        )
        pages.append([e.seq for e in page.items])
        assert len(pages) <= 100, "paging does not terminate"
        if page.next_cursor is None:
            return pages
        assert page.items, "a page with a cursor must not be empty"
        cursor = page.next_cursor


@pytest.mark.parametrize(("count", "limit"), [(7, 2), (6, 2), (6, 3), (1, 1), (5, 10), (5, 5), (0, 3)])
def test_cursor_paging_visits_every_entry_exactly_once(
    store: MemoryStore, open_account: Opener, clock: Clock, count: int, limit: int
) -> None:
    acc = open_account()
    _post_series(store, acc.account_id, ["credit"] * count, clock)
    pages = _walk(store, acc.account_id, limit)
    flat = [seq for page in pages for seq in page]
    assert flat == list(range(count, 0, -1))  # newest first, no duplicates, none missing
    assert all(len(p) <= limit for p in pages)
    assert all(len(p) == limit for p in pages[:-1])


def test_cursor_paging_with_a_type_filter(store: MemoryStore, open_account: Opener, clock: Clock) -> None:
    acc = open_account()
    kinds = ["credit", "debit", "credit", "debit", "credit", "credit", "debit", "credit"]
    _post_series(store, acc.account_id, kinds, clock)
    pages = _walk(store, acc.account_id, 2, entry_type=EntryType.ADJUSTMENT_CREDIT)
    flat = [s for p in pages for s in p]
    expected = [i + 1 for i, k in enumerate(kinds) if k == "credit"][::-1]
    assert flat == expected


def test_new_entries_do_not_disturb_a_walk_in_progress(store: MemoryStore, open_account: Opener, clock: Clock) -> None:
    acc = open_account()
    _post_series(store, acc.account_id, ["credit"] * 4, clock)
    first = svc.list_transactions(store, acc.account_id, since=None, until=None, entry_type=None, cursor=None, limit=2)
    clock.tick(minutes=5)
    svc.adjust(store, adjustment("credit", 1).command(acc.account_id, "late", OPERATOR.actor))
    rest = svc.list_transactions(
        store, acc.account_id, since=None, until=None, entry_type=None, cursor=first.next_cursor, limit=10
    )
    assert [e.seq for e in first.items] == [4, 3]
    assert [e.seq for e in rest.items] == [2, 1]


def test_a_cursor_from_another_account_is_refused(store: MemoryStore, open_account: Opener) -> None:
    a, b = open_account(), open_account()
    _post_series(store, a.account_id, ["credit"] * 3)
    _post_series(store, b.account_id, ["credit"] * 3)
    page = svc.list_transactions(store, a.account_id, since=None, until=None, entry_type=None, cursor=None, limit=1)
    assert page.next_cursor
    with pytest.raises(InvalidInput) as info:
        svc.list_transactions(
            store, b.account_id, since=None, until=None, entry_type=None, cursor=page.next_cursor, limit=1
        )
    assert info.value.field == "cursor"


@pytest.mark.parametrize("cursor", ["not-a-cursor!", "e30", "W10", "bnVsbA", "%%%"])
def test_a_malformed_cursor_is_refused(store: MemoryStore, open_account: Opener, cursor: str) -> None:
    acc = open_account()
    _post_series(store, acc.account_id, ["credit"] * 2)
    with pytest.raises(InvalidInput) as info:
        svc.list_transactions(store, acc.account_id, since=None, until=None, entry_type=None, cursor=cursor, limit=1)
    assert info.value.field == "cursor"


# --------------------------------------------------------------------------- settings and details


def test_an_account_stored_with_the_old_default_method_setting_still_reads(
    store: MemoryStore, open_account: Opener
) -> None:
    acc = open_account()
    store.update_account(
        acc.account_id, {"settings": {"bill_to_balance": True, "cards_enabled": True, "default_method": "card"}}
    )
    account = store.get_account(acc.account_id)
    assert account is not None and account.settings.bill_to_balance and account.settings.cards_enabled
    assert "default_method" not in svc.view(account)["settings"]


def test_put_settings_replaces_the_payment_settings(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    new = schemas.Settings(bill_to_balance=False, cards_enabled=True, low_balance_threshold=5000)
    updated = svc.put_settings(store, acc.account_id, new)
    assert updated.settings.bill_to_balance is False
    assert updated.settings.low_balance_threshold == 5000
    assert store.get_account(acc.account_id).settings == updated.settings  # type: ignore[union-attr]
    assert svc.view(updated)["settings"] == new.model_dump()

    # A PUT without the threshold clears it.
    cleared = svc.put_settings(store, acc.account_id, schemas.Settings(bill_to_balance=True, cards_enabled=False))
    assert cleared.settings.low_balance_threshold is None
    assert cleared.settings.cards_enabled is False
    # Money is untouched by settings.
    assert (cleared.balance, cleared.credit_limit, cleared.seq) == (acc.balance, acc.credit_limit, acc.seq)


@pytest.mark.parametrize(
    "body",
    [
        {"bill_to_balance": True, "cards_enabled": True, "low_balance_threshold": -1},
        # which method pays is the payment preferences now, not a setting
        {"bill_to_balance": True, "cards_enabled": True, "default_method": "balance"},
        {"bill_to_balance": True},
    ],
)
def test_inconsistent_settings_do_not_validate(body: dict) -> None:
    with pytest.raises(pydantic.ValidationError):
        schemas.Settings.model_validate(body)


def test_patch_company_merges_fields(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account(city="Paris", country="FR", address_line1="1 Rue de Rivoli")
    patch = schemas.AccountPatch.model_validate({"company": {"city": "Lyon", "postal_code": "69001"}})
    updated = svc.update_details(store, acc.account_id, patch)
    assert updated.company.name == acc.company.name
    assert updated.company.address_line1 == "1 Rue de Rivoli"
    assert updated.company.country == "FR"
    assert updated.company.city == "Lyon"
    assert updated.company.postal_code == "69001"
    assert updated.billing_emails == acc.billing_emails
    assert store.get_account(acc.account_id) == updated
    assert updated.updated_at >= acc.updated_at


def test_patch_null_removes_an_optional_company_field(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account(address_line1="1 Main St", city="Springfield")
    patch = schemas.AccountPatch.model_validate({"company": {"address_line1": None}})
    updated = svc.update_details(store, acc.account_id, patch)
    assert updated.company.address_line1 is None
    assert updated.company.city == "Springfield"


def test_patch_billing_emails_leaves_the_company(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account(city="Paris")
    updated = svc.update_details(store, acc.account_id, schemas.AccountPatch(billing_emails=["a@x.io", "b@x.io"]))
    assert updated.billing_emails == ("a@x.io", "b@x.io")
    assert updated.company == acc.company


@pytest.mark.parametrize(
    "body",
    [{}, {"company": {"name": None}}, {"company": {"name": "  "}}, {"billing_emails": []}, {"company": {"vat": "x"}}],
)
def test_invalid_patches_do_not_validate(body: dict) -> None:
    with pytest.raises(pydantic.ValidationError):
        schemas.AccountPatch.model_validate(body)


def test_view_reports_available_as_balance_plus_credit_limit(store: MemoryStore, open_account: Opener) -> None:
    acc = open_account()
    svc.adjust(store, adjustment("debit", 1234).command(acc.account_id, "k", OPERATOR.actor))
    view = svc.view(svc.get_account(store, acc.account_id))
    assert view["balance"] == -1234
    assert view["credit_limit"] == acc.credit_limit
    assert view["available"] == acc.credit_limit - 1234


def test_principal_roles_from_claims() -> None:
    p = Principal.from_claims({"sub": "u1", "custom:role": "partner", "custom:partner_id": "p9"})
    assert (p.role, p.partner_id, p.actor) == (Role.PARTNER, "p9", "partner:u1")
    # Plain claim names work as well as Cognito's custom: prefix.
    c = Principal.from_claims({"sub": "u2", "role": "customer", "account_id": "acc_1"})
    assert (c.role, c.account_id) == (Role.CUSTOMER, "acc_1")
