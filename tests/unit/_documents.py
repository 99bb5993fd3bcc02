"""Builders of real billing ``Document``s for the renderers' tests: parties, treatments decided by ``billing.tax``,
lines whose VAT is rounded the way issuing rounds it, and one document of each kind the product issues."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from account_credit.billing.document import MEANS_CARD, MEANS_CLEARING, MEANS_TRANSFER, Document, Kind, Line, Party
from account_credit.billing.tax import (
    NOT_REGISTERED,
    BuyerTax,
    SellerTax,
    Treatment,
    decide,
    share,
    split_gross,
    vat_on,
)

# --------------------------------------------------------------------------- parties

SELLER = Party(
    name="Certum Trust s.r.o.",
    street="Hlavna 12",
    city="Bratislava",
    postal_code="81101",
    country="SK",
    vat_id="SK2020273893",
    company_id="50123456",
    endpoint="9950:SK2020273893",
    email="billing@certum-trust.example",
    iban="SK3112000000198742637541",
    bic="TATRSKBX",
    bank_name="Tatra banka",
)
SELLER_TAX = SellerTax(registered=True, country="SK", rate_bp=2300)

# Not VAT-registered: no VAT id, everything it sells is outside VAT (category O); Peppol knows it by its tax id.
SMALL_SELLER = Party(
    name="Maly Predajca s.r.o.",
    street="Kratka 3",
    city="Zilina",
    postal_code="01001",
    country="SK",
    company_id="50999888",
    endpoint="9950:1020304050",
    email="faktury@maly-predajca.example",
    iban="SK3112000000198742637541",
    bic="TATRSKBX",
)
SMALL_SELLER_TAX = SellerTax(registered=False)

SK_BUSINESS = Party(
    name="Odberatel a.s.",
    street="Mlynska 5",
    city="Kosice",
    postal_code="04001",
    country="SK",
    vat_id="SK2120046819",
    company_id="36555444",
    endpoint="9950:SK2120046819",
    email="ap@odberatel.example",
)
DE_BUSINESS = Party(
    name="Beispiel GmbH",
    street="Friedrichstrasse 100",
    city="Berlin",
    postal_code="10117",
    country="DE",
    vat_id="DE136695976",
    company_id="HRB 123456",
    endpoint="9930:DE136695976",
    email="rechnung@beispiel.example",
)
US_COMPANY = Party(
    name="Example Inc.",
    street="350 Fifth Avenue",
    city="New York",
    postal_code="10118",
    country="US",
    company_id="12-3456789",
    endpoint="0060:123456789",  # D-U-N-S number
    email="payables@example-inc.example",
)
# A consumer: no VAT id, no company id, no Peppol address and no country (billing.tax: a consumer in the
# seller's country), only the e-mail address of the account.
SK_CONSUMER = Party(name="Jana Novakova", street="Dlha 7", city="Trnava", postal_code="91701", email="jana@example.sk")

BUYER_TAX = {
    SK_BUSINESS: BuyerTax(country="SK", vat_id=SK_BUSINESS.vat_id, company_id=SK_BUSINESS.company_id),
    DE_BUSINESS: BuyerTax(country="DE", vat_id=DE_BUSINESS.vat_id, company_id=DE_BUSINESS.company_id),
    US_COMPANY: BuyerTax(country="US", company_id=US_COMPANY.company_id),
    SK_CONSUMER: BuyerTax(),
}


def treatment_for(buyer: Party, seller: Party = SELLER) -> Treatment:
    seller_tax = SELLER_TAX if seller == SELLER else SMALL_SELLER_TAX
    return decide(seller_tax, BUYER_TAX[buyer]) if seller_tax.registered else NOT_REGISTERED


# --------------------------------------------------------------------------- lines


def order_line(
    treatment: Treatment,
    net: int,
    quantity: int = 1,
    description: str = "DV SSL certificate, 1 year",
    order_id: str | None = None,
    order_date: str | None = None,
    product_code: str | None = "DV-SSL-1Y",
) -> Line:
    """A whole order as a line: its VAT rounded once on its net total (``vat_on``)."""
    return Line(
        description=description,
        quantity=quantity,
        net=net,
        vat=vat_on(net, treatment),
        product_code=product_code,
        order_id=order_id,
        order_date=order_date,
    )


def part_of_order(line: Line, part_gross: int) -> Line:
    """The part of an order one top-up paid: its net and VAT shares of the order's gross (``share``)."""
    net, vat = share(part_gross, line.gross, line.net, line.vat)
    return replace(line, net=net, vat=vat)


def topup_line(treatment: Treatment, gross: int, received: str) -> Line:
    """A payment received (a tax document's single line): the gross split once into net and VAT (``split_gross``)."""
    net, vat = split_gross(gross, treatment)
    return Line(description=f"Prepayment received {received}", quantity=1, net=net, vat=vat)


# --------------------------------------------------------------------------- documents


def document(
    kind: Kind,
    buyer: Party,
    lines: list[Line],
    *,
    seller: Party = SELLER,
    number: str | None = None,
    prepaid: int | None = None,
    **fields: Any,
) -> Document:
    """A document as issuing builds it: paid in full unless it is a credit invoice, a credit note or a payment
    request."""
    gross = sum(line.gross for line in lines)
    if prepaid is None:
        prepaid = 0 if kind in (Kind.CREDIT_INVOICE, Kind.CREDIT_NOTE, Kind.PAYMENT_REQUEST) else gross
    prefix = {
        "tax_document": "TD",
        "statement": "ST",
        "credit_invoice": "CI",
        "card_invoice": "IN",
        "payment_request": "PF",
    }
    defaults: dict[str, Any] = {
        "number": number or f"{prefix.get(str(kind), 'CN')}-2025-000001",
        "kind": kind,
        "account_id": "acc-7f3a9c",
        "currency": "EUR",
        "language": "en",
        "issue_date": "2025-03-31",
        "seller": seller,
        "buyer": buyer,
        "treatment": treatment_for(buyer, seller),
        "lines": tuple(lines),
        "prepaid": prepaid,
        "issued_at": "2025-03-31T10:00:00Z",
    }
    return Document(**(defaults | fields))


def tax_document(buyer: Party, gross: int = 12300, seller: Party = SELLER, **fields: Any) -> Document:
    """386: a top-up of ``gross`` received by bank transfer, VAT broken out, nothing due."""
    treatment = treatment_for(buyer, seller)
    defaults: dict[str, Any] = {
        "issue_date": "2025-03-03",
        "means": MEANS_TRANSFER,
        "payment_reference": "VS2025000417",
        "deposit_id": "dep-01",
    }
    return document(
        Kind.TAX_DOCUMENT, buyer, [topup_line(treatment, gross, "2025-03-03")], seller=seller, **(defaults | fields)
    )


def statement_of_orders(buyer: Party = SK_BUSINESS) -> Document:
    """380 statement: the orders one top-up paid for in March, the prepayment deducted, nothing due."""
    t = treatment_for(buyer)
    lines = [
        order_line(t, 4500, quantity=3, order_id="ord-1001", order_date="2025-03-04"),
        order_line(t, 12999, description="OV SSL certificate, 2 years", product_code="OV-SSL-2Y",
                   order_id="ord-1002", order_date="2025-03-11"),
        order_line(t, 1, description="Code signing, rounding check", product_code=None,
                   order_id="ord-1003", order_date="2025-03-20"),
        order_line(t, 7990, quantity=2, description="Wildcard SSL certificate, 1 year", product_code="WC-SSL-1Y",
                   order_id="ord-1004", order_date="2025-03-28"),
    ]  # fmt: skip
    return document(
        Kind.STATEMENT,
        buyer,
        lines,
        means=MEANS_CLEARING,
        period_start="2025-03-01",
        period_end="2025-03-31",
        deposit_id="dep-01",
        notes=("Paid from the prepayment of tax document TD-2025-000001.",),
    )


def statement_of_parts() -> Document:
    """380 statement whose lines are the parts of two orders one top-up paid (the rest came from another top-up):
    the first part is net 40.65 + VAT 9.35 of an order of net 100.00 + VAT 23.00."""
    t = treatment_for(SK_BUSINESS)
    first = part_of_order(order_line(t, 10000, quantity=2, order_id="ord-2001", order_date="2025-03-30"), 5000)
    second = part_of_order(order_line(t, 3333, order_id="ord-2002", order_date="2025-03-31"), 1234)
    return document(
        Kind.STATEMENT,
        SK_BUSINESS,
        [first, second],
        number="ST-2025-000002",
        means=MEANS_CLEARING,
        period_start="2025-03-01",
        period_end="2025-03-31",
    )


def credit_invoice() -> Document:
    """380 credit invoice: credit used beyond the top-ups, due by bank transfer quoting the payment reference."""
    t = treatment_for(SK_BUSINESS)
    lines = [
        order_line(t, 24900, order_id="ord-3001", order_date="2025-03-12", description="EV SSL certificate, 1 year",
                   product_code="EV-SSL-1Y"),
        order_line(t, 1500, quantity=5, order_id="ord-3002", order_date="2025-03-25"),
    ]  # fmt: skip
    return document(
        Kind.CREDIT_INVOICE,
        SK_BUSINESS,
        lines,
        issue_date="2025-04-01",
        due_date="2025-04-15",
        period_start="2025-03-01",
        period_end="2025-03-31",
        means=MEANS_TRANSFER,
        payment_reference="VS2025000931",
        notes=("Credit used in March 2025.", "Please quote the payment reference."),
    )


def card_invoice(buyer: Party = SK_BUSINESS, currency: str = "EUR", net: int = 8900, **fields: Any) -> Document:
    """380 card invoice: one order paid by card when it was placed."""
    t = treatment_for(buyer)
    line = order_line(t, net, order_id="ord-4001", order_date="2025-03-15")
    defaults: dict[str, Any] = {"currency": currency, "means": MEANS_CARD, "issue_date": "2025-03-15"}
    return document(Kind.CARD_INVOICE, buyer, [line], **(defaults | fields))


def credit_note() -> Document:
    """381 credit note: one certificate of a card invoice refunded to the account's credit, due in 14 days."""
    t = treatment_for(SK_BUSINESS)
    line = order_line(t, 8900, order_id="ord-4001", order_date="2025-03-15", description="Refund: DV SSL certificate")
    return document(
        Kind.CREDIT_NOTE,
        SK_BUSINESS,
        [line],
        issue_date="2025-04-02",
        due_date="2025-04-16",
        corrects="IN-2025-000001",
        corrects_date="2025-03-15",
        means=MEANS_CLEARING,
        notes=("Certificate revoked at the customer's request.",),
    )


def not_registered_sale() -> Document:
    """A card invoice of a seller who is not VAT-registered: category O, no VAT ids at all."""
    t = treatment_for(SK_BUSINESS, SMALL_SELLER)
    line = order_line(t, 4900, order_id="ord-5001", order_date="2025-03-18")
    return document(Kind.CARD_INVOICE, SK_BUSINESS, [line], seller=SMALL_SELLER, means=MEANS_CARD)


def payment_request_for_order(order_reference: str = "PO-4711") -> Document:
    """A payment request (proforma) for the buyer's purchase order: one certificate, nothing paid yet, the whole
    amount due by bank transfer quoting the payment reference; as an e-invoice a 386 quoting the order (BT-13)."""
    t = treatment_for(SK_BUSINESS)
    line = order_line(t, 24900, description="EV SSL certificate, 1 year", product_code="EV-SSL-1Y")
    return document(
        Kind.PAYMENT_REQUEST,
        SK_BUSINESS,
        [line],
        issue_date="2025-04-03",
        due_date="2025-04-17",
        means=MEANS_TRANSFER,
        payment_reference="VS2025001207",
        order_reference=order_reference,
        notes=("Payment request for your purchase order.",),
    )
