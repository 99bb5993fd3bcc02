"""Helpers of the auto top-up and card-expiry tests: saved cards and preferences as the payment-methods piece
stores them, subscriptions as the subscriptions piece stores them, and stream records of account changes.
Written through ``Store.put_if_absent``, so the integration tier uses them on DynamoDB Local too."""

from __future__ import annotations

from typing import Any

from account_credit.platform.store import Store, keys
from account_credit.platform.store.codec import to_item


def save_card(
    store: Store,
    account_id: str,
    pm_id: str,
    *,
    token: str = "pm_card_visa",
    exp: tuple[int, int] = (12, 2030),
    provider: str = "sandbox",
) -> None:
    month, year = exp
    assert store.put_if_absent(
        keys.payment_method(account_id, pm_id),
        {
            "kind": "payment_method",
            "payment_method_id": pm_id,
            "account_id": account_id,
            "type": "card",
            "provider": provider,
            "token": token,
            "brand": "visa",
            "last4": "4242",
            "exp_month": month,
            "exp_year": year,
            "created_at": "2026-01-01T00:00:00Z",
            "gsi1pk": keys.card_expiry_index(f"{year:04d}-{month:02d}"),
            "gsi1sk": f"{account_id}#{pm_id}",
        },
    )


def prefer(store: Store, account_id: str, default: str = "balance", alternate: str | None = None) -> None:
    key = keys.payment_preferences(account_id)
    store.delete_record(*key)
    store.put_if_absent(key, {"kind": "payment_preferences", "default": default, "alternate": alternate})


def subscribe(
    store: Store,
    account_id: str,
    sub_id: str,
    *,
    state: str = "active",
    auto_renew: bool = True,
    payment_method_id: str | None = None,
) -> None:
    store.put_if_absent(
        keys.subscription(account_id, sub_id),
        {
            "kind": "subscription",
            "subscription_id": sub_id,
            "account_id": account_id,
            "state": state,
            "auto_renew": auto_renew,
            "payment_method_id": payment_method_id,
        },
    )


def account_item(store: Store, account_id: str) -> dict[str, Any]:
    item = store.get_item(*keys.account(account_id))
    assert item is not None
    return item


def account_record(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The stream record (Lambda's format) of the account item changing from ``old`` to ``new``."""
    return {
        "eventID": f"{new['pk']}-{new['seq']}",
        "eventName": "MODIFY",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": to_item({"pk": new["pk"], "sk": new["sk"]}),
            "OldImage": to_item(old),
            "NewImage": to_item(new),
            "SequenceNumber": f"{new['seq']:021d}",
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


def events_of(store: Any, account_id: str, event_type: str) -> list[dict[str, Any]]:
    rows = store.query_prefix(keys.account_pk(account_id), "EVENT#", limit=1000)
    return [r for r in rows if r.get("type") == event_type]
