"""The amount needed to close a loan, as the desk quotes it, and the borrower's foreclosure
statement (a one-page PDF).

The quote is loancore's (`loancore.foreclosure`), the one the server's acceptance rule and
posting use, computed from this computer's copy of the loan less the payments entered here
and not yet answered, so the figure told to the borrower is the one that closes the loan.
The product's foreclosure charge comes with the loan when the server sends it (0 otherwise,
DOMAIN.md's default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from desktop.cache.models import CachedLoan
from desktop.viewmodels.dues import LoanDues, date_or_none
from desktop.viewmodels.receipt import FONT, FONT_BOLD, register_fonts
from loancore.dates import format_date
from loancore.foreclosure import ForeclosureQuote, ForeclosureTerms, foreclosure_quote
from loancore.money import format_rupees

FORECLOSURE_CHARGE_ID = "foreclosure"
"""The provisional split's name for the product's foreclosure charge, which the server levies
only when the payment posts."""


def desk_quote(loan: CachedLoan, dues: LoanDues, on: date) -> ForeclosureQuote:
    """The amount needed to close `loan` on `on`, given its dues as the desk knows them."""
    data = loan.data
    rows = data.get("installments") or ()
    outstanding = {row.seq: row.interest_outstanding for row in dues.installments}
    paid_ahead = 0
    due_dates: list[date] = []
    for row in rows:
        due = date.fromisoformat(str(row["due_date"]))
        due_dates.append(due)
        if due > on:
            paid_ahead += int(row.get("interest_due") or 0) - outstanding.get(int(row["seq"]), 0)
    terms = ForeclosureTerms(
        annual_rate_bp=int(data.get("annual_rate_bp") or 0),
        disbursement_date=date_or_none(data.get("disbursement_date")) or on,
        due_dates=tuple(due_dates),
        interest_paid_ahead=max(0, paid_ahead),
        foreclosure_charge=int(data.get("foreclosure_charge_paise") or 0),
        floating_rate=bool(data.get("floating_rate")),
        individual=True,
    )
    return foreclosure_quote(dues.installments, dues.charges, on, terms)


@dataclass(frozen=True, slots=True)
class ForeclosureStatement:
    """What the borrower is handed: the quote, part by part, for one loan on one date."""

    account_no: str
    borrower_name: str
    quote: ForeclosureQuote
    annual_rate_bp: int
    issued_on: date
    lender_name: str = "LoanDesk Finance"

    def lines(self) -> list[tuple[str, int]]:
        q = self.quote
        return [
            ("Instalments due and unpaid", q.dues),
            ("Principal not yet due", q.principal_not_yet_due),
            (
                f"Interest on it from {format_date(q.accrued_from)} to {format_date(q.on)} "
                f"at {self.annual_rate_bp / 100:.2f}% a year",
                q.accrued_interest,
            ),
            ("Unpaid charges", q.charges),
            ("Foreclosure charge", q.foreclosure_charge),
        ]


def write_foreclosure_statement(statement: ForeclosureStatement, path: Path) -> Path:
    """Write the statement to `path` (its folder is created) and return it."""
    register_fonts()
    path.parent.mkdir(parents=True, exist_ok=True)
    width, height = A4
    margin = 20 * mm
    canvas = Canvas(
        str(path), pagesize=A4, pageCompression=1, initialFontName=FONT, initialFontSize=10
    )
    canvas.setTitle(f"Foreclosure statement {statement.account_no}")
    canvas.setAuthor(statement.lender_name)
    y = height - margin
    canvas.setFont(FONT_BOLD, 16)
    canvas.drawString(margin, y, statement.lender_name)
    canvas.setFont(FONT, 11)
    canvas.drawRightString(width - margin, y, "FORECLOSURE STATEMENT")
    y -= 8 * mm
    canvas.line(margin, y, width - margin, y)
    y -= 9 * mm
    for label, value in (
        ("Loan account", statement.account_no),
        ("Borrower", statement.borrower_name),
        ("Amount to close the loan on", format_date(statement.quote.on)),
        ("Issued on", format_date(statement.issued_on)),
    ):
        canvas.setFont(FONT, 10)
        canvas.drawString(margin, y, label)
        canvas.setFont(FONT_BOLD, 10)
        canvas.drawString(margin + 60 * mm, y, value)
        y -= 6.5 * mm
    y -= 5 * mm
    for label, amount in statement.lines():
        canvas.setFont(FONT, 10)
        canvas.drawString(margin, y, label)
        canvas.drawRightString(width - margin, y, format_rupees(amount))
        y -= 7 * mm
    canvas.line(margin, y + 3 * mm, width - margin, y + 3 * mm)
    y -= 3 * mm
    canvas.setFont(FONT_BOLD, 12)
    canvas.drawString(margin, y, "Amount needed to close")
    canvas.drawRightString(width - margin, y, format_rupees(statement.quote.total))
    y -= 12 * mm
    canvas.setFont(FONT, 9)
    for note in (
        "Valid for payment on the date above only: interest accrues day by day.",
        "Interest not yet accrued is never charged. Anything paid above this amount is",
        "refundable to the borrower. Pay it marked as a foreclosure to close the loan.",
    ):
        canvas.drawString(margin, y, note)
        y -= 5 * mm
    canvas.setFont(FONT, 7)
    canvas.drawRightString(width - margin, margin, "Computer-generated statement")
    canvas.showPage()
    canvas.save()
    return path
