"""Billing documents as PDFs (rendering.pdf): real documents in English and Slovak, read back.

Two readers: poppler's ``pdftotext`` and ``pdftoppm`` (the text a PDF viewer extracts, and page 1 drawn as an
image; those two tests are skipped where poppler-utils is not installed), and ``page_texts`` below, which reads
the strings each page draws straight from the PDF through its fonts' ToUnicode maps, so the layout checks run
everywhere.
"""

from __future__ import annotations

import importlib.metadata as md
import re
import shutil
import subprocess
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from PIL import Image

from account_credit.billing.document import MEANS_TRANSFER, SERIES, Document, Kind, Line, Party
from account_credit.billing.tax import BuyerTax, Category, SellerTax, Treatment, decide
from account_credit.rendering import locale, pdf, texts
from account_credit.rendering.pdf import to_pdf

NBSP = "\xa0"

# --------------------------------------------------------------------------- builders

SELLER = Party(
    name="Certifikáty Slovensko s.r.o.",
    street="Mlynské nivy 5",
    city="Bratislava",
    postal_code="821 09",
    country="SK",
    vat_id="SK2020273893",
    company_id="35763469",
    endpoint="9950:SK2020273893",
    email="fakturacia@example.sk",
    iban="SK3112000000198742637541",
    bic="TATRSKBX",
    bank_name="Tatra banka, a.s.",
)
BUYER = Party(
    name="Žltá ťava s.r.o.",
    street="Hlavná 68",
    city="Košice",
    postal_code="040 01",
    country="SK",
    vat_id="SK2120012345",
    company_id="47123456",
)
STANDARD = Treatment(Category.STANDARD, 2300)
# 1 003,66 + 230,84 = 1 234,50 and 50,00 + 11,50 = 61,50: the document is 1 296,00 gross.
LINES = (
    Line("Certifikát SSL pre *.žltá-ťava.sk, ročná obnova", 1, 100366, 23084, "SSL-W", "ord_7Q2", "2026-11-03"),
    Line("Kvalifikovaný podpisový certifikát (Ďurčo, Šťastná)", 2, 5000, 1150, "SIG-Q", "ord_8R4", "2026-11-17"),
)


def document(kind: Kind = Kind.CREDIT_INVOICE, language: str = "sk", **changes: object) -> Document:
    prepaid = 0 if kind in (Kind.CREDIT_INVOICE, Kind.CREDIT_NOTE) else sum(line.gross for line in LINES)
    doc = Document(
        number=f"{SERIES[kind]}-2026-000042",
        kind=kind,
        account_id="acc_01",
        currency="EUR",
        language=language,
        issue_date="2026-11-30",
        seller=SELLER,
        buyer=BUYER,
        treatment=STANDARD,
        lines=LINES,
        prepaid=prepaid,
        due_date="2026-12-14" if kind is Kind.CREDIT_INVOICE else None,
        period_start="2026-11-01",
        period_end="2026-11-30",
        payment_reference="1234567897" if kind is Kind.CREDIT_INVOICE else None,
        means=MEANS_TRANSFER,
        notes=("Ďakujeme, že platíte načas.",),
    )
    return replace(doc, **changes)  # type: ignore[arg-type]


def statement_of(n: int, language: str = "en") -> Document:
    lines = tuple(
        Line(f"Obnova certifikátu č. {i} pre ťava-{i}.sk", 1, 1000 + i, 230, "SSL", f"ord_{i:03d}", "2026-11-05")
        for i in range(n)
    )
    return document(Kind.STATEMENT, language, lines=lines, prepaid=sum(line.gross for line in lines))


# --------------------------------------------------------------------------- reading a PDF back


def page_texts(data: bytes) -> list[list[str]]:
    """The strings each page draws, in order: fpdf2 writes every string with ``Tj`` in 2-byte codes of a font
    (Identity-H) whose ToUnicode CMap names the characters; this decodes them through those maps."""
    objects = {int(n): body for n, body in re.findall(rb"(?m)^(\d+) 0 obj\s*(.*?)\bendobj", data, re.S)}

    def stream(ref: int) -> bytes:
        body = objects[ref]
        match = re.search(rb"stream\r?\n(.*?)\r?\nendstream", body, re.S)
        assert match
        return zlib.decompress(match[1]) if b"/FlateDecode" in body else match[1]

    def cmap(ref: int) -> dict[int, str]:
        text = stream(ref).decode("latin-1")
        assert "beginbfrange" not in text
        chars = "".join(re.findall(r"beginbfchar(.*?)endbfchar", text, re.S))
        return {int(c, 16): bytes.fromhex(u).decode("utf-16-be") for c, u in re.findall(r"<(\w+)>\s*<(\w+)>", chars)}

    fonts: dict[bytes, dict[int, str]] = {}
    for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", data):
        to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(ref)])
        assert to_unicode
        fonts[name] = cmap(int(to_unicode[1]))

    kids = re.search(rb"/Type /Pages", data) and re.search(rb"/Kids \[(.*?)\]", data, re.S)
    assert kids
    pages = []
    for page in re.findall(rb"(\d+) 0 R", kids[1]):
        contents = re.search(rb"/Contents (\d+) 0 R", objects[int(page)])
        assert contents
        font: dict[int, str] = {}
        strings = []
        for op in re.finditer(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", stream(int(contents[1])), re.S):
            if op[1]:
                font = fonts[op[1]]
            else:
                raw = re.sub(rb"\\([0-7]{1,3}|.)", _unescape, op[2], flags=re.S)
                strings.append("".join(font[int.from_bytes(raw[i : i + 2])] for i in range(0, len(raw), 2)))
        pages.append(strings)
    return pages


def _unescape(match: re.Match[bytes]) -> bytes:
    escaped = match[1]
    if escaped[:1].isdigit():
        return bytes([int(escaped, 8)])
    return {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}.get(escaped, escaped)


def flat(pages: list[list[str]]) -> str:
    """Every string of every page, one per line, no-break spaces as spaces."""
    return "\n".join(s for page in pages for s in page).replace(NBSP, " ")


def plain(text: str) -> str:
    return " ".join(text.replace(NBSP, " ").split())


def pdftotext(data: bytes, tmp_path: Path) -> str:
    source = tmp_path / "doc.pdf"
    source.write_bytes(data)
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(source), "-"], capture_output=True, check=True)
    return out.stdout.decode("utf-8")


needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")),
    reason="poppler-utils (pdftotext, pdftoppm) is not installed: apt-get install poppler-utils",
)

# --------------------------------------------------------------------------- what a viewer sees

EXPECTED = {
    "sk": [
        "Faktúra",
        "Číslo: CI-2026-000042",
        "DODÁVATEĽ",
        "ODBERATEĽ",
        "Žltá ťava s.r.o.",
        "040 01 Košice",
        "Slovensko",
        "IČO: 47123456",
        "DIČ: 2020273893",
        "IČ DPH: SK2020273893",
        "Dátum vystavenia 30. 11. 2026",
        "Dátum splatnosti 14. 12. 2026",
        "Obdobie 1. 11. 2026",
        "Variabilný symbol 1234567897",
        "Certifikát SSL pre *.žltá-ťava.sk, ročná obnova",
        "Kvalifikovaný podpisový certifikát (Ďurčo, Šťastná)",
        "Rekapitulácia DPH",
        "Základ dane",
        "23 %",
        "1 234,50 €",
        "1 003,66 €",
        "230,84 €",
        "Základ dane spolu",
        "1 053,66 €",
        "242,34 €",
        "K úhrade",
        "1 296,00 €",
        "Platobné údaje",
        "SK31 1200 0000 1987 4263 7541",
        "TATRSKBX",
        "Ďakujeme, že platíte načas.",
        "Strana 1 z 1",
    ],
    "en": [
        "Invoice",
        "Number: CI-2026-000042",
        "SELLER",
        "BUYER",
        "Žltá ťava s.r.o.",
        "040 01 Košice",
        "Slovakia",
        "Company ID: 47123456",
        "VAT ID: SK2120012345",
        "Issue date 30 Nov 2026",
        "Due date 14 Dec 2026",
        "Payment reference 1234567897",
        "Certifikát SSL pre *.žltá-ťava.sk, ročná obnova",
        "€1,234.50",
        "€1,003.66",
        "€230.84",
        "Total VAT",
        "€242.34",
        "Amount due",
        "€1,296.00",
        "Payment instructions",
        "SK31 1200 0000 1987 4263 7541",
        "BIC (SWIFT) TATRSKBX",
        "Page 1 of 1",
    ],
}


@needs_poppler
@pytest.mark.parametrize("language", ["sk", "en"])
def test_text_a_viewer_extracts(language: str, tmp_path: Path) -> None:
    doc = document(language=language)
    text = plain(pdftotext(to_pdf(doc), tmp_path))
    for expected in EXPECTED[language]:
        assert expected in text, expected
    # The formatted amounts are the locale's, Babel's exact text once no-break spaces read as spaces.
    gross = locale.money(123450, "EUR", language)
    assert plain(gross) in text
    if language == "sk":
        assert gross == f"1{NBSP}234,50{NBSP}€"


@needs_poppler
def test_page_one_renders_to_an_image(tmp_path: Path) -> None:
    (tmp_path / "doc.pdf").write_bytes(to_pdf(document()))
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(tmp_path / "doc.pdf"), str(tmp_path / "page")],
        check=True,
        capture_output=True,
    )
    [png] = list(tmp_path.glob("page*.png"))
    assert png.stat().st_size > 5_000
    with Image.open(png) as image:
        assert image.size in ((413, 585), (414, 585))  # A4 at 50 dpi
        grey = image.convert("L")
        lo, hi = grey.getextrema()
        assert (lo, hi) == (0, 255)  # black text on white paper
        dark = sum(grey.histogram()[:128])
        assert 0.005 < dark / (image.width * image.height) < 0.2


# --------------------------------------------------------------------------- layout, read from the PDF itself


def test_the_reader_sees_what_is_printed() -> None:
    text = flat(page_texts(to_pdf(document())))
    assert "Žltá ťava s.r.o." in text.splitlines()
    assert "1 234,50 €" in text.splitlines()
    assert "Faktúra" in text.splitlines()


def test_payment_instructions_only_when_something_is_due() -> None:
    due = document(Kind.CREDIT_INVOICE, "en")
    assert due.totals.payable == 129600
    text = flat(page_texts(to_pdf(due)))
    assert "Payment instructions" in text
    assert "SK31 1200 0000 1987 4263 7541" in text
    assert "Amount\n€1,296.00" in text

    paid = document(Kind.STATEMENT, "en")
    assert paid.totals.payable == 0
    text = flat(page_texts(to_pdf(paid)))
    assert "Payment instructions" not in text
    assert "SK31" not in text and "TATRSKBX" not in text
    assert "Paid by prepayment\n€1,296.00" in text
    assert "Amount due\n€0.00" in text

    card = flat(page_texts(to_pdf(document(Kind.CARD_INVOICE, "sk"))))
    assert "Faktúra (uhradená kartou)" in card
    assert "Uhradené kartou\n1 296,00 €" in card
    assert "Platobné údaje" not in card


def test_a_credit_note_names_the_document_it_corrects() -> None:
    note = document(
        Kind.CREDIT_NOTE, "sk", corrects="IN-2026-000017", corrects_date="2026-11-12", prepaid=129600, due_date=None
    )
    text = flat(page_texts(to_pdf(note)))
    assert "Dobropis" in text
    assert "Opravuje doklad\nIN-2026-000017 (12. 11. 2026)" in text
    english = flat(page_texts(to_pdf(replace(note, language="en", corrects_date=None))))
    assert "Credit note" in english
    assert "Corrects document\nIN-2026-000017" in english
    assert "IN-2026-000017" not in flat(page_texts(to_pdf(document(Kind.CREDIT_INVOICE))))
    # Whatever its totals say, a credit note asks nobody to pay it.
    unpaid = replace(note, prepaid=0)
    assert unpaid.totals.payable > 0
    assert "Platobné údaje" not in flat(page_texts(to_pdf(unpaid)))


def test_a_long_statement_runs_over_pages_with_the_table_heading_on_each() -> None:
    data = to_pdf(statement_of(40))
    pages = page_texts(data)
    assert len(pages) > 1
    assert data.count(b"/Type /Page\n") == len(pages)
    for number, strings in enumerate(pages, start=1):
        assert "Description" in strings, f"no table heading on page {number}"
        assert f"Page {number} of {len(pages)}" in "".join(strings)  # the page count is a string of its own
    listed = [s for page in pages for s in page if s.startswith("Obnova certifikátu")]
    assert len(listed) == 40
    assert "Statement of top-up usage ST-2026-000042" in pages[1]  # the running head from page 2 on


@needs_poppler
def test_a_long_statement_as_a_viewer_sees_it(tmp_path: Path) -> None:
    text = pdftotext(to_pdf(statement_of(40, "sk")), tmp_path)
    pages = [page for page in text.split("\f") if page.strip()]
    assert len(pages) > 1
    assert all("Popis" in page and "Objednávka" in page for page in pages)


def test_reverse_charge_and_no_vat_print_their_legal_note() -> None:
    reverse = decide(SellerTax(True, "SK", 2300), BuyerTax(country="CZ", vat_id="CZ12345678"))
    assert reverse.category is Category.REVERSE_CHARGE
    zero = tuple(replace(line, vat=0) for line in LINES)
    sk = flat(page_texts(to_pdf(document(treatment=reverse, lines=zero))))
    assert "Prenesenie daňovej povinnosti (0 %)" in sk
    assert "článok 196 smernice Rady 2006/112/ES" in sk
    en = flat(page_texts(to_pdf(document(language="en", treatment=reverse, lines=zero))))
    assert reverse.exemption_reason and reverse.exemption_reason in en

    outside = decide(SellerTax(True, "SK", 2300), BuyerTax(country="US"))
    sk = flat(page_texts(to_pdf(document(treatment=outside, lines=zero))))
    assert "Nepodlieha DPH v EÚ: služba poskytnutá zákazníkovi so sídlom mimo EÚ" in sk


def test_a_standard_rate_document_has_no_exemption_note() -> None:
    assert texts.exemption_note(STANDARD, "sk") is None
    assert texts.exemption_note(STANDARD, "en") is None


def test_the_tax_document_title() -> None:
    sk = flat(page_texts(to_pdf(document(Kind.TAX_DOCUMENT, "sk"))))
    assert "Daňový doklad k prijatej platbe" in sk
    assert "Prijatá platba\n1 296,00 €" in sk
    en = flat(page_texts(to_pdf(document(Kind.TAX_DOCUMENT, "en"))))
    assert "Tax document for a received payment" in en


def test_an_unsupported_language_renders_english() -> None:
    text = flat(page_texts(to_pdf(document(language="de"))))
    assert "Invoice" in text and "Amount due\n€1,296.00" in text
    assert "Faktúra" not in text


def test_the_same_document_renders_the_same_bytes() -> None:
    doc = document()
    first = to_pdf(doc)
    assert first.startswith(b"%PDF-") and first.rstrip().endswith(b"%%EOF")
    assert to_pdf(Document.from_dict(doc.as_dict())) == first
    assert b"/CreationDate (D:20261130" in first
    assert to_pdf(replace(doc, issue_date="2026-12-01")) != first


def test_fonts_come_from_the_environment_then_the_layer_then_the_repository(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCUMENT_FONTS_DIR", str(tmp_path / "mine"))
    assert pdf.fonts_dir() == tmp_path / "mine"
    monkeypatch.delenv("DOCUMENT_FONTS_DIR")
    monkeypatch.setattr(pdf, "LAMBDA_FONTS", tmp_path / "opt-fonts")
    assert pdf.fonts_dir() == pdf.REPO_FONTS
    (tmp_path / "opt-fonts").mkdir()
    assert pdf.fonts_dir() == tmp_path / "opt-fonts"


def test_the_repository_ships_the_fonts_and_their_licence() -> None:
    fonts = Path(__file__).resolve().parents[2] / "documents" / "fonts"
    assert fonts == pdf.REPO_FONTS
    for name in pdf.FONT_FILES.values():
        assert (fonts / name).read_bytes()[:4] == b"\x00\x01\x00\x00"  # TrueType
    assert "Bitstream Vera" in (fonts / "LICENSE").read_text()


def test_every_label_and_title_exists_in_both_languages() -> None:
    assert texts.labels("en").keys() == texts.labels("sk").keys()
    for kind in Kind:
        assert texts.title(kind, "en") and texts.title(kind, "sk")
    assert texts.title(Kind.STATEMENT, "sk") == "Vyúčtovanie zálohy"
    assert texts.label("prepaid_statement", "sk") == "Uhradené zálohou"
    assert texts.label("tax_id", "xx") == "Tax ID"


def test_the_documents_layer_pins_what_the_tests_render_with() -> None:
    """documents/requirements.txt: every package pinned to the version installed here, and every runtime
    dependency of each pinned too (so the layer installs exactly what the tests ran)."""
    path = Path(__file__).resolve().parents[2] / "documents" / "requirements.txt"
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    pins = {canonicalize_name(r.name): r for r in (Requirement(line) for line in lines if line)}
    assert {"fpdf2", "babel"} <= pins.keys()
    for name, req in pins.items():
        [spec] = req.specifier
        assert spec.operator == "==" and md.version(name) == spec.version, f"{req} is not what is installed"
        for child in map(Requirement, md.requires(name) or []):
            if child.marker is None or child.marker.evaluate({"extra": ""}):
                assert canonicalize_name(child.name) in pins, f"{name} needs {child.name}, not pinned"
