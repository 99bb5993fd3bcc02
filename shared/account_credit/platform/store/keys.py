"""Single-table key design: every pk/sk shape of the table, in domain terms (docs/DATA_MODEL.md).

Capabilities never format a key themselves: they name the item (``keys.deposit(account_id,
deposit_id)``) and get its ``(pk, sk)``; a query names the collection (``keys.deposits_prefix(
account_id)``) and gets ``(pk, sk_prefix)`` for ``Store.query_prefix``.
"""

from __future__ import annotations

Key = tuple[str, str]  # (pk, sk) of one item, or (pk, sk_prefix) of a collection

# --------------------------------------------------------------------------- accounts and the ledger

ACCOUNT_SK = "ACCOUNT"
ENTRY_PREFIX = "ENTRY#"
IDEMPOTENCY_PREFIX = "IDEM#"


def account_pk(account_id: str) -> str:
    return f"ACCOUNT#{account_id}"


def account(account_id: str) -> Key:
    """The account item (the balance)."""
    return account_pk(account_id), ACCOUNT_SK


def entry_sk(created_at: str, entry_id: str) -> str:
    """Entries sort by the time they were made; their place in the commit order is their ``seq``."""
    return f"{ENTRY_PREFIX}{created_at}#{entry_id}"


def entries_between(low: str, high: str) -> tuple[str, str]:
    """Sort-key bounds of the ledger entries created from ``low`` to ``high`` (ISO 8601 prefixes)."""
    return ENTRY_PREFIX + low, ENTRY_PREFIX + high


def entry_type_pk(account_id: str, entry_type: str) -> str:
    return f"ACCOUNT#{account_id}#TYPE#{entry_type}"


def entry_type_sk(created_at: str, entry_id: str) -> str:
    return f"{created_at}#{entry_id}"


def idempotency_sk(scope: str, key: str) -> str:
    return f"{IDEMPOTENCY_PREFIX}{scope}#{key}"


def is_money_sk(sk: str) -> bool:
    """The account item, a ledger entry or an idempotency record: never deleted."""
    return sk.startswith((ACCOUNT_SK, ENTRY_PREFIX, IDEMPOTENCY_PREFIX))


# Sparse index of accounts below their low-balance threshold: only such account items
# carry gsi1pk/gsi1sk, so the scheduled scan reads exactly the low accounts.
LOW_BALANCE_PK = "LOWBAL"

# --------------------------------------------------------------------------- domain events (platform/events.py)


def event(account_id: str, created_at: str, event_id: str) -> Key:
    return account_pk(account_id), f"EVENT#{created_at}#{event_id}"


# --------------------------------------------------------------------------- catalog


def product(code: str) -> Key:
    return "CATALOG", f"PRODUCT#{code}"


def products_prefix() -> Key:
    """The whole catalog: one partition."""
    return "CATALOG", "PRODUCT#"


# --------------------------------------------------------------------------- payment methods


def payment_method(account_id: str, payment_method_id: str) -> Key:
    return account_pk(account_id), f"PM#{payment_method_id}"


def card_token(account_id: str, provider: str, token: str) -> Key:
    """A provider token saved on the account (must not exist: the same card twice is one payment method)."""
    return account_pk(account_id), f"PMTOKEN#{provider}#{token}"


def first_card(account_id: str) -> Key:
    """The account's first card, which becomes its default (must not exist: of two cards registered at once,
    exactly one is the first)."""
    return account_pk(account_id), "PMFIRST"


def payment_methods_prefix(account_id: str) -> Key:
    return account_pk(account_id), "PM#"


def payment_preferences(account_id: str) -> Key:
    """The account's default and alternate payment methods (one item: the one model of "which method pays")."""
    return account_pk(account_id), "PMPREFS"


def gift_card(code: str) -> Key:
    """A gift card: its remaining value, decremented atomically (never below zero)."""
    return f"GIFTCARD#{code}", "GIFTCARD"


def card_expiry_index(month: str) -> str:
    """The gsi1 partition of the cards that expire in ``month`` (``YYYY-MM``): the expiry scan reads only these."""
    return f"CARDEXP#{month}"


# --------------------------------------------------------------------------- subscriptions, renewals and holds

RENEWAL_INDEX_PK = "RENEWAL"  # gsi1: active auto-renewing subscriptions, gsi1sk = <renewal date>#<account>#<id>


def subscription(account_id: str, subscription_id: str) -> Key:
    return account_pk(account_id), f"SUB#{subscription_id}"


def subscriptions_prefix(account_id: str) -> Key:
    return account_pk(account_id), "SUB#"


def renewal_index_sk(renewal_date: str, account_id: str, subscription_id: str) -> str:
    return f"{renewal_date}#{account_id}#{subscription_id}"


def hold(account_id: str, hold_id: str) -> Key:
    """An amount of the balance reserved (a renewal's), while active counted in the account's ``held``."""
    return account_pk(account_id), f"HOLD#{hold_id}"


def holds_prefix(account_id: str) -> Key:
    return account_pk(account_id), "HOLD#"


def renewal_notice(account_id: str, purpose: str) -> Key:
    """Something the renewal schedule announced once (must not exist): ``failed#<sid>#<term>#<day>``,
    ``forecast#<first due date>``."""
    return account_pk(account_id), f"RENEWALNOTE#{purpose}"


# --------------------------------------------------------------------------- deposits (card top-ups)


def deposit(account_id: str, deposit_id: str) -> Key:
    return account_pk(account_id), f"DEPOSIT#{deposit_id}"


def deposits_prefix(account_id: str) -> Key:
    """An account's deposits (card and bank transfer); newest first when queried so."""
    return account_pk(account_id), "DEPOSIT#"


def payment_link(provider: str, payment_id: str) -> Key:
    """Which account and deposit a provider payment belongs to (how a webhook finds its deposit)."""
    return f"PAYMENT#{provider}#{payment_id}", "PAYMENT"


def webhook_event(provider: str, event_id: str) -> Key:
    """Permanent dedup of a provider's webhook event."""
    return f"WEBHOOK#{provider}#{event_id}", "WEBHOOK"


def account_flag(account_id: str, created_at: str, deposit_id: str) -> Key:
    """A top-up taken back (refund, dispute)."""
    return account_pk(account_id), f"FLAG#{created_at}#{deposit_id}"


def flags_prefix(account_id: str) -> Key:
    return account_pk(account_id), "FLAG#"


# --------------------------------------------------------------------------- bank transfers


def payment_reference(reference: str) -> Key:
    """The reservation of a bank payment reference: must not exist, so it belongs to one account."""
    return f"REF#{reference}", "REF"


def proforma_counter(year: int) -> Key:
    """The last proforma number issued in ``year``."""
    return f"COUNTER#PROFORMA#{year}", "COUNTER"


def proforma_number(number: str) -> Key:
    """A proforma number taken (must not exist: a number is never issued twice)."""
    return f"PROFORMA#{number}", "PROFORMA"


def bank_transfer(transfer_id: str) -> Key:
    """Permanent dedup of an incoming bank transfer, and where it went."""
    return f"BANKTRANSFER#{transfer_id}", "BANKTRANSFER"


def suspense_transfer(transfer_id: str) -> Key:
    """An unmatched transfer on the suspense list."""
    return "SUSPENSE", f"TRANSFER#{transfer_id}"


def suspense_prefix() -> Key:
    """The whole suspense list: one partition."""
    return "SUSPENSE", "TRANSFER#"


# --------------------------------------------------------------------------- notifications


def notification_claim(account_id: str, notification_id: str) -> Key:
    """Written (must not exist) before an email is sent, so it is sent once."""
    return account_pk(account_id), f"NOTIFY#{notification_id}"


def alert_guard(account_id: str, alert_kind: str) -> Key:
    """Exists while a low-balance / credit-in-use crossing of the account is alerted."""
    return account_pk(account_id), f"ALERT#{alert_kind}"


# --------------------------------------------------------------------------- orders

ORDER_PREFIX = "ORDER#"


def order(account_id: str, order_id: str) -> Key:
    """An order of an account: ``ACCOUNT#<account_id>`` / ``ORDER#<order_id>``."""
    return account_pk(account_id), ORDER_PREFIX + order_id


# --------------------------------------------------------------------------- billing documents


def counter(series: str, year: int) -> Key:
    """The last number issued in a document series and year (``PROFORMA``, ``TD``, ``ST``, ``CI``, ``IN``, ``CN``)."""
    return proforma_counter(year) if series == "PROFORMA" else (f"COUNTER#{series}#{year}", "COUNTER")


def document_number(number: str) -> Key:
    """A document number taken (must not exist): which account's document it is."""
    return f"DOCNO#{number}", "DOCNO"


def document(account_id: str, number: str) -> Key:
    """An issued document (immutable), in its account's partition."""
    return account_pk(account_id), f"DOC#{number}"


def documents_prefix(account_id: str) -> Key:
    return account_pk(account_id), "DOC#"


def document_purpose(account_id: str, purpose: str) -> Key:
    """What a document was issued for (``tax_document#<entry>``, ``statement#<month>#<source>``...): must not
    exist, so a rerun, a redelivery or a crash halfway never issues the same document twice."""
    return account_pk(account_id), f"DOCFOR#{purpose}"


def document_payment(account_id: str, number: str, top_up: str) -> Key:
    """A payment received for a credit invoice (once per invoice and top-up)."""
    return account_pk(account_id), f"DOCPAY#{number}#{top_up}"


def document_payments_prefix(account_id: str, number: str) -> Key:
    return account_pk(account_id), f"DOCPAY#{number}#"


def billing_run(account_id: str, month: str) -> Key:
    """The monthly run of an account and month, once it issued everything."""
    return account_pk(account_id), f"BILLRUN#{month}"


def purchase_order(account_id: str, po_id: str) -> Key:
    """A purchase order; its gsi1 keys say its state (``POSTATE#<state>``, the operators' queue)."""
    return account_pk(account_id), f"PO#{po_id}"


def purchase_orders_prefix(account_id: str) -> Key:
    return account_pk(account_id), "PO#"


def purchase_order_number(account_id: str, number: str) -> Key:
    """The customer's own PO number, taken (must not exist: unique per account)."""
    return account_pk(account_id), f"PONUM#{number}"


def purchase_order_reminder(account_id: str, po_id: str, stage: int) -> Key:
    """A reminder stage (days past due) of a purchase order's invoice, announced once."""
    return account_pk(account_id), f"POREMIND#{po_id}#{stage}"


def purchase_orders_in(state: str) -> str:
    """The gsi1 partition of the purchase orders in ``state`` (submitted ones by submission, approved by due date)."""
    return f"POSTATE#{state}"


BILLING_INDEX_PK = "BILLING"  # gsi1: every account the monthly run visits
OPEN_INVOICES_PK = "OPENINV"  # gsi1: credit invoices not yet paid, by due date


def billing_registration(account_id: str) -> Key:
    """The account's entry in the billing registry (``gsi1pk = BILLING``, ``gsi1sk = account id``)."""
    return account_pk(account_id), "BILLING"


def open_invoice(account_id: str, number: str) -> Key:
    """A credit invoice with money due (``gsi1pk = OPENINV``, ``gsi1sk = <due date>#<account>#<number>``); removed
    once it is paid."""
    return account_pk(account_id), f"OPENINV#{number}"


# --------------------------------------------------------------------------- card expiry notices and auto top-up


def card_expiry_notice(account_id: str, payment_method_id: str, month: str) -> Key:
    """A card's expiry (``month``: its ``YYYY-MM``) announced to the customer (must not exist: told once)."""
    return account_pk(account_id), f"CARDEXPNOTICE#{payment_method_id}#{month}"


def auto_top_up(account_id: str) -> Key:
    """The account's auto top-up setting: enabled, the level (``below``) and the amount to charge."""
    return account_pk(account_id), "AUTOTOPUP"


def auto_top_up_crossing(account_id: str, seq: int) -> Key:
    """One crossing below the auto top-up level, named by the account's ``seq`` after the movement that crossed:
    written (must not exist) before the card is charged, then its outcome (charged once, declined once)."""
    return account_pk(account_id), f"AUTOTOPUPX#{seq:012d}"


# --------------------------------------------------------------------------- subscriptions: inventory charged later


def subscription_charge(account_id: str, subscription_id: str, charge_id: str) -> Key:
    """Inventory added mid-term whose prorated charge waits for the monthly billing run (``inventory_billing`` =
    ``next_invoice``): state pending -> charged (with its order id)."""
    return account_pk(account_id), f"SUBCHARGE#{subscription_id}#{charge_id}"


def subscription_charges_prefix(account_id: str) -> Key:
    return account_pk(account_id), "SUBCHARGE#"


# --------------------------------------------------------------------------- statement exports (statements/)


def export(account_id: str, export_id: str) -> Key:
    """An export job of the account's summary or transactions (its state and progress; the file is archived)."""
    return account_pk(account_id), f"EXPORT#{export_id}"


# --------------------------------------------------------------------------- reconciliation (docs/RECONCILIATION.md)


def touched(day: str, account_id: str) -> Key:
    """An account whose money state (balance, held, entries) changed on ``day`` (``YYYY-MM-DD``): the sparse index
    the nightly reconciliation reads instead of scanning every account. Written once per account and day by the
    ledger sequencer; expires after a while (``expires_at``)."""
    return f"TOUCHED#{day}", account_pk(account_id)


def touched_prefix(day: str) -> Key:
    """Every account touched on ``day``: one partition."""
    return f"TOUCHED#{day}", "ACCOUNT#"


def reconciliation_run(day: str, run_id: str) -> Key:
    """The summary of one reconciliation run of ``day`` (``run_id``: when it ran, so the newest sorts last)."""
    return f"RECON#{day}", f"RUN#{run_id}"


def reconciliation_runs_prefix(day: str) -> Key:
    return f"RECON#{day}", "RUN#"


def reconciliation_finding(day: str, run_id: str, index: int) -> Key:
    """One mismatch a run found (the operators' report item); never changes money."""
    return f"RECON#{day}", f"FINDING#{run_id}#{index:06d}"


def reconciliation_findings_prefix(day: str, run_id: str) -> Key:
    return f"RECON#{day}", f"FINDING#{run_id}#"


def billing_runs_prefix(account_id: str) -> Key:
    """The monthly runs of an account that completed (``keys.billing_run``)."""
    return account_pk(account_id), "BILLRUN#"


# --------------------------------------------------------------------------- lists: an account's orders, the directory

_NEWEST_FIRST = str.maketrans("0123456789", "9876543210")


def orders_index(account_id: str) -> str:
    """The gsi1 partition of an account's orders (written on every order since the orders list existed)."""
    return f"ACCOUNT#{account_id}#ORDERS"


def orders_index_sk(created_at: str, order_id: str = "") -> str:
    """An order's place in its account's orders index: newest first in ascending ``gsi1sk`` order. The digits of the
    fixed-width ``created_at`` are inverted (9 - d), so a later time sorts before an earlier one; with an empty
    ``order_id`` it is the bound just before every order made at ``created_at``."""
    return f"{created_at.translate(_NEWEST_FIRST)}#{order_id}"


def order_index_keys(account_id: str, created_at: str, order_id: str) -> dict[str, str]:
    """The gsi1 attributes an order item carries so that ``GET /accounts/{id}/orders`` pages it by date."""
    return {"gsi1pk": orders_index(account_id), "gsi1sk": orders_index_sk(created_at, order_id)}


DIRECTORY_PK = "DIRECTORY"  # gsi1: every account's directory entry, gsi1sk = <company name, folded>#<account id>


def directory_entry(account_id: str) -> Key:
    """The account's entry in the directory of all accounts (``gsi1pk = DIRECTORY``), which ``GET /accounts`` reads."""
    return account_pk(account_id), "DIRECTORY"


def partner_directory_entry(account_id: str) -> Key:
    """The account's entry in its partner's directory (``gsi1pk = partner_directory(partner)``); it carries no gsi1
    keys while no partner manages the account."""
    return account_pk(account_id), "DIRPARTNER"


def partner_directory(partner_id: str) -> str:
    """The gsi1 partition of the accounts ``partner_id`` manages."""
    return f"DIRECTORY#PARTNER#{partner_id}"


def directory_sk(name: str, account_id: str) -> str:
    """Directory order: the company name case-folded, then the account id (unique)."""
    return f"{name.casefold()}#{account_id}"


def order_refund_claim(account_id: str, order_id: str, number: int) -> Key:
    """Who is making refund ``number`` of an order paid by card or gift card (its Idempotency-Key), written before the
    provider is asked: two refunds never ask the provider for the same order at once."""
    return account_pk(account_id), f"ORDERREFUND#{order_id}#{number:04d}"


# --------------------------------------------------------------------------- ordering systems (machine access)


def ordering_client(client_id: str) -> Key:
    """The binding of an ordering system's OAuth client (client credentials) to one account or partner."""
    return f"CLIENT#{client_id}", "BINDING"
