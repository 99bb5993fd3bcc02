"""Pricing an order from the catalog, in the account's currency; the prices are frozen on the order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from account_credit.billing.parties import treatment_of
from account_credit.billing.tax import allocate, vat_on
from account_credit.catalog import service as catalog
from account_credit.kernel.domain import Account
from account_credit.kernel.errors import (
    InvalidInput,
)
from account_credit.kernel.money import Money
from account_credit.kernel.proration import prorate
from account_credit.orders.commands import PayOrder
from account_credit.platform.store import (
    Store,
)


@dataclass(frozen=True)
class Priced:
    """Catalog prices are net. ``total`` is what the order costs: net + VAT of the account's treatment, the VAT
    rounded once on the net total (EN 16931: per VAT category); each line shows its share of that VAT."""

    currency: str
    lines: list[dict[str, Any]]
    total: Money  # gross: what is debited or charged
    net: int = 0
    vat: int = 0
    tax: dict[str, Any] | None = None  # the treatment (billing/tax.py), frozen on the order


def price(store: Store, account: Account, req: PayOrder) -> Priced:
    """Price every line from the catalog in the account's currency (frozen on the order).

    With ``req.proration`` each line is charged for the rest of the term only: its net amount is
    ``prorate(unit x quantity, start, months, on).amount`` (one rounding per line, ``kernel.proration``), and the
    line records ``term_start``, ``term_end`` (exclusive), ``remaining_days``, ``term_days`` and ``full_amount``
    (the unprorated net). VAT is then computed once on the total, as for any order."""
    products = catalog.lookup(store, [line.product_code for line in req.lines])
    lines: list[dict[str, Any]] = []
    total = Money.zero(account.currency)
    for i, line in enumerate(req.lines):
        field = f"lines.{i}.product_code"
        product = products.get(line.product_code)
        if product is None:
            raise InvalidInput(f"there is no product {line.product_code!r} in the catalog", field=field)
        if not product.active:
            raise InvalidInput(f"product {line.product_code!r} is no longer sold", field=field)
        if account.currency not in product.prices:
            raise InvalidInput(f"product {line.product_code!r} has no price in {account.currency}", field=field)
        unit = Money(product.prices[account.currency], account.currency)
        amount = unit * line.quantity
        term: dict[str, Any] = {}
        if req.proration is not None:
            p = req.proration
            part = prorate(amount.amount, p.start, p.months, p.on)
            term = {
                "full_amount": amount.amount,
                "term_start": p.start.isoformat(),
                "term_end": part.term_end.isoformat(),
                "remaining_days": part.remaining_days,
                "term_days": part.term_days,
            }
            amount = Money(part.amount, account.currency)
        total += amount
        lines.append(
            {
                "product_code": product.code,
                "name": product.name,
                "term_months": product.term_months,
                "quantity": line.quantity,
                "unit_price": unit.amount,
                "amount": amount.amount,
                **term,
            }
        )
    treatment = treatment_of(account)
    vat = vat_on(total.amount, treatment)
    for priced_line, share in zip(lines, allocate(vat, [x["amount"] for x in lines]), strict=True):
        priced_line["vat"] = share
        priced_line["gross"] = priced_line["amount"] + share
    return Priced(
        currency=account.currency,
        lines=lines,
        total=Money(total.amount + vat, account.currency),
        net=total.amount,
        vat=vat,
        tax=treatment.as_dict(),
    )


def _describe(req: PayOrder, priced: Priced) -> str:
    items = ", ".join(f"{line['quantity']} x {line['name']}" for line in priced.lines)
    return f"Order {req.order_id}: {items}"[:500]
