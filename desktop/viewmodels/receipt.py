"""The payment receipt handed to the borrower: a one-page PDF, with the amount in figures and in
words the way Indian receipts and cheques write it ("Rupees Twelve Lakh Thirty-Four Thousand
...  Only"), since the words are what a borrower checks and what makes an altered figure
obvious.

The font is DejaVu Sans, embedded: reportlab's built-in Helvetica has no ₹ and would print a
blank box where the rupee sign belongs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from desktop.settings import LenderDetails
from loancore.acceptance import PaymentMode, reference_label
from loancore.dates import IST, format_date
from loancore.money import format_rupees
from loancore.words import amount_in_words

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
SYSTEM_FONTS = Path("/usr/share/fonts/truetype/dejavu")
PROVISIONAL_NOTE = "Provisional until synced with the head office"


@dataclass(frozen=True, slots=True)
class SplitLine:
    text: str
    amount_paise: int


@dataclass(frozen=True, slots=True)
class Balance:
    """What the loan owes once the payment is booked: principal not yet repaid, and what is
    overdue on the payment date (installments due by then, and charges)."""

    principal_paise: int
    overdue_paise: int


@dataclass(frozen=True, slots=True)
class SavedPayment:
    """A payment written to the cache and the outbox; what the receipt prints."""

    payment_id: str
    loan_id: str
    account_no: str
    borrower_name: str
    amount_paise: int
    mode: PaymentMode
    reference: str
    payment_date: date
    collector_name: str
    split: tuple[SplitLine, ...]
    pending: bool = True
    received_at: datetime | None = None
    branch: str = ""
    receipt_no: str = ""
    balance: Balance | None = None
    lender: LenderDetails = field(default_factory=LenderDetails)
    to_close_paise: int | None = None
    """The amount needed to close the loan on the payment date once this payment is booked
    (loancore's foreclosure quote; 0 when this payment closes it)."""


def short_number(payment_id: str) -> str:
    """The short form of a payment id people read out and write down: its last twelve hex
    digits, which in a UUIDv7 are random, so two ids minted in the same millisecond differ."""
    tail = payment_id.replace("-", "")[-12:].upper()
    return f"{tail[:4]}-{tail[4:8]}-{tail[8:]}"


def receipt_number(mode: PaymentMode, reference: str, payment_id: str) -> str:
    """The one number a receipt carries. For cash it is the number the collector wrote in the
    receipt book and handed over (the payment's reference), so it never changes, even when a
    refused payment is entered again. For other modes the bank's reference is printed under
    its own name (UTR, cheque number ...) and the receipt is numbered by the payment it was
    first issued for."""
    if mode is PaymentMode.CASH and reference:
        return reference
    return short_number(payment_id)


@dataclass(frozen=True, slots=True)
class Receipt:
    receipt_no: str
    payment_id: str
    account_no: str
    borrower_name: str
    amount_paise: int
    mode: PaymentMode
    reference: str
    payment_date: date
    collector_name: str
    pending: bool
    received_at: datetime | None = None
    branch: str = ""
    split: tuple[SplitLine, ...] = ()
    balance: Balance | None = None
    lender: LenderDetails = field(default_factory=LenderDetails)
    to_close_paise: int | None = None
    """The amount needed to close the loan on the payment date after this payment (the
    foreclosure quote), printed so the borrower knows where they stand; None to leave out."""

    @property
    def number(self) -> str:
        return self.receipt_no

    @property
    def lender_name(self) -> str:
        return self.lender.name

    @property
    def reference_row(self) -> tuple[str, str] | None:
        """The bank's reference under its own name; for cash the reference is the receipt
        number itself, printed once."""
        if self.mode is PaymentMode.CASH:
            return None
        return _title(reference_label(self.mode)), self.reference

    @property
    def received_text(self) -> str:
        """The time of payment as the borrower lived it (IST), or its date alone when the
        instant is unknown."""
        if self.received_at is None:
            return format_date(self.payment_date)
        at = self.received_at.astimezone(IST)
        text = f"{format_date(at.date())} {at:%H:%M} IST"
        if at.date() != self.payment_date:
            text += f" (payment dated {format_date(self.payment_date)})"
        return text


def receipt_of(saved: SavedPayment) -> Receipt:
    return Receipt(
        receipt_no=saved.receipt_no
        or receipt_number(saved.mode, saved.reference, saved.payment_id),
        payment_id=saved.payment_id,
        account_no=saved.account_no,
        borrower_name=saved.borrower_name,
        amount_paise=saved.amount_paise,
        mode=saved.mode,
        reference=saved.reference,
        payment_date=saved.payment_date,
        collector_name=saved.collector_name,
        pending=saved.pending,
        received_at=saved.received_at,
        branch=saved.branch,
        split=saved.split,
        balance=saved.balance,
        lender=saved.lender,
        to_close_paise=saved.to_close_paise,
    )


def _font_dirs() -> list[Path]:
    bundled = getattr(sys, "_MEIPASS", None)
    roots = [Path(bundled)] if bundled else []
    roots.append(Path(__file__).resolve().parents[2])
    return [root / "resources" / "fonts" for root in roots] + [SYSTEM_FONTS]


def _font_file(name: str) -> Path:
    for folder in _font_dirs():
        candidate = folder / f"{name}.ttf"
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"{name}.ttf is missing from resources/fonts; without it the receipt cannot print ₹"
    )


def register_fonts() -> None:
    """Register the receipt's fonts once per process; the bold face falls back to the
    regular one rather than fail a receipt over emphasis."""
    registered = pdfmetrics.getRegisteredFontNames()
    if FONT not in registered:
        pdfmetrics.registerFont(TTFont(FONT, str(_font_file(FONT))))
    if FONT_BOLD not in registered:
        try:
            bold = _font_file(FONT_BOLD)
        except FileNotFoundError:
            bold = _font_file(FONT)
        pdfmetrics.registerFont(TTFont(FONT_BOLD, str(bold)))


def _wrap(text: str, width: float, size: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and pdfmetrics.stringWidth(trial, FONT, size) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines


MAX_SPLIT_LINES = 8
"""Split lines printed one by one; beyond them the rest is summed on one line, so the receipt
stays one A5 page."""


def write_receipt(receipt: Receipt, path: Path) -> Path:
    """Write the receipt to `path` (its folder is created) and return it."""
    register_fonts()
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = A5
    margin = 12 * mm
    column = margin + 40 * mm
    canvas = Canvas(
        str(path), pagesize=A5, pageCompression=1, initialFontName=FONT, initialFontSize=10
    )
    canvas.setTitle(f"Receipt {receipt.number}")
    canvas.setAuthor(receipt.lender_name)
    y = height - margin
    canvas.setFont(FONT_BOLD, 14)
    canvas.drawString(margin, y, receipt.lender_name)
    canvas.setFont(FONT, 10)
    canvas.drawRightString(width - margin, y, "PAYMENT RECEIPT")
    canvas.setFont(FONT, 7.5)
    for line in receipt.lender.registration:
        for part in _wrap(line, width - 2 * margin, 7.5):
            y -= 3.6 * mm
            canvas.drawString(margin, y, part)
    y -= 4 * mm
    canvas.line(margin, y, width - margin, y)
    y -= 7 * mm

    def row(label: str, value: str, *, size: float = 10, gap: float = 6 * mm) -> None:
        nonlocal y
        canvas.setFont(FONT, size)
        canvas.drawString(margin, y, label)
        canvas.setFont(FONT_BOLD, size)
        canvas.drawString(column, y, value)
        y -= gap

    row("Receipt no.", receipt.number)
    row("Received on", receipt.received_text)
    if receipt.branch:
        row("Branch", receipt.branch)
    row("Loan account", receipt.account_no)
    row("Received from", receipt.borrower_name)
    row("Mode", _title(receipt.mode.label))
    if receipt.reference_row is not None:
        row(*receipt.reference_row)
    row("Collected by", receipt.collector_name)
    y -= 2 * mm
    canvas.setFont(FONT, 10)
    canvas.drawString(margin, y, "Amount")
    canvas.setFont(FONT_BOLD, 18)
    canvas.drawString(column, y - 1 * mm, format_rupees(receipt.amount_paise))
    y -= 9 * mm
    canvas.setFont(FONT, 9)
    for line in _wrap(amount_in_words(receipt.amount_paise), width - 2 * margin, 9):
        canvas.drawString(margin, y, line)
        y -= 4.5 * mm
    y = _split_table(canvas, receipt, y - 2 * mm, margin, width - margin)
    if receipt.balance is not None:
        y -= 1 * mm
        row("Principal outstanding", format_rupees(receipt.balance.principal_paise), size=9)
        row("Overdue after payment", format_rupees(receipt.balance.overdue_paise), size=9)
    if receipt.to_close_paise is not None:
        canvas.setFont(FONT, 9)
        for part in _wrap(
            f"Needed to close the loan on {format_date(receipt.payment_date)} after this "
            f"payment: {format_rupees(receipt.to_close_paise)}",
            width - 2 * margin,
            9,
        ):
            canvas.drawString(margin, y, part)
            y -= 4.5 * mm
    if receipt.pending:
        y -= 2 * mm
        canvas.setFont(FONT_BOLD, 10)
        canvas.setFillColorRGB(0.62, 0.11, 0.11)
        canvas.drawString(margin, y, PROVISIONAL_NOTE.upper())
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont(FONT, 7.5)
        y -= 4 * mm
        canvas.drawString(
            margin,
            y,
            "The head office confirms every payment, its split and the balance; keep this "
            "receipt until then.",
        )
    canvas.setFont(FONT, 7)
    canvas.drawString(margin, margin - 4 * mm, f"Payment id {receipt.payment_id}")
    canvas.drawRightString(width - margin, margin - 4 * mm, "Computer-generated receipt")
    canvas.showPage()
    canvas.save()
    return path


def _split_table(canvas: Canvas, receipt: Receipt, y: float, left: float, right: float) -> float:
    """How the payment was applied, line by line with its amount; returns the next line's y."""
    if not receipt.split:
        return y
    canvas.setFont(FONT_BOLD, 9)
    canvas.drawString(left, y, "Applied to")
    y -= 4.5 * mm
    shown = receipt.split[:MAX_SPLIT_LINES]
    rest = receipt.split[MAX_SPLIT_LINES:]
    canvas.setFont(FONT, 8.5)
    for line in shown:
        canvas.drawString(left + 3 * mm, y, line.text)
        canvas.drawRightString(right, y, format_rupees(line.amount_paise))
        y -= 4.2 * mm
    if rest:
        canvas.drawString(left + 3 * mm, y, f"{len(rest)} more lines")
        canvas.drawRightString(right, y, format_rupees(sum(line.amount_paise for line in rest)))
        y -= 4.2 * mm
    return float(y - 1 * mm)


def _title(label: str) -> str:
    return label[0].upper() + label[1:]
