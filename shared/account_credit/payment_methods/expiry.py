"""The card-expiry scan (daily): each card about to expire that the account relies on is announced once.

A card whose expiry is month M (``exp_month``/``exp_year``) works to the end of M. Cards are listed in a sparse
index by that month (``gsi1pk = keys.card_expiry_index("YYYY-MM")``, ``gsi1sk = <account>#<payment method>``),
so the scan reads only the months whose last day falls within ``[today, today + notice days]``
(``CARD_EXPIRY_NOTICE_DAYS``, 30 by default), never every account. A card found there is relied on when it is
the account's default or alternate payment method, when an active auto-renewing subscription is assigned to it,
or when it is the default and an active auto-renewing subscription has no method of its own (it falls back to
the default). Each such card gets one ``card.expiring`` per expiry month, whatever the number of runs: the
marker ``keys.card_expiry_notice`` is written with the event (``events.announce_once``). A card the account no
longer relies on is not announced; should it be relied on again before it expires, a later run announces it.
"""

from __future__ import annotations

import calendar
import os
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from account_credit.payment_methods import reliance as methods
from account_credit.platform.events import DomainEvent, EventType, announce_once
from account_credit.platform.store import Store, keys

DEFAULT_NOTICE_DAYS = 30
PAGE = 100


def notice_days() -> int:
    """``CARD_EXPIRY_NOTICE_DAYS``: how many days ahead of a card's expiry it is announced (0..365)."""
    raw = os.environ.get("CARD_EXPIRY_NOTICE_DAYS", "").strip()
    days = int(raw) if raw else DEFAULT_NOTICE_DAYS
    if not 0 <= days <= 365:
        raise ValueError(f"CARD_EXPIRY_NOTICE_DAYS must be 0..365, not {days}")
    return days


def month_end(month: str) -> date:
    year, mon = (int(p) for p in month.split("-"))
    return date(year, mon, calendar.monthrange(year, mon)[1])


def months_to_scan(today: date, days: int) -> list[str]:
    """The expiry months (``YYYY-MM``) whose last day lies within ``[today, today + days]``."""
    last = today + timedelta(days=days)
    out = []
    year, mon = today.year, today.month
    while (year, mon) <= (last.year, last.month):
        month = f"{year:04d}-{mon:02d}"
        if today <= month_end(month) <= last:
            out.append(month)
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return out


def relied_on_by(
    payment_method_id: str, prefs: methods.Preferences, subscriptions: list[methods.Subscription]
) -> list[str]:
    """Who relies on the card: ``default``, ``alternate`` and ``subscription:<id>`` (assigned to it, or falling
    back to the default when it is the default). Only active, auto-renewing subscriptions rely on a card."""
    out = []
    is_default = prefs.default == payment_method_id
    if is_default:
        out.append("default")
    if prefs.alternate == payment_method_id:
        out.append("alternate")
    for sub in sorted(subscriptions, key=lambda s: s.subscription_id):
        if not (sub.active and sub.auto_renew):
            continue
        if sub.payment_method_id == payment_method_id or (sub.payment_method_id is None and is_default):
            out.append(f"subscription:{sub.subscription_id}")
    return out


@dataclass
class ScanResult:
    months: list[str]
    cards_read: int = 0
    relied_on: int = 0
    announced: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "months": self.months,
            "cards_read": self.cards_read,
            "relied_on": self.relied_on,
            "announced": self.announced,
        }


def announce(store: Store, item: dict[str, Any], month: str) -> tuple[bool, bool]:
    """One indexed card: (relied on, announced now)."""
    card = methods.card_from_item(item)
    if card is None:
        return False, False
    account_id = str(item["account_id"])
    relied = relied_on_by(
        card.payment_method_id, methods.preferences(store, account_id), methods.subscriptions(store, account_id)
    )
    if not relied:
        return False, False
    saved = card.saved
    event = DomainEvent(
        account_id=account_id,
        type=EventType.CARD_EXPIRING,
        payload={
            "payment_method_id": card.payment_method_id,
            "brand": saved.brand,
            "last4": saved.last4,
            "exp_month": saved.exp_month,
            "exp_year": saved.exp_year,
            "relied_on_by": relied,
        },
    )
    marker = keys.card_expiry_notice(account_id, card.payment_method_id, month)
    attrs = {"kind": "card_expiry_notice", "payment_method_id": card.payment_method_id, "month": month}
    return True, announce_once(store, marker, attrs, event)


def scan(store: Store, today: date, days: int | None = None) -> ScanResult:
    """Announce every relied-on card of the months due (safe to rerun: each card once per expiry month)."""
    result = ScanResult(months=months_to_scan(today, notice_days() if days is None else days))
    for month in result.months:
        cursor: str | None = None
        while True:
            items, cursor = store.index_page(keys.card_expiry_index(month), cursor=cursor, limit=PAGE)
            for item in items:
                result.cards_read += 1
                relied, announced = announce(store, item, month)
                result.relied_on += relied
                result.announced += announced
            if cursor is None:
                break
    return result
