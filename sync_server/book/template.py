"""The Excel loan-book template: its sheets and columns, described once, written by code.

The file in resources/ is what this module writes (`python -m sync_server.book.template`
rewrites it; a test holds the two equal), so the template, its README sheet, the reader and
the export can never drift apart: all of them read the same `SHEETS`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from loancore.sheets import formula_like


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    MONEY = "money"
    RATE = "rate"
    COUNT = "count"
    FLAG = "flag"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    kind: Kind
    required: bool
    note: str
    limit: int = 120


@dataclass(frozen=True, slots=True)
class SheetSpec:
    name: str
    required: bool
    purpose: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


T, D, M, R, C, F = Kind.TEXT, Kind.DATE, Kind.MONEY, Kind.RATE, Kind.COUNT, Kind.FLAG

BRANCHES = SheetSpec(
    "branches",
    False,
    "Branches the loans sit in; a code not yet in LoanDesk is created with its name.",
    (
        Column("branch_code", "Branch code", T, True, "Short code, e.g. PUN01", 16),
        Column("branch_name", "Branch name", T, True, "As people call it, e.g. Pune Camp"),
    ),
)
PRODUCTS = SheetSpec(
    "products",
    False,
    "Loan products; a code not yet in LoanDesk is created with its allocation order.",
    (
        Column("product_code", "Product code", T, True, "e.g. PL", 32),
        Column("product_name", "Product name", T, True, "e.g. Personal loan"),
        Column(
            "allocation_strategy",
            "Allocation order",
            T,
            False,
            "installments_first (default) or charges_first",
            32,
        ),
    ),
)
COLLECTORS = SheetSpec(
    "collectors",
    False,
    "Collectors named in the loans sheet. Each must already be a LoanDesk user with the "
    "collector role (an admin creates users: python main.py admin create-user).",
    (
        Column("username", "Username", T, True, "The collector's LoanDesk sign-in name", 64),
        Column("full_name", "Full name", T, False, "For the reader; not imported"),
        Column("branch_code", "Branch code", T, False, "The collector's branch, if given", 16),
    ),
)
LOANS = SheetSpec(
    "loans",
    True,
    "One row per loan. Account numbers are unique in the file and against the book.",
    (
        Column("account_no", "Account number", T, True, "Unique, e.g. PUN01-000123", 32),
        Column("customer_no", "Customer number", T, True, "Same number = same borrower", 32),
        Column("borrower_name", "Borrower name", T, True, "Full name"),
        Column("phone", "Phone", T, False, "Mobile number", 20),
        Column("address", "Address", T, False, "Postal address", 400),
        Column("branch_code", "Branch code", T, True, "From the branches sheet or LoanDesk", 16),
        Column("product_code", "Product code", T, True, "From the products sheet or LoanDesk", 32),
        Column("principal", "Principal (₹)", M, True, "Amount disbursed: 2,50,000 or ₹250000.00"),
        Column("annual_rate", "Annual rate (%)", R, True, "Reducing balance, e.g. 18.5"),
        Column("tenure_months", "Tenure (months)", C, True, "Number of monthly installments"),
        Column("disbursement_date", "Disbursement date", D, True, "DD-MM-YYYY"),
        Column("first_due_date", "First due date", D, True, "DD-MM-YYYY, after disbursement"),
        Column("collector", "Collector", T, False, "Username of the assigned collector", 64),
    ),
)
SCHEDULE = SheetSpec(
    "schedule",
    False,
    "The lender's own schedule, kept exactly as given after checks. A loan with no rows here "
    "gets LoanDesk's reducing-balance EMI schedule. A loan's rows must number 1, 2, 3 ... "
    "in due-date order and their principal must sum to the loan's principal.",
    (
        Column("account_no", "Account number", T, True, "As in the loans sheet", 32),
        Column("installment_no", "Installment no", C, True, "1, 2, 3 ..."),
        Column("due_date", "Due date", D, True, "DD-MM-YYYY"),
        Column("principal_due", "Principal due (₹)", M, True, "Principal part of the EMI"),
        Column("interest_due", "Interest due (₹)", M, True, "Interest part of the EMI"),
    ),
)
PAYMENTS = SheetSpec(
    "payments",
    False,
    "Every payment received so far, in any order. Each is allocated as LoanDesk allocates "
    "(the product's waterfall), in date order per loan.",
    (
        Column("account_no", "Account number", T, True, "As in the loans sheet", 32),
        Column("payment_date", "Payment date", D, True, "DD-MM-YYYY; not before disbursement"),
        Column("amount", "Amount (₹)", M, True, "Amount received"),
        Column("mode", "Mode", T, True, "cash, cheque, neft, rtgs, imps, upi or nach", 16),
        Column("reference", "Reference", T, False, "Receipt no, cheque no, UTR or RRN", 64),
        Column("foreclosure", "Foreclosure", F, False, "yes when the payment closed the loan"),
    ),
)
POSITIONS = SheetSpec(
    "positions",
    False,
    "For the parallel run only (python main.py report convergence): the sheet's own figures "
    "per loan at a date, compared with LoanDesk's. Not imported.",
    (
        Column("account_no", "Account number", T, True, "As in the loans sheet", 32),
        Column("outstanding", "Principal outstanding (₹)", M, True, "Principal not yet repaid"),
        Column("overdue", "Overdue (₹)", M, True, "Interest and principal due and unpaid"),
        Column("dpd", "DPD", C, True, "Days past due at the date"),
    ),
)

SHEETS: tuple[SheetSpec, ...] = (
    BRANCHES,
    PRODUCTS,
    COLLECTORS,
    LOANS,
    SCHEDULE,
    PAYMENTS,
    POSITIONS,
)
TEMPLATE_PATH = Path(__file__).resolve().parents[2] / "resources" / "loan_book_template.xlsx"

README_LINES: tuple[str, ...] = (
    "LoanDesk loan book template",
    "",
    "Fill one sheet per kind of record; keep the header row (row 1) as it is, one name per "
    "column: merged header cells are refused. Blank rows are skipped.",
    "Import: python main.py import loans FILE.xlsx --dry-run  (checks only; writes a report), "
    "then without --dry-run. Add --new-only after go-live to add new disbursements only.",
    "All or nothing: one bad cell refuses the whole file and nothing is written; the "
    "validation report (--report FILE.xlsx) lists sheet, row, column, value and problem.",
    "Dates: a real Excel date, or text DD-MM-YYYY, DD/MM/YYYY, YYYY-MM-DD, DD.MM.YYYY or "
    "DD-Mon-YYYY.",
    "Money: rupees as a number (at most two decimals) or text with ₹ and commas (₹ 12,34,567.89).",
    "Rates: annual percent, e.g. 18.5 (basis points are 0.01%).",
    "Charges: the template carries none. Late charges of installments already past their "
    "late-charge day at the import stay with the old book; LoanDesk levies them from the "
    "import on.",
    "Re-importing an account number already in LoanDesk changes nothing about it; the "
    "report lists what differs.",
    "",
    "Sheets and columns (* = required):",
)


def readme_rows() -> list[list[str]]:
    rows = [[line] for line in README_LINES]
    for spec in SHEETS:
        rows.append([])
        need = "required" if spec.required else "optional"
        rows.append([f"Sheet '{spec.name}' ({need})", spec.purpose])
        for col in spec.columns:
            star = " *" if col.required else ""
            rows.append([f"  {col.header}{star}", f"{col.kind.value}: {col.note}"])
    return rows


def _as_data(sheet: Any, value: object) -> object:
    """A person's text (a borrower's name, an address) that a spreadsheet would run as a
    formula is written as a string cell: openpyxl takes any text starting with '=' for one."""
    if isinstance(value, str) and formula_like(value):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell
    return value


def write_workbook(
    path: Path, data: Mapping[str, Iterable[Sequence[object]]] | None = None
) -> None:
    """The template with `data` rows under each sheet's header (an export of the book), in
    write-only mode so a large book streams to disk instead of sitting in memory."""
    data = data or {}
    book = Workbook(write_only=True)
    readme = book.create_sheet("README")
    readme.column_dimensions["A"].width = 48
    readme.column_dimensions["B"].width = 90
    for row in readme_rows():
        readme.append(row)
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="DFE6EE")
    for spec in SHEETS:
        sheet = book.create_sheet(spec.name)
        for index, col in enumerate(spec.columns):
            letter = chr(ord("A") + index)
            sheet.column_dimensions[letter].width = max(14, len(col.header) + 4)
        sheet.freeze_panes = "A2"
        header = []
        for col in spec.columns:
            cell = WriteOnlyCell(sheet, value=col.header)
            cell.font = bold
            cell.fill = fill
            cell.alignment = Alignment(wrap_text=False)
            header.append(cell)
        sheet.append(header)
        for values in data.get(spec.name, ()):
            sheet.append([_as_data(sheet, value) for value in values])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)


def write_template(path: Path = TEMPLATE_PATH) -> Path:
    write_workbook(path)
    return path


if __name__ == "__main__":  # pragma: no cover
    print(write_template(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE_PATH))
