"""A billing document as a printable A4 PDF (fpdf2, DejaVu Sans embedded): ``to_pdf(doc) -> bytes``.

What it prints, in ``doc.language`` (en or sk, anything else English): the title of the kind and the number; the
dates (issue, due, period), the payment reference, the top-up and, for a credit note, the document it corrects;
seller and buyer (name, address, country, company id, tax and VAT ids); the lines (description, order and its
date, quantity, net, VAT, gross), whose heading row repeats on every page; the VAT summary of the document's one
treatment with its legal note for reverse charge or no VAT; the totals (net, VAT, gross, already paid, due); how
to pay when something is due (never on a credit note); the notes. Words come from ``rendering.texts``; amounts,
dates, rates and country names from ``rendering.locale`` (Babel).

The output is a function of the document: the PDF's creation date is the issue date and fpdf2 derives the file id
from the content, so the same document renders the same bytes.

Fonts (``fonts_dir``): ``$DOCUMENT_FONTS_DIR`` if set, else ``/opt/fonts`` (the documents layer on Lambda), else
``documents/fonts`` of this repository. fpdf2 embeds only the glyphs a document uses.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from fpdf import FPDF, FontFace
from fpdf.enums import TableBordersLayout, XPos, YPos

from account_credit.billing.document import Document, Kind, Party
from account_credit.rendering import locale, texts

FONT = "DejaVuSans"
FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
LAMBDA_FONTS = Path("/opt/fonts")
REPO_FONTS = Path(__file__).resolve().parents[3] / "documents" / "fonts"

WIDTH = 180.0  # A4 less 15 mm margins
MARGIN = 15.0
GREY = (95, 95, 95)
RULE = (170, 170, 170)
FILL = (236, 236, 236)
# Lines table: description, order (id and date), quantity, net, VAT, gross.
LINE_COLUMNS = (57.0, 30.0, 14.0, 26.0, 26.0, 27.0)
LINE_ALIGN = ("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT")


def fonts_dir() -> Path:
    """Where the TrueType fonts are: ``$DOCUMENT_FONTS_DIR``, else ``/opt/fonts`` if present, else the repo's."""
    configured = os.environ.get("DOCUMENT_FONTS_DIR")
    if configured:
        return Path(configured)
    if LAMBDA_FONTS.is_dir():
        return LAMBDA_FONTS
    return REPO_FONTS


def to_pdf(doc: Document) -> bytes:
    """The document as PDF bytes."""
    return _Renderer(doc).render()


class _Pdf(FPDF):
    """A4 pages with a running head (title and number, from page 2 on) and a page count at the foot."""

    def __init__(self, running_head: str, foot: str, page_label: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self._running_head = running_head
        self._foot = foot
        self._page_label = page_label

    def header(self) -> None:
        if self.page_no() > 1:
            self.set_y(8)
            self.set_font(FONT, "", 8)
            self.set_text_color(*GREY)
            self.cell(0, 4, self._running_head, align="R")
            self.set_text_color(0)
            self.set_y(MARGIN)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        self.cell(WIDTH / 2, 4, self._foot)
        pages = self._page_label.format(page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(WIDTH / 2, 4, pages, align="R")
        self.set_text_color(0)


class _Renderer:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.lang = locale.supported(doc.language)
        self.words = texts.labels(self.lang)
        self.title = texts.title(doc.kind, self.lang)
        pdf = _Pdf(f"{self.title} {doc.number}", doc.seller.name, self.words["page"])
        fonts = fonts_dir()
        for style, name in FONT_FILES.items():
            pdf.add_font(FONT, style, fonts / name)
        pdf.set_margins(MARGIN, MARGIN, MARGIN)
        pdf.set_auto_page_break(True, margin=18)
        day = datetime.fromisoformat(doc.issue_date).replace(tzinfo=UTC)
        pdf.set_creation_date(day)
        pdf.set_lang(self.lang)
        pdf.set_title(f"{self.title} {doc.number}")
        pdf.set_author(doc.seller.name)
        pdf.set_subject(self.title)
        pdf.set_creator("Account Credit")
        self.pdf = pdf

    # ------------------------------------------------------------------ helpers

    def money(self, amount: int) -> str:
        return locale.money(amount, self.doc.currency, self.lang)

    def date(self, iso_date: str) -> str:
        return locale.date(iso_date, self.lang)

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)

    def keep(self, height: float) -> None:
        """A new page unless ``height`` mm fit below (a heading is never left alone at the foot of a page)."""
        if self.pdf.get_y() + height > self.pdf.page_break_trigger:
            self.pdf.add_page()

    def heading(self, text: str, room: float = 20.0) -> None:
        """A section heading, on a new page unless ``room`` mm of what follows fit below it."""
        self.keep(room + 10)
        self.pdf.ln(4)
        self.font(10, bold=True)
        self.pdf.cell(0, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pairs(
        self, rows: Sequence[tuple[str, str]], x: float, widths: tuple[float, float], bold_last: bool = False
    ) -> None:
        """Label and value rows at ``x``, values right-aligned if ``bold_last`` (the totals), else left."""
        pdf = self.pdf
        for i, (key, value) in enumerate(rows):
            last = bold_last and i == len(rows) - 1
            if last:
                pdf.set_draw_color(*RULE)
                pdf.line(x, pdf.get_y() + 0.5, x + sum(widths), pdf.get_y() + 0.5)
                pdf.ln(1)
            pdf.set_x(x)
            self.font(9.5 if last else 9, bold=last)
            pdf.set_text_color(*(GREY if not bold_last else (0, 0, 0)))
            pdf.cell(widths[0], 5, key)
            pdf.set_text_color(0)
            self.font(9.5 if last else 9, bold=last or not bold_last)
            pdf.multi_cell(widths[1], 5, value, align="R" if bold_last else "L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    # ------------------------------------------------------------------ sections

    def render(self) -> bytes:
        self.pdf.add_page()
        self.head()
        self.parties()
        self.lines()
        self.vat_summary()
        self.totals()
        self.payment()
        self.notes()
        return bytes(self.pdf.output())

    def head(self) -> None:
        doc, pdf, w = self.doc, self.pdf, self.words
        self.font(17, bold=True)
        pdf.multi_cell(0, 8, self.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.font(11, bold=True)
        pdf.cell(0, 6, f"{w['number']}: {doc.number}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2)
        rows = [(w["issue_date"], self.date(doc.issue_date))]
        if doc.due_date:
            rows.append((w["due_date"], self.date(doc.due_date)))
        if doc.period_start and doc.period_end:
            rows.append((w["period"], f"{self.date(doc.period_start)} \N{EN DASH} {self.date(doc.period_end)}"))
        if doc.payment_reference:
            rows.append((w["payment_reference"], doc.payment_reference))
        if doc.deposit_id:
            rows.append((w["top_up"], doc.deposit_id))
        if doc.kind is Kind.CREDIT_NOTE and doc.corrects:
            rows.append((w["corrects"], self.corrects()))
        self.pairs(rows, MARGIN, (42.0, 138.0))

    def corrects(self) -> str:
        doc = self.doc
        return f"{doc.corrects} ({self.date(doc.corrects_date)})" if doc.corrects_date else str(doc.corrects)

    def party_lines(self, party: Party) -> list[str]:
        w = self.words
        out = [line for line in (party.street,) if line]
        place = " ".join(p for p in (party.postal_code, party.city) if p)
        if place:
            out.append(place)
        if party.country:
            out.append(locale.country(party.country, self.lang))
        if party.company_id:
            out.append(f"{w['company_id']}: {party.company_id}")
        vat_id = (party.vat_id or "").replace(" ", "")
        if vat_id.upper().startswith("SK") and (party.country or "SK").upper() == "SK":
            out.append(f"{w['tax_id']}: {vat_id[2:]}")  # the Slovak IČ DPH is "SK" and the DIČ
        if vat_id:
            out.append(f"{w['vat_id']}: {vat_id}")
        if party.email:
            out.append(f"{w['email']}: {party.email}")
        return out

    def parties(self) -> None:
        pdf = self.pdf
        pdf.ln(5)
        top = pdf.get_y()
        column = (WIDTH - 8) / 2
        bottoms = []
        for i, (key, party) in enumerate((("seller", self.doc.seller), ("buyer", self.doc.buyer))):
            x = MARGIN + i * (column + 8)
            pdf.set_xy(x, top)
            self.font(8, bold=True)
            pdf.set_text_color(*GREY)
            pdf.cell(column, 5, self.words[key].upper(), new_x=XPos.LEFT, new_y=YPos.NEXT)
            pdf.set_text_color(0)
            pdf.set_draw_color(*RULE)
            pdf.line(x, pdf.get_y(), x + column, pdf.get_y())
            pdf.ln(1)
            pdf.set_x(x)
            self.font(10.5, bold=True)
            pdf.multi_cell(column, 5.5, party.name, new_x=XPos.LEFT, new_y=YPos.NEXT)
            self.font(9)
            for line in self.party_lines(party):
                pdf.multi_cell(column, 4.6, line, new_x=XPos.LEFT, new_y=YPos.NEXT)
            bottoms.append(pdf.get_y())
        pdf.set_xy(MARGIN, max(bottoms))

    def table(self, widths: Sequence[float], align: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        pdf = self.pdf
        pdf.set_draw_color(*RULE)
        pdf.set_line_width(0.2)
        self.font(8.5)
        with pdf.table(
            col_widths=tuple(widths),
            width=sum(widths),
            align="LEFT",
            text_align=tuple(align),
            v_align="TOP",
            borders_layout=TableBordersLayout.HORIZONTAL_LINES,
            headings_style=FontFace(emphasis="BOLD", fill_color=FILL),
            line_height=4.4,
            padding=(1.2, 1.5),
            repeat_headings=1,
        ) as table:
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(value)

    def lines(self) -> None:
        doc, w = self.doc, self.words
        self.pdf.ln(6)
        rows = [[w["description"], w["order"], w["quantity"], w["net"], w["vat"], w["gross"]]]
        for line in doc.lines:
            order = "\n".join(p for p in (line.order_id, self.date(line.order_date) if line.order_date else None) if p)
            rows.append(
                [
                    line.description,
                    order,
                    str(line.quantity),
                    self.money(line.net),
                    self.money(line.vat),
                    self.money(line.gross),
                ]
            )
        self.table(LINE_COLUMNS, LINE_ALIGN, rows)

    def vat_summary(self) -> None:
        doc, w = self.doc, self.words
        totals = doc.totals
        self.heading(w["vat_summary"], room=30.0)
        rate = locale.percent(doc.treatment.rate_bp, self.lang)
        rows = [
            [w["vat_rate"], w["tax_base"], w["vat"], w["total"]],
            [
                texts.category_label(doc.treatment, rate, self.lang),
                self.money(totals.net),
                self.money(totals.vat),
                self.money(totals.gross),
            ],
        ]
        self.table((72.0, 36.0, 36.0, 36.0), ("LEFT", "RIGHT", "RIGHT", "RIGHT"), rows)
        note = texts.exemption_note(doc.treatment, self.lang)
        if note:
            self.pdf.ln(1.5)
            self.font(8.5)
            self.pdf.multi_cell(0, 4.4, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def totals(self) -> None:
        doc, w = self.doc, self.words
        totals = doc.totals
        self.keep(34.0)
        self.pdf.ln(4)
        rows = [
            (w["total_net"], self.money(totals.net)),
            (w["total_vat"], self.money(totals.vat)),
            (w["total"], self.money(totals.gross)),
            (texts.prepaid_label(doc.kind, self.lang), self.money(totals.prepaid)),
            (w["payable"], self.money(totals.payable)),
        ]
        self.pairs(rows, MARGIN + WIDTH - 95, (55.0, 40.0), bold_last=True)

    def payment(self) -> None:
        doc, w = self.doc, self.words
        totals = doc.totals
        if totals.payable <= 0 or doc.kind is Kind.CREDIT_NOTE:  # a credit note never asks the buyer to pay
            return
        seller = doc.seller
        self.heading(w["payment"], room=45.0)
        self.font(9)
        self.pdf.multi_cell(0, 4.6, w["payment_hint"], new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.pdf.ln(1)
        rows = [(w["beneficiary"], seller.name)]
        if seller.iban:
            rows.append((w["iban"], _grouped(seller.iban)))
        if seller.bic:
            rows.append((w["bic"], seller.bic))
        if seller.bank_name:
            rows.append((w["bank"], seller.bank_name))
        if doc.payment_reference:
            rows.append((w["payment_reference"], doc.payment_reference))
        rows.append((w["amount"], self.money(totals.payable)))
        if doc.due_date:
            rows.append((w["due_date"], self.date(doc.due_date)))
        self.pairs(rows, MARGIN, (42.0, 138.0))

    def notes(self) -> None:
        if not self.doc.notes:
            return
        self.heading(self.words["notes"], room=6.0)
        self.font(9)
        for note in self.doc.notes:
            self.pdf.multi_cell(0, 4.6, note, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _grouped(iban: str) -> str:
    """An IBAN in its printed form, groups of four: ``SK31 1200 0000 1987 4263 7541``."""
    compact = iban.replace(" ", "").upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))
