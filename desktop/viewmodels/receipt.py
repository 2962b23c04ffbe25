"""The payment receipt handed to the borrower: a one-page PDF, with the amount in figures and in
words the way Indian receipts and cheques write it ("Rupees Twelve Lakh Thirty-Four Thousand
...  Only"), since the words are what a borrower checks and what makes an altered figure
obvious.

The font is DejaVu Sans, embedded: reportlab's built-in Helvetica has no ₹ and would print a
blank box where the rupee sign belongs.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab.lib.pagesizes import A5
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from loancore.acceptance import PaymentMode, reference_label
from loancore.dates import format_date
from loancore.money import PAISE_PER_RUPEE, format_rupees

FONT = "DejaVuSans"
FONT_BOLD = "DejaVuSans-Bold"
SYSTEM_FONTS = Path("/usr/share/fonts/truetype/dejavu")
PROVISIONAL_NOTE = "Provisional until synced with the head office"

# fmt: off
_ONES = (
    "Zero", "One", "Two", "Three", "Four", "Five", "Six", "Seven", "Eight", "Nine", "Ten",
    "Eleven", "Twelve", "Thirteen", "Fourteen", "Fifteen", "Sixteen", "Seventeen", "Eighteen",
    "Nineteen",
)
_TENS = ("", "", "Twenty", "Thirty", "Forty", "Fifty", "Sixty", "Seventy", "Eighty", "Ninety")
# fmt: on
_CRORE = 10**7
_LAKH = 10**5
_THOUSAND = 10**3


@dataclass(frozen=True, slots=True)
class Receipt:
    payment_id: str
    account_no: str
    borrower_name: str
    amount_paise: int
    mode: PaymentMode
    reference: str
    payment_date: date
    collector_name: str
    pending: bool
    lender_name: str = "LoanDesk Finance"
    to_close_paise: int | None = None
    """The amount needed to close the loan on the payment date after this payment (the
    foreclosure quote), printed so the borrower knows where they stand; None to leave out."""

    @property
    def number(self) -> str:
        """The short form people read out and write down: the id's last twelve hex digits,
        which in a UUIDv7 are random, so two receipts minted in the same millisecond differ."""
        tail = self.payment_id.replace("-", "")[-12:].upper()
        return f"{tail[:4]}-{tail[4:8]}-{tail[8:]}"


def _below_hundred(n: int) -> str:
    if n < 20:
        return _ONES[n]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def _below_thousand(n: int) -> str:
    hundreds, rest = divmod(n, 100)
    parts = [f"{_ONES[hundreds]} Hundred"] if hundreds else []
    if rest:
        parts.append(_below_hundred(rest))
    return " ".join(parts)


def number_in_words(n: int) -> str:
    """A whole number in the Indian system: crore, lakh, thousand, hundred. Beyond 99 crore
    the crores are counted in the same words ("One Thousand Two Hundred Crore")."""
    if n < 0:
        raise ValueError("only amounts of zero or more are written in words")
    if n == 0:
        return "Zero"
    crores, rest = divmod(n, _CRORE)
    lakhs, rest = divmod(rest, _LAKH)
    thousands, rest = divmod(rest, _THOUSAND)
    parts = []
    if crores:
        parts.append(f"{number_in_words(crores)} Crore")
    if lakhs:
        parts.append(f"{_below_hundred(lakhs)} Lakh")
    if thousands:
        parts.append(f"{_below_hundred(thousands)} Thousand")
    if rest:
        parts.append(_below_thousand(rest))
    return " ".join(parts)


def amount_in_words(paise: int) -> str:
    """E.g. 12,34,567.89 -> "Rupees Twelve Lakh Thirty-Four Thousand Five Hundred Sixty-Seven
    and Eighty-Nine Paise Only"."""
    if isinstance(paise, bool) or not isinstance(paise, int) or paise < 0:
        raise ValueError(f"an amount in words needs paise as a whole number, not {paise!r}")
    rupees, cents = divmod(paise, PAISE_PER_RUPEE)
    if rupees and cents:
        return f"Rupees {number_in_words(rupees)} and {_below_hundred(cents)} Paise Only"
    if cents:
        return f"{_below_hundred(cents)} Paise Only"
    return f"Rupees {number_in_words(rupees)} Only"


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


def write_receipt(receipt: Receipt, path: Path) -> Path:
    """Write the receipt to `path` (its folder is created) and return it."""
    register_fonts()
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = A5
    margin = 14 * mm
    canvas = Canvas(
        str(path), pagesize=A5, pageCompression=1, initialFontName=FONT, initialFontSize=10
    )
    canvas.setTitle(f"Receipt {receipt.number}")
    canvas.setAuthor(receipt.lender_name)
    y = height - margin
    canvas.setFont(FONT_BOLD, 15)
    canvas.drawString(margin, y, receipt.lender_name)
    canvas.setFont(FONT, 10)
    canvas.drawRightString(width - margin, y, "PAYMENT RECEIPT")
    y -= 7 * mm
    canvas.line(margin, y, width - margin, y)
    y -= 8 * mm
    rows = [
        ("Receipt no.", receipt.number),
        ("Date", format_date(receipt.payment_date)),
        ("Loan account", receipt.account_no),
        ("Received from", receipt.borrower_name),
        ("Mode", _title(receipt.mode.label)),
        (_title(reference_label(receipt.mode)), receipt.reference),
        ("Collected by", receipt.collector_name),
    ]
    for label, value in rows:
        canvas.setFont(FONT, 10)
        canvas.drawString(margin, y, label)
        canvas.setFont(FONT_BOLD, 10)
        canvas.drawString(margin + 38 * mm, y, value)
        y -= 6.5 * mm
    y -= 3 * mm
    canvas.setFont(FONT, 10)
    canvas.drawString(margin, y, "Amount")
    canvas.setFont(FONT_BOLD, 20)
    canvas.drawString(margin + 38 * mm, y - 1 * mm, format_rupees(receipt.amount_paise))
    y -= 11 * mm
    canvas.setFont(FONT, 10)
    for line in _wrap(amount_in_words(receipt.amount_paise), width - 2 * margin, 10):
        canvas.drawString(margin, y, line)
        y -= 5 * mm
    if receipt.to_close_paise is not None:
        y -= 3 * mm
        canvas.setFont(FONT, 9)
        canvas.drawString(
            margin,
            y,
            f"Needed to close the loan on {format_date(receipt.payment_date)} after this "
            f"payment: {format_rupees(receipt.to_close_paise)}",
        )
        y -= 5 * mm
    if receipt.pending:
        y -= 6 * mm
        canvas.setFont(FONT_BOLD, 11)
        canvas.setFillColorRGB(0.62, 0.11, 0.11)
        canvas.drawString(margin, y, PROVISIONAL_NOTE.upper())
        canvas.setFillColorRGB(0, 0, 0)
        canvas.setFont(FONT, 8)
        y -= 5 * mm
        canvas.drawString(
            margin, y, "The head office confirms every payment; keep this receipt until then."
        )
    canvas.setFont(FONT, 7)
    canvas.drawString(margin, margin, f"Payment id {receipt.payment_id}")
    canvas.drawRightString(width - margin, margin, "Computer-generated receipt")
    canvas.showPage()
    canvas.save()
    return path


def _title(label: str) -> str:
    return label[0].upper() + label[1:]
