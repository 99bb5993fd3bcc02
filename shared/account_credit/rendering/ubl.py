"""A billing ``Document`` as a UBL 2.1 e-invoice for Peppol BIS Billing 3.0 (EN 16931): ``to_ubl(doc) -> bytes``.

Invoices (tax documents 386; statements, credit and card invoices 380) are ``Invoice`` documents, credit notes
(381) ``CreditNote`` documents referring to the invoice they correct. A payment request (a proforma, 325) that goes
out as an e-invoice, e.g. for a purchase order, is an ``Invoice`` of type 386 (``Document.einvoice_type_code``:
Peppol BIS 3.0 has no proforma) asking for the whole amount. The XML is a function of the document alone;
the standard library writes it (UTF-8, with an XML declaration), every element in the order the UBL 2.1 schema
sequences it.

How the model maps (BT numbers are EN 16931's):

* amounts are the document's integer minor units written with the currency's exponent (EUR 12345 -> ``123.45``,
  JPY 500 -> ``500``), always with ``currencyID``; EN 16931 allows at most two decimals, so a currency with three
  (KWD, BHD, ...) yields a document the rules refuse (BR-DEC-*);
* one VAT breakdown: the document has one treatment (category S, AE or O), so one ``TaxSubtotal`` whose taxable
  amount is the net total and whose VAT is the sum of the lines' VAT (the VAT was rounded once per order upstream,
  BR-CO-17); category O states no rate (BR-O-05), AE and O carry the exemption code and reason (BR-AE-10, BR-O-10);
* VAT identifiers: under category O neither the seller's nor the buyer's VAT id may appear (BR-O-02), so both are
  left out; under S and AE each party's VAT id is stated where it has one (AE needs both, BR-AE-02);
* each party's electronic address (BT-34/BT-49, mandatory in Peppol) is ``Party.endpoint`` ("<EAS>:<id>"); a party
  without one falls back to the EAS code ``EM`` with its e-mail address. EN 16931 lists ``EM``; Peppol BIS 3.0.19
  does not (PEPPOL-EN16931-CL008), so such a document is valid EN 16931 but not deliverable over Peppol;
* the buyer's purchase order number (BT-13, ``Document.order_reference``) is ``cac:OrderReference/cbc:ID``; the
  buyer reference (BT-10) stays the account id;
* the buyer's country (BR-11) is ``buyer.country``, else the seller's: a buyer with no country is a consumer in the
  seller's country (``billing.tax.decide``);
* each line's price is the line net for a base quantity of the line quantity, so quantity x price / base quantity
  is the line net exactly (PEPPOL-EN16931-R120) and no price needs a fraction of a cent; the order a line comes
  from is its line note (BT-127);
* the document's notes are one ``cbc:Note`` (Peppol allows one document-level note, PEPPOL-EN16931-R002);
* payment: ``PaymentMeansCode`` is ``doc.means``; a credit transfer (30) names the seller's IBAN and BIC and the
  payment reference (BT-83); a credit note's due date is ``PaymentMeans/PaymentDueDate`` (the UBL 2.1 credit note
  has no ``cbc:DueDate``).

``to_ubl`` raises ``ValueError`` where no valid e-invoice can be written from the document: a party with neither an
electronic address nor an e-mail, a seller without a country, a credit transfer without the seller's IBAN, a line
whose quantity is not positive.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from account_credit.billing.document import MEANS_TRANSFER, Document, Kind, Line, Party
from account_credit.billing.tax import Category, Treatment
from account_credit.kernel.money import exponent

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"

INVOICE_NS = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
CREDIT_NOTE_NS = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
CAC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CBC_NS = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"

UNIT_CODE = "C62"  # UN/ECE Rec 20 "one": a count of units
EMAIL_SCHEME = "EM"  # CEF EAS: electronic mail (EN 16931's code list; not Peppol's)
VAT_SCHEME = "VAT"

# A line's note naming the order it comes from, in the document's language (BT-127).
_ORDER_NOTE = {"en": "Order {id}", "sk": "Objednávka {id}"}
_ORDER_DATE = {"en": " of {date}", "sk": " zo dňa {date}"}


def to_ubl(doc: Document) -> bytes:
    """The document as a UBL 2.1 ``Invoice`` or ``CreditNote`` (Peppol BIS Billing 3.0), UTF-8 encoded."""
    credit_note = doc.kind is Kind.CREDIT_NOTE
    namespace = CREDIT_NOTE_NS if credit_note else INVOICE_NS
    # Names are written with their prefixes and the root declares the namespaces, so the document has the usual
    # form (default namespace on the root, cac: and cbc: below) without touching ElementTree's global prefix map.
    root = ET.Element(
        "CreditNote" if credit_note else "Invoice", {"xmlns": namespace, "xmlns:cac": CAC_NS, "xmlns:cbc": CBC_NS}
    )
    if doc.seller.country is None:
        raise ValueError(f"{doc.number}: the seller has no country; an e-invoice states it (BR-09)")
    totals = doc.totals

    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", doc.number)
    _cbc(root, "IssueDate", doc.issue_date)
    if not credit_note:
        _cbc(root, "DueDate", doc.due_date)
    _cbc(root, "CreditNoteTypeCode" if credit_note else "InvoiceTypeCode", doc.einvoice_type_code)
    _cbc(root, "Note", "\n".join(note for note in doc.notes if note))
    _cbc(root, "DocumentCurrencyCode", doc.currency)
    _cbc(root, "BuyerReference", doc.account_id)
    if doc.period_start or doc.period_end:
        period = _cac(root, "InvoicePeriod")
        _cbc(period, "StartDate", doc.period_start)
        _cbc(period, "EndDate", doc.period_end)
    if doc.order_reference and doc.order_reference.strip():
        _cbc(_cac(root, "OrderReference"), "ID", doc.order_reference.strip())
    if doc.corrects:
        reference = _cac(_cac(root, "BillingReference"), "InvoiceDocumentReference")
        _cbc(reference, "ID", doc.corrects)
        _cbc(reference, "IssueDate", doc.corrects_date)

    with_vat_ids = doc.treatment.category is not Category.NOT_SUBJECT
    _party(root, "AccountingSupplierParty", doc.seller, doc.seller.country, with_vat_ids, contact=doc.seller.email)
    _party(root, "AccountingCustomerParty", doc.buyer, doc.buyer.country or doc.seller.country, with_vat_ids)

    _payment_means(root, doc, credit_note)

    tax_total = _cac(root, "TaxTotal")
    _amount(tax_total, "TaxAmount", totals.vat, doc.currency)
    subtotal = _cac(tax_total, "TaxSubtotal")
    _amount(subtotal, "TaxableAmount", totals.net, doc.currency)
    _amount(subtotal, "TaxAmount", totals.vat, doc.currency)
    _tax_category(subtotal, "TaxCategory", doc.treatment, with_exemption=True)

    monetary = _cac(root, "LegalMonetaryTotal")
    _amount(monetary, "LineExtensionAmount", totals.net, doc.currency)
    _amount(monetary, "TaxExclusiveAmount", totals.net, doc.currency)
    _amount(monetary, "TaxInclusiveAmount", totals.gross, doc.currency)
    if totals.prepaid:
        _amount(monetary, "PrepaidAmount", totals.prepaid, doc.currency)
    _amount(monetary, "PayableAmount", totals.payable, doc.currency)

    for number, line in enumerate(doc.lines, start=1):
        _line(root, number, line, doc, credit_note)

    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document


def amount_text(minor: int, currency: str) -> str:
    """Minor units as the decimal text of the currency's exponent: EUR 12345 -> "123.45", JPY 500 -> "500"."""
    digits = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**digits)
    return f"{sign}{whole}.{fraction:0{digits}d}" if digits else f"{sign}{whole}"


def endpoint(party: Party) -> tuple[str, str]:
    """(EAS scheme, identifier) of a party's electronic address: ``Party.endpoint``, else ``EM`` and its e-mail."""
    if party.endpoint:
        scheme, _, identifier = party.endpoint.partition(":")
        if scheme.strip() and identifier.strip():
            return scheme.strip(), identifier.strip()
        raise ValueError(f"{party.name}: electronic address {party.endpoint!r} is not '<EAS scheme>:<identifier>'")
    if party.email:
        return EMAIL_SCHEME, party.email
    raise ValueError(f"{party.name}: neither an electronic address nor an e-mail; an e-invoice needs one")


# --------------------------------------------------------------------------- parts


def _party(
    parent: ET.Element, role: str, party: Party, country: str, with_vat_id: bool, contact: str | None = None
) -> None:
    element = _cac(_cac(parent, role), "Party")
    scheme, identifier = endpoint(party)
    _cbc(element, "EndpointID", identifier, schemeID=scheme)
    address = _cac(element, "PostalAddress")
    _cbc(address, "StreetName", party.street)
    _cbc(address, "CityName", party.city)
    _cbc(address, "PostalZone", party.postal_code)
    _cbc(_cac(address, "Country"), "IdentificationCode", country)
    if with_vat_id and party.vat_id:
        tax_scheme = _cac(element, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", party.vat_id)
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", VAT_SCHEME)
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    _cbc(legal, "CompanyID", party.company_id)
    if contact:
        _cbc(_cac(element, "Contact"), "ElectronicMail", contact)


def _payment_means(parent: ET.Element, doc: Document, credit_note: bool) -> None:
    means = _cac(parent, "PaymentMeans")
    _cbc(means, "PaymentMeansCode", doc.means)
    if credit_note:
        _cbc(means, "PaymentDueDate", doc.due_date)
    _cbc(means, "PaymentID", doc.payment_reference)
    if doc.means == MEANS_TRANSFER:
        if not doc.seller.iban:
            raise ValueError(f"{doc.number}: a credit transfer needs the seller's IBAN (BR-61)")
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", "".join(doc.seller.iban.split()))
        if doc.seller.bic:
            _cbc(_cac(account, "FinancialInstitutionBranch"), "ID", doc.seller.bic.strip())


def _line(parent: ET.Element, number: int, line: Line, doc: Document, credit_note: bool) -> None:
    if line.quantity <= 0:
        raise ValueError(f"{doc.number} line {number}: quantity {line.quantity} is not positive")
    element = _cac(parent, "CreditNoteLine" if credit_note else "InvoiceLine")
    _cbc(element, "ID", str(number))
    _cbc(element, "Note", _order_note(line, doc.language))
    _cbc(element, "CreditedQuantity" if credit_note else "InvoicedQuantity", str(line.quantity), unitCode=UNIT_CODE)
    _amount(element, "LineExtensionAmount", line.net, doc.currency)
    item = _cac(element, "Item")
    _cbc(item, "Name", line.description)
    if line.product_code:
        _cbc(_cac(item, "SellersItemIdentification"), "ID", line.product_code)
    _tax_category(item, "ClassifiedTaxCategory", doc.treatment, with_exemption=False)
    price = _cac(element, "Price")
    _amount(price, "PriceAmount", line.net, doc.currency)
    _cbc(price, "BaseQuantity", str(line.quantity), unitCode=UNIT_CODE)


def _order_note(line: Line, language: str) -> str | None:
    if not line.order_id:
        return None
    note = _ORDER_NOTE.get(language, _ORDER_NOTE["en"]).format(id=line.order_id)
    if line.order_date:
        note += _ORDER_DATE.get(language, _ORDER_DATE["en"]).format(date=line.order_date)
    return note


def _tax_category(parent: ET.Element, name: str, treatment: Treatment, with_exemption: bool) -> None:
    category = _cac(parent, name)
    _cbc(category, "ID", str(treatment.category))
    if treatment.category is not Category.NOT_SUBJECT:  # O states no rate (BR-O-05)
        _cbc(category, "Percent", treatment.percent)
    if with_exemption and treatment.category is not Category.STANDARD:  # S has no exemption (BR-S-10)
        _cbc(category, "TaxExemptionReasonCode", treatment.exemption_code)
        _cbc(category, "TaxExemptionReason", treatment.exemption_reason)
    _cbc(_cac(category, "TaxScheme"), "ID", VAT_SCHEME)


# --------------------------------------------------------------------------- elements


def _cac(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, f"cac:{name}")


def _cbc(parent: ET.Element, name: str, text: str | None, **attributes: str) -> None:
    """A basic component, left out when it has no value (Peppol refuses empty elements, PEPPOL-EN16931-R008)."""
    if text is None or not text.strip():
        return
    element = ET.SubElement(parent, f"cbc:{name}", attributes)
    element.text = text


def _amount(parent: ET.Element, name: str, minor: int, currency: str) -> None:
    _cbc(parent, name, amount_text(minor, currency), currencyID=currency)
