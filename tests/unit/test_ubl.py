"""The UBL e-invoice: every kind of document the product issues passes the official rules (EN 16931 and Peppol BIS
Billing 3.0 Schematron, OASIS UBL 2.1 XSD, all vendored in tests/einvoice), and says what the document says.

The rule sets are compiled once for the session (the ``official_rules`` fixture) and each rendered document is
validated once (``_fatal``, ``_warnings``), so the file's cost is a second or two per document.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import replace
from types import ModuleType

import pytest
from _documents import (
    DE_BUSINESS,
    SELLER,
    SK_BUSINESS,
    SK_CONSUMER,
    SMALL_SELLER,
    US_COMPANY,
    card_invoice,
    credit_invoice,
    credit_note,
    not_registered_sale,
    payment_request_for_order,
    statement_of_orders,
    statement_of_parts,
    tax_document,
)
from lxml import etree

from account_credit.billing.document import MEANS_TRANSFER, Document, Line
from account_credit.rendering.ubl import CAC_NS, CBC_NS, CUSTOMIZATION_ID, PROFILE_ID, amount_text, endpoint, to_ubl
from tests.einvoice import rules

NS = {"cac": CAC_NS, "cbc": CBC_NS}

# Every kind of document, every treatment, both seller regimes: each must pass both rule sets and the XSD.
CASES: dict[str, Callable[[], Document]] = {
    "tax document 386, S, Slovak business": lambda: tax_document(SK_BUSINESS),
    "tax document 386, AE, German business": lambda: tax_document(DE_BUSINESS),
    "tax document 386, O, US company": lambda: tax_document(US_COMPANY),
    "statement of several orders, prepaid": statement_of_orders,
    "statement of parts of orders": statement_of_parts,
    "credit invoice, due by transfer": credit_invoice,
    "card invoice, paid": card_invoice,
    "credit note 381": credit_note,
    "card invoice in JPY": lambda: card_invoice(currency="JPY", net=500),
    "O from a seller not VAT-registered": not_registered_sale,
    "payment request 386 for a purchase order": payment_request_for_order,
    "credit invoice with a purchase order": lambda: replace(credit_invoice(), order_reference="PO-2025-0815"),
}


@functools.cache
def rendered(case: str) -> bytes:
    return to_ubl(CASES[case]())


@functools.cache
def _findings(document: bytes) -> tuple[rules.Finding, ...]:
    """Both rule sets on one document, once per session however many tests ask."""
    return tuple(f for rule_set in rules.RULE_SETS for f in rules.findings(document, rule_set))


def _fatal(document: bytes) -> list[str]:
    return [str(f) for f in _findings(document) if f.fatal]


def _warnings(document: bytes) -> list[str]:
    return [str(f) for f in _findings(document) if not f.fatal]


@pytest.fixture(scope="session")
def official_rules() -> ModuleType:
    """The two Schematron rule sets and the two UBL 2.1 schemas, compiled once for the session."""
    for rule_set in rules.RULE_SETS:
        rules.validator(rule_set)
    for root in rules.XSD:
        rules.xsd(root)
    return rules


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document)


def text(element: etree._Element, path: str) -> str | None:
    found = element.find(path, NS)
    return None if found is None else found.text


def texts(element: etree._Element, path: str) -> list[str | None]:
    return [e.text for e in element.findall(path, NS)]


def eur(minor: int) -> str:
    return amount_text(minor, "EUR")


# --------------------------------------------------------------------------- the official rules


@pytest.mark.parametrize("case", CASES)
def test_the_document_passes_en16931_and_peppol_without_a_finding(case: str, official_rules: ModuleType) -> None:
    document = rendered(case)
    assert _fatal(document) == []
    assert _warnings(document) == []


@pytest.mark.parametrize("case", CASES)
def test_the_document_is_valid_ubl_21(case: str, official_rules: ModuleType) -> None:
    assert rules.xsd_errors(rendered(case)) == []


def test_a_tampered_line_amount_fails_br_co_10(official_rules: ModuleType) -> None:
    """Negative control: the validator runs and reads the amounts. A line changed after rendering no longer adds up
    to the document's line total (BR-CO-10) nor to quantity x price (PEPPOL-EN16931-R120)."""
    root = parse(rendered("statement of several orders, prepaid"))
    first = root.find("cac:InvoiceLine/cbc:LineExtensionAmount", NS)
    assert first is not None and first.text == "45.00"
    first.text = "46.00"
    tampered = etree.tostring(root, xml_declaration=True, encoding="utf-8")
    fatal = {f.rule for f in rules.fatal_findings(tampered)}
    assert {"BR-CO-10", "PEPPOL-EN16931-R120"} <= fatal
    assert rules.xsd_errors(tampered) == []  # still well-formed UBL: only the rules see it


def test_elements_out_of_the_schema_order_fail_the_xsd(official_rules: ModuleType) -> None:
    """Negative control for the XSD: DueDate after the type code is out of UBL 2.1's sequence."""
    root = parse(rendered("credit invoice, due by transfer"))
    due = root.find("cbc:DueDate", NS)
    type_code = root.find("cbc:InvoiceTypeCode", NS)
    assert due is not None and type_code is not None
    root.remove(due)
    type_code.addnext(due)
    errors = rules.xsd_errors(etree.tostring(root))
    assert errors and "DueDate" in errors[0]


def test_the_index_of_rule_contexts_finds_what_the_engine_finds(official_rules: ModuleType) -> None:
    """``rules.py`` matches rule contexts from an index instead of pyschematron's per-node search; on a document
    with many failures both report the same fired rules and the same failed assertions, at the same places."""
    root = parse(to_ubl(tax_document(US_COMPANY)))
    seller = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    amount = root.find("cac:InvoiceLine/cbc:LineExtensionAmount", NS)
    category = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID", NS)
    endpoint_id = root.find(".//cac:AccountingCustomerParty/cac:Party/cbc:EndpointID", NS)
    assert seller is not None and amount is not None and category is not None and endpoint_id is not None
    amount.text = "1.00"  # BR-CO-10, R120, BR-O-08
    category.text = "Q"  # BR-CL-*, BR-O-*
    endpoint_id.set("schemeID", "0088")  # PEPPOL-COMMON-R040 (GLN check digit, a u: helper)
    etree.SubElement(seller, f"{{{CBC_NS}}}WebsiteURI")  # an empty element (PEPPOL-EN16931-R008)
    broken = etree.ElementTree(etree.fromstring(etree.tostring(root)))

    def report(indexed: bool) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        svrl = rules.validator("PEPPOL", indexed).validate(broken).get_svrl().getroot()
        ns = "{http://purl.oclc.org/dsdl/svrl}"
        fired = sorted((e.get("context") or "", e.get("id") or "") for e in svrl.iter(ns + "fired-rule"))
        failed = sorted((e.get("id") or "", e.get("location") or "") for e in svrl.iter(ns + "failed-assert"))
        return fired, failed

    started = time.monotonic()
    indexed = report(True)
    indexed_seconds = time.monotonic() - started
    engine = report(False)
    assert indexed == engine
    assert {"PEPPOL-EN16931-R008", "PEPPOL-EN16931-R120", "PEPPOL-COMMON-R040"} <= {rule for rule, _ in indexed[1]}
    assert indexed_seconds < 30


# --------------------------------------------------------------------------- what the XML says


def test_the_header_identifies_peppol_bis_billing_3() -> None:
    root = parse(rendered("tax document 386, S, Slovak business"))
    assert etree.QName(root).namespace == "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
    assert text(root, "cbc:CustomizationID") == CUSTOMIZATION_ID
    assert text(root, "cbc:ProfileID") == PROFILE_ID
    assert text(root, "cbc:ID") == "TD-2025-000001"
    assert text(root, "cbc:IssueDate") == "2025-03-03"
    assert text(root, "cbc:InvoiceTypeCode") == "386"
    assert text(root, "cbc:DocumentCurrencyCode") == "EUR"
    assert text(root, "cbc:BuyerReference") == "acc-7f3a9c"
    assert root.find("cbc:DueDate", NS) is None


def test_the_bytes_are_utf8_with_a_declaration_and_keep_non_ascii_text() -> None:
    document = to_ubl(replace(card_invoice(), buyer=replace(SK_BUSINESS, name="Žltý Kôň, s.r.o.")))
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    assert "Žltý Kôň, s.r.o.".encode() in document
    root = parse(document)
    assert text(root, "cac:AccountingCustomerParty/cac:Party/cac:PartyLegalEntity/cbc:RegistrationName") == (
        "Žltý Kôň, s.r.o."
    )


def test_standard_rate_tax_document_breaks_out_the_vat_of_the_payment_received() -> None:
    doc = tax_document(SK_BUSINESS)
    root = parse(to_ubl(doc))
    assert doc.totals.as_dict() == {"net": 10000, "vat": 2300, "gross": 12300, "prepaid": 12300, "payable": 0}
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "23.00"
    subtotal = root.find("cac:TaxTotal/cac:TaxSubtotal", NS)
    assert subtotal is not None
    assert text(subtotal, "cbc:TaxableAmount") == "100.00"
    assert text(subtotal, "cbc:TaxAmount") == "23.00"
    assert text(subtotal, "cac:TaxCategory/cbc:ID") == "S"
    assert text(subtotal, "cac:TaxCategory/cbc:Percent") == "23"
    assert subtotal.find("cac:TaxCategory/cbc:TaxExemptionReasonCode", NS) is None
    totals = root.find("cac:LegalMonetaryTotal", NS)
    assert totals is not None
    assert [(etree.QName(e).localname, e.text, e.get("currencyID")) for e in totals] == [
        ("LineExtensionAmount", "100.00", "EUR"),
        ("TaxExclusiveAmount", "100.00", "EUR"),
        ("TaxInclusiveAmount", "123.00", "EUR"),
        ("PrepaidAmount", "123.00", "EUR"),
        ("PayableAmount", "0.00", "EUR"),
    ]
    assert texts(root, ".//cac:PartyTaxScheme/cbc:CompanyID") == ["SK2020273893", "SK2120046819"]
    means = root.find("cac:PaymentMeans", NS)
    assert means is not None
    assert text(means, "cbc:PaymentMeansCode") == MEANS_TRANSFER
    assert text(means, "cbc:PaymentID") == "VS2025000417"
    assert text(means, "cac:PayeeFinancialAccount/cbc:ID") == "SK3112000000198742637541"
    assert text(means, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID") == "TATRSKBX"


def test_the_parties_carry_their_peppol_addresses_names_and_ids() -> None:
    root = parse(rendered("tax document 386, S, Slovak business"))
    seller = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert seller is not None and buyer is not None
    seller_endpoint = seller.find("cbc:EndpointID", NS)
    assert seller_endpoint is not None
    assert (seller_endpoint.get("schemeID"), seller_endpoint.text) == ("9950", "SK2020273893")
    assert text(seller, "cac:PartyLegalEntity/cbc:RegistrationName") == SELLER.name
    assert text(seller, "cac:PartyLegalEntity/cbc:CompanyID") == "50123456"
    assert text(seller, "cac:PostalAddress/cbc:CityName") == "Bratislava"
    assert text(seller, "cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "SK"
    assert text(seller, "cac:Contact/cbc:ElectronicMail") == SELLER.email
    assert text(buyer, "cbc:EndpointID") == "SK2120046819"
    assert text(buyer, "cac:PartyLegalEntity/cbc:RegistrationName") == SK_BUSINESS.name
    assert buyer.find("cac:Contact", NS) is None  # the buyer's contact is not the seller's to publish


def test_reverse_charge_states_both_vat_ids_a_zero_rate_and_the_reason() -> None:
    doc = tax_document(DE_BUSINESS)
    root = parse(to_ubl(doc))
    assert doc.totals.vat == 0
    assert texts(root, ".//cac:PartyTaxScheme/cbc:CompanyID") == ["SK2020273893", "DE136695976"]
    category = root.find("cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory", NS)
    assert category is not None
    assert text(category, "cbc:ID") == "AE"
    assert text(category, "cbc:Percent") == "0"
    assert text(category, "cbc:TaxExemptionReasonCode") == "VATEX-EU-AE"
    assert doc.treatment.exemption_reason and text(category, "cbc:TaxExemptionReason") == doc.treatment.exemption_reason
    assert texts(root, ".//cac:ClassifiedTaxCategory/cbc:Percent") == ["0"]
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "0.00"
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "123.00"
    assert text(root, "cac:AccountingCustomerParty/cac:Party/cbc:EndpointID") == "DE136695976"


def test_not_subject_to_vat_states_no_vat_id_and_no_rate() -> None:
    root = parse(rendered("tax document 386, O, US company"))
    assert root.findall(".//cac:PartyTaxScheme", NS) == []  # BR-O-02: the seller's VAT id is left out too
    assert root.findall(".//cbc:Percent", NS) == []
    assert texts(root, ".//cac:TaxCategory/cbc:ID") + texts(root, ".//cac:ClassifiedTaxCategory/cbc:ID") == ["O", "O"]
    assert text(root, ".//cac:TaxCategory/cbc:TaxExemptionReasonCode") == "VATEX-EU-O"
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert buyer is not None
    assert text(buyer, "cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "US"
    assert text(buyer, "cac:PartyLegalEntity/cbc:CompanyID") == "12-3456789"


def test_a_statement_lists_each_order_and_deducts_the_prepayment() -> None:
    doc = statement_of_orders()
    root = parse(to_ubl(doc))
    lines = root.findall("cac:InvoiceLine", NS)
    assert [text(line, "cbc:ID") for line in lines] == ["1", "2", "3", "4"]
    assert [text(line, "cbc:Note") for line in lines] == [
        "Order ord-1001 of 2025-03-04",
        "Order ord-1002 of 2025-03-11",
        "Order ord-1003 of 2025-03-20",
        "Order ord-1004 of 2025-03-28",
    ]
    assert [text(line, "cbc:InvoicedQuantity") for line in lines] == ["3", "1", "1", "2"]
    assert [text(line, "cbc:LineExtensionAmount") for line in lines] == ["45.00", "129.99", "0.01", "79.90"]
    assert [text(line, "cac:Item/cbc:Name") for line in lines] == [line.description for line in doc.lines]
    assert [text(line, "cac:Item/cac:SellersItemIdentification/cbc:ID") for line in lines] == [
        "DV-SSL-1Y",
        "OV-SSL-2Y",
        None,
        "WC-SSL-1Y",
    ]
    # The price is the line net for a base quantity of the line quantity: quantity x price / base = net exactly.
    assert [(text(line, "cac:Price/cbc:PriceAmount"), text(line, "cac:Price/cbc:BaseQuantity")) for line in lines] == [
        ("45.00", "3"),
        ("129.99", "1"),
        ("0.01", "1"),
        ("79.90", "2"),
    ]
    assert text(root, "cac:InvoicePeriod/cbc:StartDate") == "2025-03-01"
    assert text(root, "cac:InvoicePeriod/cbc:EndDate") == "2025-03-31"
    assert text(root, "cac:PaymentMeans/cbc:PaymentMeansCode") == "97"
    assert root.find("cac:PaymentMeans/cac:PayeeFinancialAccount", NS) is None
    totals = doc.totals
    assert totals.prepaid == totals.gross and totals.payable == 0
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == eur(totals.vat) == eur(sum(line.vat for line in doc.lines))
    assert text(root, "cac:LegalMonetaryTotal/cbc:LineExtensionAmount") == eur(totals.net) == "254.90"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PrepaidAmount") == eur(totals.gross)
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "0.00"
    assert texts(root, "cbc:Note") == ["Paid from the prepayment of tax document TD-2025-000001."]


def test_a_statement_of_parts_of_orders_states_each_part() -> None:
    doc = statement_of_parts()
    assert [(line.net, line.vat) for line in doc.lines] == [(4065, 935), (1003, 231)]
    root = parse(to_ubl(doc))
    lines = root.findall("cac:InvoiceLine", NS)
    assert [text(line, "cbc:LineExtensionAmount") for line in lines] == ["40.65", "10.03"]
    assert [text(line, "cac:Price/cbc:PriceAmount") for line in lines] == ["40.65", "10.03"]
    assert [text(line, "cac:Price/cbc:BaseQuantity") for line in lines] == ["2", "1"]
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "11.66"
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "62.34"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "0.00"


def test_a_credit_invoice_is_due_by_transfer_quoting_its_reference() -> None:
    doc = credit_invoice()
    root = parse(to_ubl(doc))
    assert text(root, "cbc:InvoiceTypeCode") == "380"
    assert text(root, "cbc:DueDate") == "2025-04-15"
    assert root.find("cac:LegalMonetaryTotal/cbc:PrepaidAmount", NS) is None
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == eur(doc.totals.gross) == "324.72"
    assert text(root, "cac:PaymentMeans/cbc:PaymentMeansCode") == "30"
    assert text(root, "cac:PaymentMeans/cbc:PaymentID") == "VS2025000931"
    assert text(root, "cac:PaymentMeans/cac:PayeeFinancialAccount/cbc:ID") == SELLER.iban
    # Peppol allows one document-level note: the document's notes are one, a line each.
    assert texts(root, "cbc:Note") == ["Credit used in March 2025.\nPlease quote the payment reference."]


def test_a_payment_request_for_a_purchase_order_is_a_386_asking_for_the_whole_amount(
    official_rules: ModuleType,
) -> None:
    doc = payment_request_for_order()
    assert doc.type_code == "325" and doc.einvoice_type_code == "386"
    document = rendered("payment request 386 for a purchase order")
    assert _fatal(document) == []
    assert rules.xsd_errors(document) == []
    root = parse(document)
    assert etree.QName(root).localname == "Invoice"
    assert text(root, "cbc:ID") == "PF-2025-000001"
    assert text(root, "cbc:InvoiceTypeCode") == "386"
    assert text(root, "cbc:DueDate") == "2025-04-17"
    assert text(root, "cbc:BuyerReference") == doc.account_id
    assert text(root, "cac:OrderReference/cbc:ID") == "PO-4711"
    totals = doc.totals
    assert (totals.prepaid, totals.payable) == (0, totals.gross)
    assert root.find("cac:LegalMonetaryTotal/cbc:PrepaidAmount", NS) is None
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == eur(totals.gross) == "306.27"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == eur(totals.gross)
    assert text(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:ID") == "S"
    assert text(root, "cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory/cbc:Percent") == "23"
    means = root.find("cac:PaymentMeans", NS)
    assert means is not None
    assert text(means, "cbc:PaymentMeansCode") == MEANS_TRANSFER
    assert text(means, "cbc:PaymentID") == "VS2025001207"
    assert text(means, "cac:PayeeFinancialAccount/cbc:ID") == SELLER.iban
    assert text(means, "cac:PayeeFinancialAccount/cac:FinancialInstitutionBranch/cbc:ID") == SELLER.bic


def test_the_order_reference_follows_the_invoice_period_in_the_schema_order(official_rules: ModuleType) -> None:
    document = rendered("credit invoice with a purchase order")
    root = parse(document)
    assert text(root, "cac:OrderReference/cbc:ID") == "PO-2025-0815"
    assert text(root, "cbc:InvoiceTypeCode") == "380"
    names = [etree.QName(e).localname for e in root]
    assert names.index("InvoicePeriod") + 1 == names.index("OrderReference") < names.index("AccountingSupplierParty")
    assert rules.fatal_findings(document) == []
    assert rules.xsd_errors(document) == []


def test_a_credit_note_quotes_the_order_before_the_invoice_it_corrects(official_rules: ModuleType) -> None:
    document = to_ubl(replace(credit_note(), order_reference="PO-4711"))
    root = parse(document)
    assert text(root, "cac:OrderReference/cbc:ID") == "PO-4711"
    names = [etree.QName(e).localname for e in root]
    assert names.index("OrderReference") + 1 == names.index("BillingReference")
    assert _fatal(document) == []
    assert rules.xsd_errors(document) == []


def test_a_document_without_an_order_reference_has_none() -> None:
    assert parse(rendered("credit invoice, due by transfer")).find("cac:OrderReference", NS) is None
    assert parse(to_ubl(replace(credit_invoice(), order_reference=" "))).find("cac:OrderReference", NS) is None


def test_a_slovak_document_names_the_order_in_slovak() -> None:
    root = parse(to_ubl(replace(card_invoice(), language="sk")))
    assert texts(root, "cac:InvoiceLine/cbc:Note") == ["Objednávka ord-4001 zo dňa 2025-03-15"]


def test_a_card_invoice_is_paid_by_card() -> None:
    doc = card_invoice()
    root = parse(to_ubl(doc))
    assert text(root, "cac:PaymentMeans/cbc:PaymentMeansCode") == "48"
    assert root.find("cac:PaymentMeans/cac:PayeeFinancialAccount", NS) is None
    assert text(root, "cac:LegalMonetaryTotal/cbc:PrepaidAmount") == eur(doc.totals.gross) == "109.47"
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == "0.00"


def test_a_credit_note_refers_to_the_invoice_it_corrects() -> None:
    doc = credit_note()
    root = parse(to_ubl(doc))
    assert etree.QName(root).localname == "CreditNote"
    assert etree.QName(root).namespace == "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
    assert text(root, "cbc:CreditNoteTypeCode") == "381"
    assert root.find("cbc:InvoiceTypeCode", NS) is None
    assert text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID") == "IN-2025-000001"
    assert text(root, "cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate") == "2025-03-15"
    assert root.find("cbc:DueDate", NS) is None  # a UBL 2.1 credit note has none: the payment means carries it
    assert text(root, "cac:PaymentMeans/cbc:PaymentDueDate") == "2025-04-16"
    assert root.findall("cac:InvoiceLine", NS) == []
    lines = root.findall("cac:CreditNoteLine", NS)
    assert [text(line, "cbc:CreditedQuantity") for line in lines] == ["1"]
    assert [text(line, "cbc:LineExtensionAmount") for line in lines] == ["89.00"]
    assert text(root, "cac:LegalMonetaryTotal/cbc:PayableAmount") == eur(doc.totals.payable) == "109.47"


def test_a_jpy_document_has_no_decimals() -> None:
    root = parse(rendered("card invoice in JPY"))
    assert text(root, "cbc:DocumentCurrencyCode") == "JPY"
    assert text(root, "cac:InvoiceLine/cbc:LineExtensionAmount") == "500"
    assert text(root, "cac:TaxTotal/cbc:TaxAmount") == "115"
    assert text(root, "cac:LegalMonetaryTotal/cbc:TaxInclusiveAmount") == "615"
    assert {e.get("currencyID") for e in root.iter() if e.get("currencyID")} == {"JPY"}


def test_a_seller_not_vat_registered_states_no_vat_at_all() -> None:
    root = parse(rendered("O from a seller not VAT-registered"))
    seller = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    assert seller is not None
    assert text(seller, "cac:PartyLegalEntity/cbc:RegistrationName") == SMALL_SELLER.name
    assert text(seller, "cac:PartyLegalEntity/cbc:CompanyID") == SMALL_SELLER.company_id
    assert root.findall(".//cac:PartyTaxScheme", NS) == []  # nor the buyer's, though it has one (BR-O-02)
    assert root.findall(".//cbc:Percent", NS) == []
    assert text(root, ".//cac:TaxCategory/cbc:TaxExemptionReason") == (
        "Not subject to VAT: the seller is not VAT-registered"
    )


def test_a_consumer_without_a_peppol_address_gets_an_email_address_valid_in_en16931_only(
    official_rules: ModuleType,
) -> None:
    """A consumer has no Peppol participant id: the buyer's electronic address falls back to EAS ``EM`` with the
    account's e-mail. EN 16931 lists ``EM``; Peppol BIS 3.0.19 does not, so the one Peppol finding is the scheme
    (PEPPOL-EN16931-CL008): the document is a valid EN 16931 invoice, not one a Peppol access point carries."""
    document = to_ubl(card_invoice(SK_CONSUMER))
    root = parse(document)
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert buyer is not None
    address = buyer.find("cbc:EndpointID", NS)
    assert address is not None
    assert (address.get("schemeID"), address.text) == ("EM", "jana@example.sk")
    assert text(buyer, "cac:PostalAddress/cac:Country/cbc:IdentificationCode") == "SK"  # the seller's country
    assert buyer.find("cac:PartyTaxScheme", NS) is None
    assert buyer.find("cac:PartyLegalEntity/cbc:CompanyID", NS) is None
    assert rules.findings(document, "CEN") == []
    assert [f.rule for f in rules.findings(document, "PEPPOL")] == ["PEPPOL-EN16931-CL008"]
    assert rules.xsd_errors(document) == []


# --------------------------------------------------------------------------- the pieces and the refusals


@pytest.mark.parametrize(
    ("minor", "currency", "expected"),
    [
        (12345, "EUR", "123.45"),
        (5, "EUR", "0.05"),
        (0, "EUR", "0.00"),
        (-5, "EUR", "-0.05"),
        (500, "JPY", "500"),
        (0, "JPY", "0"),
        (1234, "KWD", "1.234"),
    ],
)
def test_amounts_are_written_with_the_currency_exponent(minor: int, currency: str, expected: str) -> None:
    assert amount_text(minor, currency) == expected


def test_the_xml_is_a_function_of_the_document() -> None:
    doc = statement_of_orders()
    assert to_ubl(doc) == to_ubl(Document.from_dict(doc.as_dict()))


def test_an_endpoint_is_split_at_its_first_colon() -> None:
    assert endpoint(SELLER) == ("9950", "SK2020273893")
    assert endpoint(replace(SELLER, endpoint=" 0088 : 5790000435968 ")) == ("0088", "5790000435968")
    assert endpoint(SK_CONSUMER) == ("EM", "jana@example.sk")


@pytest.mark.parametrize("given", ["SK2020273893", ":SK2020273893", "9950:"])
def test_an_endpoint_without_a_scheme_or_an_id_is_refused(given: str) -> None:
    with pytest.raises(ValueError, match="electronic address"):
        endpoint(replace(SELLER, endpoint=given))


def test_a_party_without_an_address_or_email_cannot_be_rendered() -> None:
    doc = card_invoice(SK_CONSUMER)
    with pytest.raises(ValueError, match="neither an electronic address nor an e-mail"):
        to_ubl(replace(doc, buyer=replace(SK_CONSUMER, email=None)))


def test_a_seller_without_a_country_cannot_be_rendered() -> None:
    doc = card_invoice()
    with pytest.raises(ValueError, match="no country"):
        to_ubl(replace(doc, seller=replace(SELLER, country=None)))


def test_a_credit_transfer_needs_the_sellers_iban() -> None:
    doc = credit_invoice()
    with pytest.raises(ValueError, match="IBAN"):
        to_ubl(replace(doc, seller=replace(SELLER, iban=None)))


def test_a_line_without_a_positive_quantity_cannot_be_priced() -> None:
    doc = card_invoice()
    with pytest.raises(ValueError, match="quantity 0"):
        to_ubl(replace(doc, lines=(Line(description="Nothing", quantity=0, net=0, vat=0),)))
