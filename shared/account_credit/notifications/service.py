"""Notifications derived from what was committed (the table's stream), each sent once.

* Event items (``kind=event``, see events.py) become emails: deposit received,
  top-up reversed, proforma issued (with the seller's bank details), order declined, a
  document issued (its PDF attached, from the archive), an invoice paid, an invoice overdue; a renewal paid (or
  paid by the alternate method), failed (with what to do) or short in the forecast, a subscription suspended, a
  card expiring, an auto top-up done or declined (``messages.renewal_context``). A renewal's own
  ``order.declined`` is not mailed: its ``renewal.failed`` says it.
* Changes of an account item are checked for alert crossings (notifications/rules.py):
  low balance and credit in use, once per crossing.
* The hourly scan reads only accounts in the sparse low-balance index and alerts the
  ones whose crossing has no alert yet (threshold raised, an alert that failed).

Exactly once: every email has a deterministic notification id and a claim item
``NOTIFY#<id>`` written before sending (must not exist) and marked ``sent`` after. A
redelivered stream record finds the claim and sends nothing. A send that raises releases
its claim and fails the record, so the stream's retry sends it. A fresh claim held by
someone else fails the record too (retried later); a claim left ``sending`` by a function
that died mid-send is taken over after STALE_CLAIM_SECONDS, so an email is never lost
(at worst sent twice in that crash window); records that exhaust their retries go to the
on-failure queue, which alarms. An alert crossing is also
guarded by ``ALERT#<kind>`` (exists while alerted; removed when a top-up re-arms it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from account_credit.kernel.domain import Account
from account_credit.kernel.errors import Conflict, DomainError
from account_credit.notifications import messages, rules
from account_credit.notifications.mailer import Mailer
from account_credit.platform.commit import commit
from account_credit.platform.config import seller
from account_credit.platform.store import Record, RecordUpdate, Store, keys, stream_images
from account_credit.platform.store.items import account_from_item

# Longer than the notify function's timeout (60 s): a claim this old has no live sender.
STALE_CLAIM_SECONDS = 90
EVENT_KINDS = {
    "deposit.received",
    "deposit.reversed",
    "proforma.issued",
    "order.declined",
    "order.refunded",
    "document.stored",
    "invoice.paid",
    "invoice.overdue",
    "po.submitted",
    "po.rejected",
    "po.cancelled",
    "po.overdue",
    # Subscriptions, renewals, cards and auto top-up (docs/SUBSCRIPTIONS.md): messages.renewal_context fills them.
    "renewal.succeeded",
    "renewal.paid_with_alternate",
    "renewal.failed",
    "renewal.forecast_short",
    "subscription.suspended",
    "card.expiring",
    "auto_top_up.succeeded",
    "auto_top_up.declined",
}
# Where an email finds an archived file (a document's PDF) by its key; None when it is not there.
Files = Callable[[str], "tuple[bytes, str] | None"]


class NotificationInFlight(Exception):
    """Another sender holds a fresh claim on this email. Retry later (the stream record is
    reported as a batch item failure); once the claim is stale it is taken over."""


class AlreadyClaimed(Conflict):
    def __init__(self, old: dict[str, Any]) -> None:
        super().__init__("already claimed")
        self.old = old


@dataclass
class Outcome:
    sent: list[str]

    def __bool__(self) -> bool:
        return bool(self.sent)


def _claim_record(account_id: str, notification_id: str, kind: str) -> Record:
    return Record(
        *keys.notification_claim(account_id, notification_id),
        attrs={"kind": "notification", "type": kind, "state": "sending", "claimed_at": int(time.time())},
        on_exists=AlreadyClaimed,
    )


def _alert_record(account_id: str, alert: rules.AlertKind, notification_id: str, version: int) -> Record:
    """Exists while a crossing is alerted; ``version`` = the account version that crossed."""
    return Record(
        *keys.alert_guard(account_id, alert.value),
        attrs={"kind": "alert", "notification_id": notification_id, "version": version, "alerted_at": int(time.time())},
        on_exists=AlreadyClaimed,
    )


def _take_over_if_stale(store: Store, account_id: str, notification_id: str, old: dict[str, Any]) -> bool:
    """A claim still 'sending' long after it was made: its sender died. Take it over (once)."""
    if old.get("state") != "sending" or time.time() - int(old.get("claimed_at", 0)) < STALE_CLAIM_SECONDS:
        return False
    try:
        store.update_record(
            RecordUpdate(
                *keys.notification_claim(account_id, notification_id),
                changes={"claimed_at": int(time.time())},
                expect={"state": "sending", "claimed_at": old.get("claimed_at", 0)},
            )
        )
    except DomainError:
        return False  # someone else took it over
    return True


def _send(store: Store, mailer: Mailer, account: Account, notification_id: str, email: messages.Email) -> None:
    message_id = mailer.send(email, notification_id=notification_id)
    store.update_record(
        RecordUpdate(
            *keys.notification_claim(account.account_id, notification_id),
            changes={"state": "sent", "message_id": message_id, "sent_at": int(time.time())},
            expect={"state": "sending"},
        )
    )


def _context(account: Account, **extra: Any) -> dict[str, Any]:
    c, lang = account.currency, account.language
    return {
        "account_id": account.account_id,
        "company": account.company.name,
        "balance": messages.money(account.balance, c, lang),
        "threshold": messages.money(account.settings.low_balance_threshold, c, lang),
        "credit_limit": messages.money(account.credit_limit, c, lang),
        **extra,
    }


def notify_once(
    store: Store,
    mailer: Mailer,
    account: Account,
    notification_id: str,
    kind: str,
    context: dict[str, Any],
    guard: Record | None = None,
    attachments: tuple[messages.Attachment, ...] = (),
    to: tuple[str, ...] | None = None,
) -> bool:
    """Claim ``notification_id`` (with an optional guard record in the same transaction), send, mark sent."""
    uow = store.unit_of_work()
    if guard is not None:
        uow.put(guard)
    uow.put(_claim_record(account.account_id, notification_id, kind))
    try:
        commit(uow, None, lambda _p: {})
    except AlreadyClaimed as exc:
        if exc.old.get("kind") == "alert" and exc.old.get("notification_id") != notification_id:
            # This crossing was claimed under an earlier id. If that send died, finish it under
            # that id (with today's figures); if it went out, there is nothing to do.
            notification_id = str(exc.old["notification_id"])
        claim = store.get_item(*keys.notification_claim(account.account_id, notification_id))
        if claim is None:  # released after a failed send: claim it again
            try:
                store.put_record(_claim_record(account.account_id, notification_id, kind))
            except AlreadyClaimed:
                raise NotificationInFlight(notification_id) from None
        elif claim.get("state") == "sent":
            return False
        elif not _take_over_if_stale(store, account.account_id, notification_id, claim):
            raise NotificationInFlight(notification_id) from None
    email = messages.render(kind, account.language, to or account.billing_emails, context, attachments)
    try:
        _send(store, mailer, account, notification_id, email)
    except Exception:
        # Release the claim so the retry of this record sends it; the alert guard stays.
        store.delete_record(*keys.notification_claim(account.account_id, notification_id))
        raise
    return True


def alert_id(kind: rules.AlertKind, account_id: str, version: int) -> str:
    """Globally unique (it also names the outbox file): one per account item version that crossed."""
    return f"{kind.value}-{account_id}-v{version}"


def alert(store: Store, mailer: Mailer, account: Account, kind: rules.AlertKind, version: int) -> bool:
    if not rules.below(kind, account):
        return False
    nid = alert_id(kind, account.account_id, version)
    guard = _alert_record(account.account_id, kind, nid, version)
    return notify_once(store, mailer, account, nid, kind.value, _context(account), guard=guard)


def on_account_change(store: Store, mailer: Mailer, old: Account | None, new: Account, version: int) -> Outcome:
    sent = []
    for decision in rules.decide(old, new):
        if decision.action == "rearm":
            # Only a guard from before this top-up: a redelivered old top-up must not
            # re-arm a crossing that happened after it.
            store.delete_record(*keys.alert_guard(new.account_id, decision.kind.value), older_than=version)
        elif alert(store, mailer, new, decision.kind, version):
            sent.append(alert_id(decision.kind, new.account_id, version))
    return Outcome(sent)


def _bank(p: dict[str, Any], language: str) -> str:
    """The seller's bank details as one line (an event states them; older events carried a ``bank`` map)."""
    old = p.get("bank")
    p = {**(old if isinstance(old, dict) else {}), **p}
    labels = {"en": ("Bank", "IBAN", "BIC"), "sk": ("Banka", "IBAN", "BIC")}[language if language == "sk" else "en"]
    parts = [
        f"{label}: {p[key]}" for label, key in zip(labels, ("bank_name", "iban", "bic"), strict=True) if p.get(key)
    ]
    return ", ".join(parts)


def on_event(store: Store, mailer: Mailer, event: dict[str, Any], files: Files | None = None) -> Outcome:
    kind = event.get("type", "")
    if kind not in EVENT_KINDS:
        return Outcome([])
    account = store.get_account(event["account_id"])
    if account is None:
        return Outcome([])
    p = event.get("payload") or {}
    c, lang = p.get("currency", account.currency), account.language
    bank = _bank(p, lang)
    if kind in ("document.stored", "invoice.overdue", "po.overdue") and not bank:
        cfg = seller()
        bank = _bank({"bank_name": cfg.bank_name, "iban": cfg.iban, "bic": cfg.bic}, lang)
    amount = p.get("amount", p.get("total", p.get("due", p.get("payable") or p.get("gross"))))
    context = _context(
        account,
        amount=messages.money(amount, c, lang),
        shortfall=messages.money(p.get("shortfall"), c, lang),
        order_id=p.get("order_id", "-"),
        number=p.get("proforma_number", p.get("number", "-")),
        reference=p.get("payment_reference", p.get("reference", "-")),
        bank=bank,
        due_date=messages.date(p.get("due_date"), lang),
        po_number=p.get("po_number", p.get("order_reference", "-")),
        reason=p.get("reason", "-"),
    )
    if kind == "order.refunded":
        context.update(certificates=p.get("certificates", "-"), refunded_to=messages.refunded_to(p.get("to"), c, lang))
    if kind in messages.RENEWAL_KINDS:
        context.update(messages.renewal_context(kind, p, c, lang))
    if kind == "order.declined" and p.get("channel") == "renewal":
        return Outcome([])  # a renewal's decline: its renewal.failed email says what to do
    attachments: tuple[messages.Attachment, ...] = ()
    if kind == "document.stored" and p.get("kind") == "payment_request" and not p.get("order_reference"):
        return Outcome([])  # a top-up's proforma: its proforma.issued email went out when it was issued
    to: tuple[str, ...] | None = None
    if kind == "po.submitted":  # for the operators, not the customer
        operators = seller().operator_email
        if not operators:
            return Outcome([])
        to = (operators,)
    if kind == "document.stored":
        language = lang if lang in ("en", "sk") else "en"
        context["title"] = messages.TITLES.get(str(p.get("kind")), messages.TITLES["credit_invoice"])[language]
        context["amount"] = messages.money(p.get("gross"), c, lang)
        payable = p.get("payable")
        context["due"] = (
            messages.DUE[language].format_map({**context, "amount": messages.money(payable, c, lang)})
            if isinstance(payable, int) and payable > 0
            else messages.PAID[language]
        )
        got = files(str(p["pdf"])) if files is not None and p.get("pdf") else None
        if got is None:  # archived right before this event was written: missing means something is wrong
            raise LookupError(f"the PDF of {p.get('number')} is not in the archive")
        attachments = (messages.Attachment(f"{p.get('number')}.pdf", "application/pdf", got[0]),)
    if isinstance(p.get("balance_after"), int):
        context["balance"] = messages.money(p["balance_after"], account.currency, lang)
    if kind == "document.stored" and p.get("order_reference"):
        kind = "po.approved"  # a purchase order's invoice: the approval email, with the invoice attached
    nid = f"{kind}-{event['event_id']}"
    sent = notify_once(store, mailer, account, nid, kind, context, attachments=attachments, to=to)
    return Outcome([nid] if sent else [])


def on_stream_record(store: Store, mailer: Mailer, record: dict[str, Any], files: Files | None = None) -> Outcome:
    """One DynamoDB stream record (Lambda's format, images in DynamoDB JSON)."""
    old, new = stream_images(record)
    if new is None:
        return Outcome([])
    if new.get("kind") == "event" and record.get("eventName") == "INSERT":
        return on_event(store, mailer, new, files)
    if new.get("kind") == "account":
        old_account = account_from_item(old) if old and old.get("kind") == "account" else None
        return on_account_change(store, mailer, old_account, account_from_item(new), int(new.get("version", 0)))
    return Outcome([])


@dataclass(frozen=True)
class ScanResult:
    items_read: int
    accounts_below: int
    alerts_sent: int


def scan_low_balances(store: Store, mailer: Mailer, page_size: int = 100) -> ScanResult:
    """Alert every account in the sparse low-balance index whose crossing has no alert yet."""
    read = below = sent = 0
    cursor: str | None = None
    while True:
        accounts, cursor, scanned = store.low_balance_accounts(cursor, page_size)
        read += scanned
        for account, version in accounts:
            below += 1
            try:
                if alert(store, mailer, account, rules.AlertKind.LOW_BALANCE, version):
                    sent += 1
            except NotificationInFlight:
                continue  # being sent right now; the next scan sees it done

        if cursor is None:
            return ScanResult(items_read=read, accounts_below=below, alerts_sent=sent)
