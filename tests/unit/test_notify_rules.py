"""When an account change deserves an alert (notifications/rules.py), once per crossing through the service,
and what the emails say (notifications/messages.py): amounts per currency, languages, HTML escaping."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from pathlib import Path

import pytest
from hypothesis import given, note
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st
from test_notify_fakes import Feed, RecordingMailer

from account_credit.kernel.domain import Account, CompanyDetails, PaymentSettings
from account_credit.notifications import messages
from account_credit.notifications import service as notifications
from account_credit.notifications.mailer import OutboxMailer
from account_credit.notifications.rules import AlertKind, Decision, below, decide
from account_credit.platform.store.keys import account_pk
from account_credit.platform.store.memory import MemoryStore

LOW = AlertKind.LOW_BALANCE
CREDIT = AlertKind.CREDIT_IN_USE


def acct(balance: int, threshold: int | None = None, seq: int = 1) -> Account:
    return Account(
        account_id="acc_rules",
        currency="USD",
        company=CompanyDetails(name="Acme"),
        billing_emails=("billing@acme.test",),
        partner_id=None,
        settings=PaymentSettings(low_balance_threshold=threshold),
        credit_limit=200_000,
        balance=balance,
        seq=seq,
    )


def moved(a: Account, delta: int) -> Account:
    """The item after one ledger movement: balance and seq change, settings do not."""
    return a.with_balance(a.balance + delta, a.seq + 1)


def with_threshold(a: Account, threshold: int | None) -> Account:
    """The item after a settings change: same balance and seq."""
    return dc_replace(a, settings=PaymentSettings(low_balance_threshold=threshold))


def actions(old: Account | None, new: Account) -> set[tuple[str, str]]:
    return {(d.kind.value, d.action) for d in decide(old, new)}


# --------------------------------------------------------------------------- pure rules


def test_below_is_strict_and_needs_a_line() -> None:
    assert below(LOW, acct(999, threshold=1_000))
    assert not below(LOW, acct(1_000, threshold=1_000))  # at the threshold is not below it
    assert not below(LOW, acct(-50, threshold=None))  # no threshold: never low
    assert below(CREDIT, acct(-1)) and not below(CREDIT, acct(0))


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("down across the threshold", acct(1_500, 1_000), moved(acct(1_500, 1_000), -600), {("low_balance", "alert")}),
        ("down onto the threshold is not below", acct(1_500, 1_000), moved(acct(1_500, 1_000), -500), set()),
        ("down again while below", acct(900, 1_000), moved(acct(900, 1_000), -100), set()),
        ("up but still below", acct(500, 1_000), moved(acct(500, 1_000), 200), set()),
        (
            "up exactly to the threshold re-arms",
            acct(500, 1_000),
            moved(acct(500, 1_000), 500),
            {("low_balance", "rearm")},
        ),
        (
            "up above the threshold re-arms",
            acct(500, 1_000),
            moved(acct(500, 1_000), 5_000),
            {("low_balance", "rearm")},
        ),
        (
            "threshold raised above the balance",
            acct(800, 500),
            with_threshold(acct(800, 500), 1_000),
            {("low_balance", "alert")},
        ),
        ("threshold raised again while below", acct(800, 1_000), with_threshold(acct(800, 1_000), 2_000), set()),
        (
            "threshold lowered under the balance does not re-arm",
            acct(800, 1_000),
            with_threshold(acct(800, 1_000), 500),
            set(),
        ),
        ("threshold removed while below", acct(800, 1_000), with_threshold(acct(800, 1_000), None), set()),
        ("no threshold: a debit never alerts low balance", acct(800), moved(acct(800), -700), set()),
        ("new account item (no old image), not below", None, acct(0, None, seq=0), set()),
        ("new account item already below its threshold", None, acct(0, 1_000, seq=0), {("low_balance", "alert")}),
    ],
)
def test_low_balance_crossings(name: str, old: Account | None, new: Account, expected: set[tuple[str, str]]) -> None:
    # The credit line is not involved in any of these (balance stays >= 0), except as a re-arm on the way up.
    got = {a for a in actions(old, new) if a[0] == "low_balance"}
    assert got == expected, name
    assert ("credit_in_use", "alert") not in actions(old, new)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (acct(100), moved(acct(100), -101), {("credit_in_use", "alert")}),  # 1.00 -> -0.01: credit in use
        (acct(100), moved(acct(100), -100), set()),  # down to exactly 0: not credit in use
        (acct(-100), moved(acct(-100), -500), set()),  # deeper into the credit line: nothing new
        (acct(-100), moved(acct(-100), 50), set()),  # still negative
        (acct(-100), moved(acct(-100), 100), {("credit_in_use", "rearm")}),  # back to zero re-arms
        (acct(-100), moved(acct(-100), 300), {("credit_in_use", "rearm")}),
    ],
)
def test_credit_in_use_crossings(old: Account, new: Account, expected: set[tuple[str, str]]) -> None:
    assert {a for a in actions(old, new) if a[0] == "credit_in_use"} == expected


def test_one_debit_can_cross_both_lines_and_each_kind_is_decided_on_its_own() -> None:
    old = acct(2_000, threshold=1_000)
    assert decide(old, moved(old, -2_100)) == [Decision(LOW, "alert"), Decision(CREDIT, "alert")]
    already_low = acct(500, threshold=1_000)
    assert decide(already_low, moved(already_low, -600)) == [Decision(CREDIT, "alert")]
    deep = acct(-500, threshold=1_000)
    assert decide(deep, moved(deep, 2_000)) == [Decision(LOW, "rearm"), Decision(CREDIT, "rearm")]


def test_a_balance_change_without_a_ledger_movement_never_re_arms() -> None:
    old = acct(500, threshold=1_000, seq=4)
    # Same seq: not a movement (e.g. a replayed or reordered image); only movements re-arm.
    assert decide(old, dc_replace(old, balance=5_000)) == []


# --------------------------------------------------------------------------- once per crossing, through the service


@pytest.fixture
def mailer() -> RecordingMailer:
    return RecordingMailer()


@pytest.fixture
def feed(mailer: RecordingMailer) -> Feed:
    return Feed.open(MemoryStore(), mailer)


def low_alerts(mailer: RecordingMailer) -> int:
    return len(mailer.of_kind("low_balance"))


def guard(feed: Feed, kind: AlertKind = LOW) -> dict | None:
    return feed.store.get_item(account_pk(feed.account_id), f"ALERT#{kind.value}")


def test_every_low_balance_sequence_alerts_once_per_crossing(feed: Feed, mailer: RecordingMailer) -> None:
    feed.credit(50_000)
    feed.threshold(10_000)
    assert low_alerts(mailer) == 0

    assert feed.debit(45_000).sent  # 500.00 -> 50.00: down across 100.00
    assert low_alerts(mailer) == 1 and guard(feed) is not None
    assert not feed.debit(1_000).sent  # down again while below
    assert not feed.credit(4_000).sent  # up, still below
    assert low_alerts(mailer) == 1

    feed.credit(2_000)  # up exactly to the threshold: re-armed
    assert guard(feed) is None
    assert feed.debit(1).sent  # down again: a new crossing
    assert low_alerts(mailer) == 2

    feed.credit(20_001)  # 300.00, re-armed
    assert feed.threshold(40_000).sent  # threshold raised above the balance
    assert low_alerts(mailer) == 3
    assert not feed.threshold(60_000).sent  # raised again while still below
    assert not feed.threshold(20_000).sent  # lowered below the balance: no longer below, NOT re-armed
    assert not feed.threshold(60_000).sent  # raised again without a top-up: the guard holds
    assert low_alerts(mailer) == 3

    feed.credit(100_000)  # a top-up above re-arms
    assert feed.debit(100_000).sent
    assert low_alerts(mailer) == 4
    assert len(set(mailer.ids("low_balance"))) == 4


def test_threshold_lowered_under_the_balance_then_raised_again_is_not_a_second_alert(
    feed: Feed, mailer: RecordingMailer
) -> None:
    feed.credit(8_000)
    (first,) = feed.threshold(10_000).sent  # raised above the balance: the crossing's one alert
    feed.threshold(5_000)  # lowered under the balance: not below any more, but no top-up happened
    still = guard(feed)
    assert still is not None and still["notification_id"] == first  # the guard of that crossing stays
    assert not feed.threshold(10_000).sent  # raised again: same balance, same crossing
    assert notifications.scan_low_balances(feed.store, mailer).alerts_sent == 0  # nor does the scan send it
    assert mailer.ids() == [first]


def test_without_a_threshold_nothing_is_ever_alerted_as_low(feed: Feed, mailer: RecordingMailer) -> None:
    feed.credit(10_000)
    feed.debit(9_999)
    feed.threshold(None)
    feed.debit(1)
    assert low_alerts(mailer) == 0
    assert notifications.scan_low_balances(feed.store, mailer).items_read == 0


def test_credit_in_use_alerts_when_the_balance_goes_below_zero_once_per_crossing(
    feed: Feed, mailer: RecordingMailer
) -> None:
    feed.credit(1_000)
    assert feed.debit(1_000).sent == []  # exactly zero is not credit in use
    assert feed.debit(1).sent == [notifications.alert_id(CREDIT, feed.account_id, feed.item()["version"])]
    assert not feed.debit(5_000).sent  # deeper into the line
    feed.credit(5_001)  # back to 0: re-armed
    assert guard(feed, CREDIT) is None
    assert feed.debit(250).sent
    (first, second) = mailer.of_kind("credit_in_use")
    assert "-$0.01" in first.email.text and "-$2.50" in second.email.text
    assert "$2,000.00" in first.email.text  # the credit limit


# --------------------------------------------------------------------------- property: a reference model


@dataclass
class Model:
    """Once per crossing, as the rules document it.

    An alert kind is *armed* until it alerts; only a ledger movement that lifts the balance to
    or above an existing line re-arms it. Every not-below -> below transition while armed is one
    email; a transition while disarmed is none.
    """

    balance: int = 0
    threshold: int | None = None
    armed: dict[AlertKind, bool] = field(default_factory=lambda: {LOW: True, CREDIT: True})
    emails: dict[AlertKind, int] = field(default_factory=lambda: {LOW: 0, CREDIT: 0})

    def line(self, kind: AlertKind, threshold: int | None) -> int | None:
        return threshold if kind is LOW else 0

    def below(self, kind: AlertKind, balance: int, threshold: int | None) -> bool:
        limit = self.line(kind, threshold)
        return limit is not None and balance < limit

    def step(self, balance: int, threshold: int | None, movement_up: bool) -> None:
        for kind in AlertKind:
            was = self.below(kind, self.balance, self.threshold)
            now = self.below(kind, balance, threshold)
            if now and not was:
                if self.armed[kind]:
                    self.emails[kind] += 1
                    self.armed[kind] = False
            elif not now and movement_up and self.line(kind, threshold) is not None:
                self.armed[kind] = True
        self.balance, self.threshold = balance, threshold


CREDIT_LINE = 200_000  # the default credit limit (2,000.00 USD) of a new account

# Round amounts make balances land exactly on thresholds and on zero often; odd ones cross in between.
amounts = st.one_of(st.integers(1, 30).map(lambda k: k * 5_000), st.integers(1, 150_000))
thresholds = st.one_of(st.none(), st.integers(0, 24).map(lambda k: k * 5_000), st.integers(0, 120_000))
operations = st.lists(
    st.one_of(
        st.tuples(st.just("credit"), amounts),
        st.tuples(st.just("debit"), amounts),
        st.tuples(st.just("threshold"), thresholds),
        st.tuples(st.just("threshold"), thresholds),
        st.tuples(st.just("redeliver_last"), st.just(0)),
        st.tuples(st.just("scan"), st.just(0)),
    ),
    min_size=1,
    max_size=40,
)


@hyp_settings(max_examples=300)
@given(ops=operations)
def test_property_one_email_per_crossing_while_armed(ops: list[tuple[str, int | None]]) -> None:
    mailer = RecordingMailer()
    feed = Feed.open(MemoryStore(), mailer)
    model = Model()
    for op, value in ops:
        note(f"{op} {value} (balance {model.balance}, threshold {model.threshold}, armed {model.armed})")
        if op == "credit":
            assert isinstance(value, int)
            feed.credit(value)
            model.step(model.balance + value, model.threshold, movement_up=True)
        elif op == "debit":
            assert isinstance(value, int)
            if feed.try_debit(value) is None:
                assert model.balance - value < -CREDIT_LINE  # refused only beyond the credit line
            else:
                model.step(model.balance - value, model.threshold, movement_up=False)
        elif op == "threshold":
            feed.threshold(value)
            model.step(model.balance, value, movement_up=False)
        elif op == "redeliver_last" and feed.records:
            assert not feed.deliver(feed.records[-1]).sent  # at-least-once: a duplicate sends nothing
        elif op == "scan":
            assert notifications.scan_low_balances(feed.store, mailer).alerts_sent == 0
        assert feed.account.balance == model.balance
        assert low_alerts(mailer) == model.emails[LOW]
        assert len(mailer.of_kind("credit_in_use")) == model.emails[CREDIT]
    # Never two emails for one crossing: every notification id is distinct.
    assert len(mailer.ids()) == len(set(mailer.ids()))


# --------------------------------------------------------------------------- the emails: amounts, languages, HTML


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123_456, "USD", "$1,234.56"),
        (5, "USD", "$0.05"),
        (-1_234_567_89, "USD", "-$1,234,567.89"),
        (-5, "USD", "-$0.05"),
        (0, "EUR", "€0.00"),
        (1_234_567, "JPY", "¥1,234,567"),
        (-500, "JPY", "-¥500"),
        (1_234_567, "KWD", "KWD1,234.567"),
        (-1, "KWD", "-KWD0.001"),
        (None, "USD", "-"),  # no threshold set
    ],
)
def test_money_in_emails_is_formatted_for_people_per_currency(amount: int | None, currency: str, text: str) -> None:
    assert messages.money(amount, currency) == text


@pytest.mark.parametrize(
    ("amount", "currency", "text"),
    [
        (123_450, "EUR", "1\u00a0234,50\u00a0€"),
        (-5, "USD", "-0,05\u00a0USD"),
        (1_234_567, "JPY", "1\u00a0234\u00a0567\u00a0JPY"),
    ],
)
def test_slovak_emails_format_money_the_slovak_way(amount: int, currency: str, text: str) -> None:
    assert messages.money(amount, currency, "sk") == text


@pytest.mark.parametrize(
    ("currency", "credit", "threshold", "debit", "balance_text", "threshold_text"),
    [
        ("USD", 1_250_000, 1_000_000, 300_050, "$9,499.50", "$10,000.00"),
        ("JPY", 1_500_000, 1_000_000, 1_234_567, "¥265,433", "¥1,000,000"),
        ("KWD", 2_000_000, 1_500_000, 750_001, "KWD1,249.999", "KWD1,500.000"),
    ],
)
def test_low_balance_email_states_balance_and_threshold_in_the_account_currency(
    currency: str, credit: int, threshold: int, debit: int, balance_text: str, threshold_text: str
) -> None:
    mailer = RecordingMailer()
    feed = Feed.open(MemoryStore(), mailer, currency=currency)
    feed.credit(credit)
    feed.threshold(threshold)
    feed.debit(debit)
    (sent,) = mailer.of_kind("low_balance")
    assert sent.email.to == ("billing@acme.test",)
    assert sent.email.subject == "Low balance: Acme Certificates Ltd"
    assert f"is {balance_text}, below your alert threshold of {threshold_text}" in sent.email.text
    assert feed.account_id in sent.email.text
    assert balance_text in sent.email.html and threshold_text in sent.email.html


def test_slovak_account_gets_slovak_email() -> None:
    mailer = RecordingMailer()
    feed = Feed.open(MemoryStore(), mailer, currency="EUR", language="sk")
    feed.credit(50_000)
    feed.threshold(10_000)
    feed.debit(45_000)
    (sent,) = mailer.of_kind("low_balance")
    assert sent.email.subject == "Nízky kredit: Acme Certificates Ltd"
    assert "je 50,00\u00a0€, pod vaším limitom upozornenia 100,00\u00a0€" in sent.email.text  # Babel: no-break spaces
    assert '<html lang="sk">' in sent.email.html


@pytest.mark.parametrize("kind", sorted(messages.KINDS))
@pytest.mark.parametrize("language", ["xx", "de", ""])
def test_unknown_language_falls_back_to_english(kind: str, language: str) -> None:
    english = messages.render(kind, "en", ("a@b.test",), {"company": "Acme", "amount": "1.00 USD"})
    other = messages.render(kind, language, ("a@b.test",), {"company": "Acme", "amount": "1.00 USD"})
    assert (other.subject, other.text) == (english.subject, english.text)


@pytest.mark.parametrize("kind", sorted(messages.KINDS))
def test_every_kind_has_a_slovak_text_using_the_same_fields(kind: str) -> None:
    ctx = {
        "company": "Acme",
        "account_id": "acc_1",
        "amount": "1.00 USD",
        "balance": "2.00 USD",
        "threshold": "3.00 USD",
        "credit_limit": "4.00 USD",
        "shortfall": "5.00 USD",
        "order_id": "ord_1",
        "number": "PF-1",
        "reference": "123",
        "bank": "iban: SK00",
        "title": "Faktúra",
        "po_number": "PO-7",
        "reason": "no budget",
        "due": "K úhrade 1.00 USD",
        "due_date": "30. 11. 2026",
        # a refund (notifications.service: certificates, and where the money went from the payload's "to")
        "certificates": "2",
        "refunded_to": "do kreditu (1,00 USD)",
        # subscriptions, renewals, cards, auto top-up (messages.renewal_context)
        "subscription_id": "sub_1",
        "term": "2",
        "paid_by": "z kreditu",
        "failed_method": "karta",
        "decline_code": "card_declined",
        "reasons": "nestačí kredit",
        "retry_until": "17. 1. 2027",
        "window_end": "9. 2. 2027",
        "available": "6.00 USD",
        "renewals": "sub_1 10. 1. 2027 1.00 USD",
        "why": "obnovu sa nepodarilo uhradiť",
        "brand": "visa",
        "last4": "4242",
        "expiry": "01/2027",
        "deposit_id": "dep_1",
    }
    en = messages.render(kind, "en", ("a@b.test",), ctx)
    sk = messages.render(kind, "sk", ("a@b.test",), ctx)
    assert sk.subject != en.subject and sk.text != en.text
    assert "-" not in sk.text.split()  # no field fell back to the "-" placeholder
    for value in ctx.values():
        if value in en.text:
            assert value in sk.text, (kind, value)


def test_missing_fields_render_as_a_dash_not_as_an_error() -> None:
    out = messages.render("order.declined", "en", ("a@b.test",), {"company": "Acme"})
    assert out.subject == "Order - declined: insufficient funds"
    assert "short by -." in out.text


def test_company_name_is_html_escaped_in_the_html_part_only() -> None:
    company = '<script>alert("x")</script> Certs & Co'
    out = messages.render("low_balance", "en", ("a@b.test",), {"company": company, "balance": "1.00 USD"})
    assert "<script>" not in out.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Certs &amp; Co" in out.html
    assert out.subject == f"Low balance: {company}"  # the subject and text part are plain text
    assert company in out.text


def test_template_placeholders_in_a_company_name_are_not_expanded() -> None:
    out = messages.render("low_balance", "en", ("a@b.test",), {"company": "{balance} {0}", "balance": "1.00 USD"})
    assert out.subject == "Low balance: {balance} {0}"


def test_outbox_email_is_multipart_text_and_html_with_utf8_subject(tmp_path: Path) -> None:
    out = messages.render(
        "low_balance", "sk", ("a@b.test", "c@d.test"), {"company": "Žltá & spol.", "balance": "1 JPY"}
    )
    name = OutboxMailer(tmp_path, "billing@example.com").send(out, notification_id="low_balance-v7")
    assert name == "low_balance-v7.eml" and not list(tmp_path.glob("*.tmp"))
    msg = email.message_from_bytes((tmp_path / name).read_bytes(), policy=email.policy.default)
    assert msg["Subject"] == "Nízky kredit: Žltá & spol."
    assert msg["To"] == "a@b.test, c@d.test" and msg["X-Notification-Id"] == "low_balance-v7"
    assert msg.get_body(("plain",)).get_content() == out.text  # type: ignore[union-attr]
    assert "Žltá &amp; spol." in msg.get_body(("html",)).get_content()  # type: ignore[union-attr]


def test_html_lang_names_the_language_of_the_text_after_fallback() -> None:
    out = messages.render("low_balance", "de", ("a@b.test",), {"company": "Acme"})
    assert out.text.startswith("The balance")
    assert '<html lang="en">' in out.html


def test_a_line_break_in_the_company_name_is_refused_at_the_api() -> None:
    import pydantic

    from account_credit.accounts import schemas

    with pytest.raises(pydantic.ValidationError):
        schemas.Company(name="Acme\nBcc: someone@else.test")


def test_a_line_break_in_the_company_name_does_not_break_the_email_subject(tmp_path: Path) -> None:
    name = "Acme\nBcc: someone@else.test"  # e.g. stored before the API refused control characters
    out = messages.render("low_balance", "en", ("a@b.test",), {"company": name})
    assert "\n" not in out.subject and "\r" not in out.subject
    OutboxMailer(tmp_path, "billing@example.com").send(out, notification_id="low_balance-v1")
