"""Reconciliation: each check over plain data (a consistent account gives no finding, a tampered one exactly the
finding), the run over a real billing history on the in-memory store, its report, and the sequencer's touched
index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from _billing_support import vat_seller
from _order_support import add_product, set_up
from _support import ROOT, Api, Clock, customer_claims, load_function, partner_claims
from test_billing_service import History

from account_credit.billing import service as billing
from account_credit.kernel.domain import EntryType, LedgerEntry
from account_credit.kernel.errors import InvalidInput, NotFound
from account_credit.platform.store import keys
from account_credit.platform.store.codec import to_attr
from account_credit.platform.store.memory import MemoryStore
from account_credit.platform.store.sequencing import touched
from account_credit.reconciliation import checks, service
from account_credit.reconciliation.checks import AccountState, DocumentFacts

ACC = "acc_1"
NOW = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _seller(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    yield from vat_seller(monkeypatch)


def entry(n: int, kind: str, amount: int, balance_after: int | None, **extra: Any) -> LedgerEntry:
    return LedgerEntry(
        entry_id=f"e{n}",
        account_id=ACC,
        type=kind,
        amount=amount,
        currency="EUR",
        created_at=f"2026-10-0{n}T09:00:00.000000Z",
        seq=n if balance_after is not None else None,
        balance_after=balance_after,
        **extra,
    )


LEDGER = [
    entry(1, EntryType.DEPOSIT_BANK_TRANSFER, 10_000, 10_000, documents=("TD-2026-000001",)),
    entry(2, EntryType.ORDER_BALANCE, -4_000, 6_000, documents=("ST-2026-000001",)),
    entry(3, EntryType.ORDER_CARD, 0, 6_000, documents=("IN-2026-000001",)),
]
STATE = AccountState(ACC, balance=6_000, held=1_000, seq=3)


# --------------------------------------------------------------------------- the checks, over plain data


def test_a_consistent_ledger_gives_no_balance_or_attribution_finding() -> None:
    assert checks.ledger_balance(STATE, LEDGER) == []
    assert checks.attribution(STATE, LEDGER) == []
    # an entry not placed yet is counted in the sum, not in the placements
    unplaced = [*LEDGER, entry(4, EntryType.ORDER_BALANCE, -1_000, None)]
    assert checks.ledger_balance(AccountState(ACC, 5_000, 0, 4), unplaced) == []


def test_a_removed_entry_is_a_balance_finding() -> None:
    found = checks.ledger_balance(STATE, [LEDGER[0], LEDGER[2]])
    assert [f.check for f in found] == ["balance", "balance", "balance"]
    assert "balance 6000 != sum of entries 10000" in found[0].detail
    assert "2 entries, the account counts 3" in found[1].detail
    assert "not 1..n" in found[2].detail


def test_a_wrong_balance_after_is_a_finding_naming_the_entry() -> None:
    tampered = [LEDGER[0], entry(2, EntryType.ORDER_BALANCE, -4_000, 5_000), LEDGER[2]]
    found = checks.ledger_balance(AccountState(ACC, 6_000, 0, 3), tampered)
    assert [(f.check, f.refs) for f in found] == [("balance", ("e2",))]


def test_held_must_be_the_sum_of_the_active_holds_and_never_negative() -> None:
    assert checks.holds(STATE, [("h1", 600), ("h2", 400)]) == []
    (found,) = checks.holds(STATE, [("h1", 600)])
    assert (found.check, found.refs) == ("holds", ("h1",)) and "held 1000 != sum of active holds 600" in found.detail
    assert [f.detail for f in checks.holds(AccountState(ACC, 0, -5, 0), [])] == [
        "held -5 is negative",
        "held -5 != sum of active holds 0",
    ]


def test_entries_of_a_type_the_attribution_does_not_know_are_outside_it() -> None:
    other = [*LEDGER, entry(4, "test_debit", -1_000, 5_000)]
    assert checks.attribution(AccountState(ACC, 5_000, 0, 4), other) == []


FACTS = DocumentFacts(
    tax_document_expected=frozenset({"e1"}),
    billed_months=frozenset({"2026-10"}),
    documents={"TD-2026-000001": ["e1"], "ST-2026-000001": ["e2"], "IN-2026-000001": ["e3"]},
)


def test_every_entry_on_the_documents_it_should_be_gives_no_finding() -> None:
    assert checks.documents(ACC, LEDGER, FACTS) == []


@pytest.mark.parametrize(
    ("index", "missing"),
    [(0, "tax document"), (1, "statement or credit invoice of 2026-10"), (2, "invoice")],
)
def test_a_missing_document_link_is_exactly_one_finding(index: int, missing: str) -> None:
    tampered = list(LEDGER)
    e = tampered[index]
    tampered[index] = LedgerEntry(**{**e.__dict__, "documents": ()})
    found = checks.documents(ACC, tampered, FACTS)
    assert [f.detail for f in found] == [
        f"{e.type} entry is on no {missing}",
        f"{e.documents[0]} covers the entry, the entry does not name it",
    ]


def test_draws_of_a_month_not_billed_yet_or_cancelled_within_it_need_no_document() -> None:
    bare = [LEDGER[0], LedgerEntry(**{**LEDGER[1].__dict__, "documents": ()})]
    facts = DocumentFacts(tax_document_expected=frozenset({"e1"}))
    assert checks.documents(ACC, bare, facts) == []
    cancelled = DocumentFacts(
        tax_document_expected=frozenset({"e1"}),
        billed_months=frozenset({"2026-10"}),
        same_month_cancelled=frozenset({"e2"}),
    )
    assert checks.documents(ACC, bare, cancelled) == []


def test_a_series_with_every_number_up_to_its_counter_has_no_gap() -> None:
    assert checks.series_gaps("TD", 2026, 3, [1, 2, 3]) == []
    (ahead,) = checks.series_gaps("TD", 2026, 4, [1, 2, 3])
    assert (ahead.subject, ahead.refs) == ("TD-2026", ("TD-2026-000004",))
    (beyond,) = checks.series_gaps("PROFORMA", 2026, 1, [1, 2])
    assert beyond.refs == ("PF-2026-000002",) and "beyond" in beyond.detail
    (no_counter,) = checks.series_gaps("IN", 2027, None, [])
    assert "no counter" in no_counter.detail
    assert checks.series_of("PF-2026-000007") == ("PROFORMA", 2026) and checks.series_of("junk") is None


def test_payments_on_a_credit_invoice_never_exceed_it_and_the_open_index_follows_them() -> None:
    P = checks.InvoicePayments
    consistent = [P("CI-1", 6_500, 0, True), P("CI-2", 6_500, 6_500, False), P("CI-3", 6_500, 100, True)]
    assert checks.invoice_payments(ACC, consistent) == []
    (over,) = checks.invoice_payments(ACC, [P("CI-4", 6_500, 6_501, False)])
    assert (over.check, over.refs) == ("payments", ("CI-4",)) and "6501 > gross 6500" in over.detail
    (still_open,) = checks.invoice_payments(ACC, [P("CI-5", 6_500, 6_500, True)])
    assert "paid in full but listed as open" in still_open.detail
    (not_open,) = checks.invoice_payments(ACC, [P("CI-6", 6_500, 6_000, False)])
    assert "500 still due but not listed as open" in not_open.detail
    # issued or paid within the settle window: the index may not follow yet, the total still must not exceed
    assert checks.invoice_payments(ACC, [P("CI-7", 6_500, 6_500, True, settling=True)]) == []
    assert len(checks.invoice_payments(ACC, [P("CI-8", 6_500, 7_000, True, settling=True)])) == 1


def test_credit_notes_correct_a_document_of_the_account_and_never_give_back_more_than_it_charged() -> None:
    D = checks.DocumentSummary
    docs = {
        "ST-1": D("ST-1", ACC, "EUR", 15_000),
        "IN-1": D("IN-1", ACC, "EUR", 5_000),
        "CN-1": D("CN-1", ACC, "EUR", 9_000, corrects="ST-1"),
        "CN-2": D("CN-2", ACC, "EUR", 6_000, corrects="ST-1"),
        "CN-3": D("CN-3", ACC, "EUR", 5_000, corrects="IN-1"),
    }
    notes = [d for d in docs.values() if d.corrects]
    assert checks.credit_notes(ACC, docs, notes) == []

    (over,) = checks.credit_notes(ACC, docs, [*notes, D("CN-4", ACC, "EUR", 1, corrects="IN-1")])
    assert (over.check, over.refs) == (
        "credit_notes",
        ("IN-1", "CN-3", "CN-4"),
    ) and "5001 > its gross 5000" in over.detail
    (missing,) = checks.credit_notes(ACC, docs, [D("CN-5", ACC, "EUR", 1, corrects="IN-404")])
    assert missing.refs == ("CN-5", "IN-404") and "not a document of the account" in missing.detail
    (currency,) = checks.credit_notes(ACC, docs, [D("CN-6", ACC, "USD", 1, corrects="ST-1")])
    assert currency.refs == ("CN-6", "ST-1")
    (account,) = checks.credit_notes(
        ACC, {"ST-9": D("ST-9", "acc_other", "EUR", 100)}, [D("CN-7", ACC, "EUR", 1, corrects="ST-9")]
    )
    assert "acc_other" in account.detail
    (nothing,) = checks.credit_notes(ACC, docs, [D("CN-8", ACC, "EUR", 1)])
    assert "names no document" in nothing.detail


# --------------------------------------------------------------------------- the run over a real history


@pytest.fixture
def history(store: MemoryStore, open_account: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> History:
    monkeypatch.setattr("account_credit.kernel.ids.utc_now", clock)
    monkeypatch.setattr("account_credit.billing.issuing.utc_now", clock)
    clock.set(datetime(2026, 10, 3, 9, 0, tzinfo=UTC))
    add_product(store, "ov", {"EUR": 10_000})
    account = open_account("EUR", name="Acme s.r.o.", country="SK")
    set_up(store, account, credit_limit=500_000, card_token=None)
    h = History(store, store.get_account(account.account_id) or account, clock)
    h.transfer(15_000)
    h.transfer(40_000)
    h.order("o1")
    h.order("o2", credit=True)
    h.order("o3")
    h.cancel("o3")
    h.order("o4", quantity=3, credit=True)  # partly on credit
    billing.run_month(store, h.acc, "2026-10", date(2026, 11, 1))
    return h


def test_a_billed_history_reconciles_with_zero_mismatches(history: History) -> None:
    result = service.run(history.store, "2026-10-03", history.acc, now=NOW)
    assert result.as_dict()["findings"] == [] and result.accounts == 1 and result.series >= 2
    report = service.report(history.store, "2026-10-03")
    assert (report["mismatches"], report["findings"], report["run_id"]) == (0, [], result.run_id)


def test_a_tampered_item_is_reported_and_nothing_else_changes(history: History) -> None:
    store, acc = history.store, history.acc
    balance = store.get_item(*keys.account(acc))
    assert balance is not None
    st = next(e for e in billing.ledger(store, acc) if e.type == EntryType.ORDER_BALANCE)
    store.items[(keys.account_pk(acc), keys.entry_sk(st.created_at, st.entry_id))]["documents"] = []
    counter = store.items[keys.counter("TD", 2026)]
    counter["value"] = int(counter["value"]) + 1
    before = {k: dict(v) for k, v in store.items.items()}

    result = service.run(store, "2026-10-03", acc, now=NOW)

    assert sorted((f.check, f.refs[0]) for f in result.findings) == [
        ("documents", st.entry_id),
        ("documents", st.entry_id),
        ("series", "TD-2026-000003"),
    ]
    report = service.report(store, "2026-10-03")
    assert report["mismatches"] == 3 and len(report["findings"]) == 3
    changed = {k for k in store.items if before.get(k) != store.items[k]}
    assert {pk for pk, _ in changed} == {"RECON#2026-10-03"}, "the run writes only its report"
    assert store.get_item(*keys.account(acc)) == balance


def test_the_run_reads_the_touched_index_and_a_day_without_a_run_has_no_report(history: History) -> None:
    store = history.store
    store.put_if_absent(keys.touched("2026-10-03", history.acc), {"kind": "touched", "account_id": history.acc})
    assert service.run(store, "2026-10-03", now=NOW).accounts == 1
    assert service.run(store, "2026-10-04", now=NOW).accounts == 0
    with pytest.raises(NotFound):
        service.report(store, "2026-10-05")
    with pytest.raises(InvalidInput):
        service.run(store, "yesterday")


LATER = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


@pytest.fixture
def paid_and_corrected(history: History) -> History:
    """The history, then in November: the draw on credit cancelled (credit notes against the statements it was
    on, issued by November's run) and a transfer that repays the credit (a payment of the credit invoice, which
    leaves the open index)."""
    history.clock.set(datetime(2026, 11, 4, 9, 0, tzinfo=UTC))
    history.cancel("o2")
    history.transfer(100_000)
    billing.run_month(history.store, history.acc, "2026-11", date(2026, 12, 1))
    return history


def _doc(store: MemoryStore, acc: str, number: str) -> dict[str, Any]:
    return store.items[keys.document(acc, number)]


def test_paid_invoices_and_credit_notes_reconcile_and_tampered_ones_are_reported(paid_and_corrected: History) -> None:
    store, acc = paid_and_corrected.store, paid_and_corrected.acc
    (ci,) = [d for d in paid_and_corrected.documents() if d.number.startswith("CI-")]
    notes = [d for d in paid_and_corrected.documents() if d.number.startswith("CN-")]
    assert len(notes) >= 1 and billing.paid_amount(store, ci) == ci.totals.gross
    assert store.get_item(*keys.open_invoice(acc, ci.number)) is None
    assert service.run(store, "2026-11-04", acc, now=LATER).findings == []

    def found(check: str) -> list[tuple[str, ...]]:
        return sorted(f.refs for f in service.run(store, "2026-11-04", acc, now=LATER).findings if f.check == check)

    # (a) a paid invoice listed as open again, then a payment beyond its gross
    store.put_if_absent(keys.open_invoice(acc, ci.number), {"kind": "open_invoice", "number": ci.number})
    assert found("payments") == [(ci.number,)]
    store.delete_record(*keys.open_invoice(acc, ci.number))
    store.put_if_absent(
        keys.document_payment(acc, ci.number, "ent_extra"),
        {"kind": "document_payment", "number": ci.number, "entry_id": "ent_extra", "amount": 1, "received_at": ""},
    )
    assert found("payments") == [(ci.number,)]
    store.delete_record(*keys.document_payment(acc, ci.number, "ent_extra"))

    # (b) a credit note giving back more than its document charged, one of another currency, one of nothing
    cn = notes[0]
    corrected = _doc(store, acc, str(cn.corrects))
    _doc(store, acc, cn.number)["lines"][0]["net"] += int(corrected["totals"]["gross"])
    assert found("credit_notes") == [(str(cn.corrects), cn.number)]
    _doc(store, acc, cn.number)["currency"] = "USD"
    _doc(store, acc, cn.number)["corrects"] = "ST-2026-000404"
    assert found("credit_notes") == [(cn.number, "ST-2026-000404")]


# --------------------------------------------------------------------------- the operators' report API


@pytest.fixture
def reports_api(history: History, monkeypatch: pytest.MonkeyPatch) -> Api:
    """The reconciliation reports function (api.py) over the history's in-memory store."""
    import importlib.util
    import sys

    monkeypatch.setenv("STORE", "memory")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    name = "reconciliation_api"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(name, ROOT / "functions" / "reconciliation" / "api.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    monkeypatch.setattr("account_credit.reconciliation.router.store", lambda: history.store)
    return Api(module)


def test_operators_read_a_days_report_and_nobody_else_does(history: History, reports_api: Api) -> None:
    store, acc = history.store, history.acc
    st = next(e for e in billing.ledger(store, acc) if e.type == EntryType.ORDER_BALANCE)
    store.items[(keys.account_pk(acc), keys.entry_sk(st.created_at, st.entry_id))]["documents"] = []
    result = service.run(store, "2026-10-03", acc, now=NOW)

    got = reports_api.request("GET", "/reconciliation/reports/2026-10-03")
    assert got.status == 200, got.raw_body
    body = got.json
    assert (body["run_id"], body["accounts"], body["mismatches"]) == (result.run_id, 1, 2)
    assert body["by_check"] == {"documents": 2}
    assert [(f["check"], f["subject"], f["refs"][0]) for f in body["findings"]] == [("documents", acc, st.entry_id)] * 2

    for claims in (customer_claims(acc), partner_claims("partner-a")):
        denied = reports_api.request("GET", "/reconciliation/reports/2026-10-03", claims=claims)
        assert denied.status == 403 and denied.content_type == "application/problem+json"
        denied = reports_api.request(
            "GET", "/reconciliation/reports", claims=claims, query={"from": "2026-10-01", "to": "2026-10-31"}
        )
        assert denied.status == 403
    missing = reports_api.request("GET", "/reconciliation/reports/2026-10-04")
    assert missing.status == 404 and missing.content_type == "application/problem+json"
    for bad_day in ("2026-02-30", "yesterday"):
        bad = reports_api.request("GET", f"/reconciliation/reports/{bad_day}")
        assert bad.status == 422 and bad.json["field"] == "day", bad.raw_body


def test_the_runs_of_a_period_are_listed_a_page_of_days_at_a_time(history: History, reports_api: Api) -> None:
    store, acc = history.store, history.acc
    service.run(store, "2026-10-03", acc, now=NOW)
    later = service.run(store, "2026-10-03", acc, now=NOW.replace(hour=3))  # a rerun: the latest counts
    service.run(store, "2026-10-05", acc, now=NOW)
    period = {"from": "2026-10-01", "to": "2026-10-06"}

    page = reports_api.request("GET", "/reconciliation/reports", query={**period, "limit": "4"})
    assert page.status == 200, page.raw_body
    assert [(i["day"], i["run_id"]) for i in page.json["items"]] == [("2026-10-03", later.run_id)]
    assert page.json["next_cursor"] == "2026-10-05"
    rest = reports_api.request("GET", "/reconciliation/reports", query={**period, "cursor": "2026-10-05"})
    assert [i["day"] for i in rest.json["items"]] == ["2026-10-05"] and rest.json.get("next_cursor") is None
    outside = reports_api.request("GET", "/reconciliation/reports", query={**period, "cursor": "2026-11-01"})
    assert outside.status == 200 and outside.json["items"] == []
    backwards = reports_api.request("GET", "/reconciliation/reports", query={"from": "2026-10-06", "to": "2026-10-01"})
    assert backwards.status == 422 and backwards.json["field"] == "to"
    bad_cursor = reports_api.request("GET", "/reconciliation/reports", query={**period, "cursor": "x"})
    assert bad_cursor.status == 422 and bad_cursor.json["field"] == "cursor"


# --------------------------------------------------------------------------- the touched index (sequencer)


def _record(old: dict[str, Any], new: dict[str, Any], at: int = 1_793_786_400) -> dict[str, Any]:
    def image(values: dict[str, Any]) -> dict[str, Any]:
        return {k: to_attr(v) for k, v in values.items()}

    return {
        "eventName": "MODIFY",
        "dynamodb": {"ApproximateCreationDateTime": at, "OldImage": image(old), "NewImage": image(new)},
    }


BASE = {"pk": "ACCOUNT#acc_1", "kind": "account", "account_id": ACC, "balance": 100, "seq": 1, "held": 0}


def test_a_money_change_of_an_account_marks_it_touched_on_the_day_of_the_change() -> None:
    assert touched(_record(BASE, {**BASE, "held": 50})) == (ACC, "2026-11-04")
    assert touched(_record(BASE, {**BASE, "company": "x"})) is None  # details: no money changed
    assert touched(_record(BASE, {**BASE, "kind": "hold", "balance": 5})) is None


def test_the_sequencer_writes_the_touched_marker_once(store: MemoryStore, monkeypatch: pytest.MonkeyPatch) -> None:
    app = load_function("sequencer")
    monkeypatch.setattr(app, "store", lambda: store)
    app._marked.clear()
    from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

    app.record_handler(DynamoDBRecord(_record(BASE, {**BASE, "held": 50})))
    app.record_handler(DynamoDBRecord(_record(BASE, {**BASE, "held": 60})))
    marker = store.get_item(*keys.touched("2026-11-04", ACC))
    assert marker is not None and marker["account_id"] == ACC and marker["expires_at"] > 0
    assert [k for k in store.items if k[0].startswith("TOUCHED#")] == [keys.touched("2026-11-04", ACC)]
