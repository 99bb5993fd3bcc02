"""The sandbox payment provider and bank on the local stack: complete, fail, refund or dispute a card
top-up, or send a bank transfer - each as a signed webhook delivered to the running local server.

    python -m tools.sandbox pay ACCOUNT_ID DEPOSIT_ID             # payment_intent.succeeded
    python -m tools.sandbox pay ACCOUNT_ID DEPOSIT_ID --fail      # payment_intent.payment_failed
    python -m tools.sandbox pay ACCOUNT_ID DEPOSIT_ID --refund    # charge.refunded (--amount: cumulative)
    python -m tools.sandbox pay ACCOUNT_ID DEPOSIT_ID --dispute   # charge.dispute.created
    python -m tools.sandbox transfer --reference 1234567890 --amount 25000 --currency EUR [--transfer-id ID]
    python -m tools.sandbox card-declines TOKEN [--code card_declined|expired_card] [--off]
    python -m tools.sandbox age-order ACCOUNT_ID ORDER_ID --days 31   # as if placed 31 days ago

``card-declines`` makes a card registered already decline from now on (``--off``: approve again): it writes
``$LOCAL_STATE_DIR/sandbox-cards.json`` (default ``.local/``), which the sandbox provider of every local server
process reads on each charge. Nothing is sent to the server. ``age-order`` moves an order's date back on the local
table (the 30-day refund window, tried today).

``--base`` (default ``$BASE``, else http://127.0.0.1:``$PORT`` as for ``make run``) picks the server.
The webhook secrets are dev-only values generated once into ``.local/webhook-secrets.json``; the local
server reads the same file (``local_environment``), so the signatures verify exactly as Stripe's would.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from tools import localauth
from tools.template import ROOT

SECRETS_FILE = ROOT / ".local" / "webhook-secrets.json"
DEFAULT_BASE = "http://127.0.0.1:3000"


def local_secrets() -> dict[str, str]:
    """Dev-only webhook secrets of the local stack (generated on first use, kept in .local/)."""
    if not SECRETS_FILE.exists():
        SECRETS_FILE.parent.mkdir(parents=True, exist_ok=True)
        values = {
            "sandbox_webhook_secret": "whsec_local_" + secrets.token_hex(24),
            "bank_webhook_secret": "whsec_bank_local_" + secrets.token_hex(24),
        }
        tmp = SECRETS_FILE.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(values, indent=2))
        tmp.chmod(0o600)
        try:
            os.link(tmp, SECRETS_FILE)  # atomic: a concurrent first use keeps the file that won
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return dict(json.loads(SECRETS_FILE.read_text()))


def state_dir() -> Path:
    """The local stack's state directory: ``LOCAL_STATE_DIR`` or <repo>/.local (as the local server's)."""
    return Path(os.environ.get("LOCAL_STATE_DIR") or ROOT / ".local").expanduser().resolve()


def cards_file() -> Path:
    return state_dir() / "sandbox-cards.json"


def local_environment() -> dict[str, str]:
    """What the deposit functions need locally: the sandbox provider, its secrets, demo seller details."""
    values = local_secrets()
    return {
        "PAYMENT_PROVIDER": "sandbox",
        # The sandbox cards told to decline (python -m tools.sandbox card-declines), read on every charge.
        "SANDBOX_CARDS_FILE": str(cards_file()),
        "SANDBOX_WEBHOOK_SECRET": values["sandbox_webhook_secret"],
        "BANK_WEBHOOK_SECRET": values["bank_webhook_secret"],
        # Demo seller for proforma invoices and billing documents on this machine only (the IBAN is the registry's
        # SK example); not VAT registered (the template's default).
        "SELLER_NAME": "Account Credit Demo s.r.o. (local)",
        "SELLER_ADDRESS": "Hlavna 1, 811 01 Bratislava, SK",
        "SELLER_STREET": "Hlavna 1",
        "SELLER_CITY": "Bratislava",
        "SELLER_POSTAL_CODE": "811 01",
        "SELLER_COUNTRY": "SK",
        "SELLER_EMAIL": "billing@account-credit.local",
        "SELLER_IBAN": "SK3112000000198742637541",
        "SELLER_BIC": "DEMOSKBX",
        "SELLER_BANK_NAME": "Demo Bank (local stack)",
    }


def _shared_on_path() -> None:
    shared = str(ROOT / "shared")
    if shared not in sys.path:
        sys.path.insert(0, shared)


def _post(base: str, path: str, payload: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    import requests

    r = requests.post(base + path, data=payload, headers=headers, timeout=30)
    try:
        return r.status_code, r.json()
    except ValueError:
        return r.status_code, r.text


def card_event(deposit: dict[str, Any], action: str, amount: int | None = None) -> dict[str, Any]:
    """The Stripe-shaped event the provider would send for ``action`` on a card deposit (as GET returns it)."""
    _shared_on_path()
    from account_credit.kernel.money import Money
    from account_credit.platform.payments import sandbox

    payment_id = deposit["payment_id"]
    money = Money(deposit["amount"], deposit["currency"])
    metadata = {
        "purpose": "deposit",
        "account_id": deposit["account_id"],
        "deposit_id": deposit["deposit_id"],
        "save_card": "true" if deposit.get("save_card") else "false",
    }
    given = money if amount is None else Money(amount, money.currency)
    if action == "pay":
        return sandbox.payment_succeeded(payment_id, given, metadata)
    if action == "fail":
        return sandbox.payment_failed(payment_id, money, metadata)
    if action == "refund":
        return sandbox.charge_refunded(payment_id, money, given.amount)
    if action == "dispute":
        return sandbox.dispute_created(payment_id, given)
    raise ValueError(f"unknown action {action!r}")


def deliver_card_event(base: str, event: dict[str, Any], timestamp: int | None = None) -> tuple[int, Any]:
    """Sign ``event`` with the local sandbox secret and POST it to /webhooks/sandbox."""
    _shared_on_path()
    from account_credit.platform.payments.sandbox import SandboxProvider

    provider = SandboxProvider(webhook_secret=local_secrets()["sandbox_webhook_secret"])
    payload, headers = provider.signed(event, timestamp)
    return _post(base, "/webhooks/sandbox", payload, headers)


def bank_transfer(
    reference: str | None,
    amount: int,
    currency: str,
    *,
    transfer_id: str | None = None,
    payer: str = "Sandbox Payer",
    booked: date | None = None,
    message: str | None = None,
) -> dict[str, Any]:
    return {
        "transfer_id": transfer_id or "tr_" + uuid.uuid4().hex[:20],
        "amount": amount,
        "currency": currency,
        "reference": reference,
        "payer": {"name": payer, "iban": "SK8975000000000012345671"},
        "booked_date": (booked or date.today()).isoformat(),
        **({"message": message} if message else {}),
    }


def deliver_bank_transfer(base: str, transfer: dict[str, Any], timestamp: int | None = None) -> tuple[int, Any]:
    """Sign ``transfer`` with the local bank secret (header Bank-Signature) and POST it to /webhooks/bank."""
    _shared_on_path()
    from account_credit.platform.payments import stripe_format

    payload = json.dumps(transfer, separators=(",", ":")).encode()
    signature = stripe_format.sign(payload, local_secrets()["bank_webhook_secret"], timestamp)
    return _post(base, "/webhooks/bank", payload, {"Bank-Signature": signature, "Content-Type": "application/json"})


def fetch_deposit(base: str, account_id: str, deposit_id: str) -> dict[str, Any]:
    import requests

    token = localauth.mint("operator", subject="sandbox-cli")
    r = requests.get(
        f"{base}/accounts/{account_id}/deposits/{deposit_id}", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    if r.status_code != 200:
        raise SystemExit(f"cannot read deposit {deposit_id}: {r.status_code} {r.text}")
    body: dict[str, Any] = r.json()
    if body.get("method") != "card":
        raise SystemExit(f"deposit {deposit_id} is a {body.get('method')} deposit; use `transfer` for bank transfers")
    return body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--base",
        default=os.environ.get("BASE") or f"http://127.0.0.1:{os.environ.get('PORT', '3000')}",
        help="local server URL (default: $BASE, else http://127.0.0.1:$PORT, PORT defaulting to 3000)",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    pay = sub.add_parser("pay", help="complete (default), fail, refund or dispute a card top-up")
    pay.add_argument("account_id")
    pay.add_argument("deposit_id")
    outcome = pay.add_mutually_exclusive_group()
    outcome.add_argument("--fail", action="store_const", dest="action", const="fail")
    outcome.add_argument("--refund", action="store_const", dest="action", const="refund")
    outcome.add_argument("--dispute", action="store_const", dest="action", const="dispute")
    pay.add_argument("--amount", type=int, help="minor units (refund: cumulative refunded amount)")
    tr = sub.add_parser("transfer", help="an incoming bank transfer through the signed bank webhook")
    tr.add_argument("--reference", help="payment reference (variable symbol); omit for an unmatched transfer")
    tr.add_argument("--amount", type=int, required=True, help="minor units")
    tr.add_argument("--currency", required=True)
    tr.add_argument("--transfer-id")
    tr.add_argument("--payer", default="Sandbox Payer")
    tr.add_argument("--message", help="remittance text, e.g. the invoice number it pays (PF-2026-000001)")
    dc = sub.add_parser("card-declines", help="make a registered sandbox card decline from now on (--off: approve)")
    dc.add_argument("token", help="the card's provider token, as registered (e.g. pm_card_visa)")
    dc.add_argument("--code", default="card_declined", choices=["card_declined", "expired_card", "insufficient_funds"])
    dc.add_argument("--off", action="store_true", help="approve the card again")
    age = sub.add_parser("age-order", help="move an order's date back (local only: try the 30-day refund window)")
    age.add_argument("account_id")
    age.add_argument("order_id")
    age.add_argument("--days", type=int, required=True, help="how many days earlier the order was placed")
    args = parser.parse_args(argv)
    if args.command == "card-declines":
        card_declines(args.token, None if args.off else args.code)
        return
    if args.command == "age-order":
        print(json.dumps(age_order(args.account_id, args.order_id, args.days)))
        return
    import requests

    try:
        _run(args)
    except requests.ConnectionError:
        raise SystemExit(
            f"no local server answers at {args.base}: start it with `make run` "
            "(or pass --base, or set BASE or PORT to where it listens)"
        ) from None


def card_declines(token: str, code: str | None) -> dict[str, str]:
    """Make the sandbox card ``token`` decline with ``code`` from now on (None: approve it again)."""
    _shared_on_path()
    from account_credit.platform.payments.sandbox import set_declining

    declining = set_declining(str(cards_file()), token, code)
    state = f"declines with {code}" if code else "approves again"
    print(f"sandbox card {token} {state} ({len(declining)} declining in {cards_file()})")
    return declining


def age_order(account_id: str, order_id: str, days: int) -> dict[str, str]:
    """Move an order of the local table ``days`` back in time (its ``created_at`` and its place in the orders list),
    as if it had been placed then: the refund window can be tried without waiting a month. The local stack only:
    the same DynamoDB Local as the server (DYNAMODB_ENDPOINT, else the one recorded in the state directory)."""
    from datetime import datetime, timedelta

    from tools.local_server import local_endpoint, prepare

    os.environ["DYNAMODB_ENDPOINT"] = local_endpoint()
    prepare(memory=False, ddb_port=0, start_ddb=False)
    _shared_on_path()
    from account_credit.kernel.ids import iso
    from account_credit.platform.http.resolver import store
    from account_credit.platform.store import RecordUpdate, keys

    item = store().get_item(*keys.order(account_id, order_id))
    if item is None:
        raise SystemExit(f"no order {order_id} of account {account_id} on this local table")
    placed = datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00")) - timedelta(days=days)
    created_at = iso(placed)
    store().update_record(
        RecordUpdate(
            *keys.order(account_id, order_id),
            changes={"created_at": created_at, **keys.order_index_keys(account_id, created_at, order_id)},
            expect={"created_at": item["created_at"]},
        )
    )
    return {"order_id": order_id, "created_at": created_at}


def _run(args: argparse.Namespace) -> None:
    if args.command == "pay":
        deposit = fetch_deposit(args.base, args.account_id, args.deposit_id)
        event = card_event(deposit, args.action or "pay", args.amount)
        status, body = deliver_card_event(args.base, event)
        print(f"{event['type']} {event['id']} -> {status}")
    else:
        transfer = bank_transfer(
            args.reference,
            args.amount,
            args.currency,
            transfer_id=args.transfer_id,
            payer=args.payer,
            message=args.message,
        )
        status, body = deliver_bank_transfer(args.base, transfer)
        print(f"bank transfer {transfer['transfer_id']} -> {status}")
    print(json.dumps(body, indent=2))
    if status >= 400:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
