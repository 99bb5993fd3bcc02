"""Handing e-invoices over for Peppol delivery (platform/peppol.py): the folder adapter, and who is handed over."""

from __future__ import annotations

from pathlib import Path

import pytest

from account_credit.billing.document import Document, Kind, Line, Party
from account_credit.billing.files import Renderers, store_files
from account_credit.billing.issuing import issue
from account_credit.billing.tax import Category, Treatment
from account_credit.platform.archive import ArchiveConflict, FolderArchive
from account_credit.platform.peppol import FolderDelivery, delivery
from account_credit.platform.store.memory import MemoryStore


def test_the_folder_adapter_hands_each_document_over_once(tmp_path: Path) -> None:
    outbox = FolderDelivery(tmp_path)
    assert outbox.hand_over("CI-2026-000001", "9950:SK2020273893", "9930:DE136695976", b"<Invoice/>") is True
    assert outbox.hand_over("CI-2026-000001", "9950:SK2020273893", "9930:DE136695976", b"<Invoice/>") is False
    with pytest.raises(ArchiveConflict):
        outbox.hand_over("CI-2026-000001", "9950:SK2020273893", "9930:DE136695976", b"<Invoice>other</Invoice>")
    assert (tmp_path / "9930_DE136695976" / "CI-2026-000001.xml").read_bytes() == b"<Invoice/>"


def test_outside_lambda_the_outbox_is_a_folder_in_the_state_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PEPPOL_OUTBOX_DIR", raising=False)
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.setenv("LOCAL_STATE_DIR", str(tmp_path))
    got = delivery()
    assert isinstance(got, FolderDelivery) and got.files.root == tmp_path / "peppol-outbox"
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "DocumentsFunction")
    assert delivery() is None  # on AWS: until an access point adapter is configured


def _draft(buyer_endpoint: str | None) -> Document:
    return Document(
        number="",
        kind=Kind.CREDIT_INVOICE,
        account_id="acc_1",
        currency="EUR",
        language="en",
        issue_date="2026-12-01",
        seller=Party(name="Seller", country="SK", vat_id="SK2020273893", endpoint="9950:SK2020273893"),
        buyer=Party(name="Buyer", country="DE", endpoint=buyer_endpoint),
        treatment=Treatment(Category.STANDARD, 2300),
        lines=(Line(description="OV SSL", quantity=1, net=10_000, vat=2_300),),
        prepaid=0,
    )


@pytest.mark.parametrize(("endpoint", "handed"), [("9930:DE136695976", True), (None, False)])
def test_only_documents_between_two_peppol_addresses_are_handed_over(
    tmp_path: Path, endpoint: str | None, handed: bool
) -> None:
    store = MemoryStore()
    doc, _ = issue(store, _draft(endpoint), f"test#{endpoint}")
    render = Renderers(ubl=lambda d: f"<Invoice>{d.number}</Invoice>".encode(), pdf=lambda d: b"%PDF-1.7")
    outbox = FolderDelivery(tmp_path / "outbox")
    assert store_files(store, FolderArchive(tmp_path / "archive"), render, "acc_1", doc.number, outbox) is True
    assert store_files(store, FolderArchive(tmp_path / "archive"), render, "acc_1", doc.number, outbox) is False
    assert [p.name for p in (tmp_path / "outbox").rglob("*.xml")] == ([f"{doc.number}.xml"] if handed else [])
