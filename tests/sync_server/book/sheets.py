"""A generator of realistic, messy loan-book workbooks, and the organisation they refer to.

The base workbook is valid but untidy as hand-kept sheets are: blank rows between loans, dates
as real dates, as Excel serials and as text in three styles, amounts as numbers and as text
with ₹ and Indian commas, a title-less header. Each `Mess` flag plants one mistake and the
generator returns where it planted it, so a test can ask for exactly that sheet, row and column.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from openpyxl import Workbook

from loancore.roles import Role
from loancore.schedule import build_schedule
from sync_server.auth.service import create_user
from sync_server.book.template import SHEETS
from sync_server.db.engine import Database
from sync_server.db.models import Branch, Product
from sync_server.principal import Principal

COLLECTOR = "col.pune1"
DISBURSED = date(2026, 3, 10)
FIRST_DUE = date(2026, 4, 5)


def prepare_org(db: Database) -> Principal:
    """A branch, a product, the collector the sheets name and the finance user who imports,
    as an admin would make them; returns the importer."""
    with db.unit_of_work() as session:
        branch = Branch(code="PUN01", name="Pune Camp")
        session.add(branch)
        session.add(
            Product(code="PL", name="Personal loan", allocation_strategy="installments_first")
        )
        session.flush()
        create_user(
            session,
            actor=None,
            username=COLLECTOR,
            full_name="Asha Patil",
            role=Role.COLLECTOR,
            branch_id=branch.id,
            password="correct horse battery staple",
        )
        importer = create_user(
            session,
            actor=None,
            username="fin.head",
            full_name="Finance Head",
            role=Role.FINANCE,
            branch_id=None,
            password="correct horse battery staple",
        )
        return Principal(importer.id, importer.username, Role.FINANCE, None)


@dataclass(frozen=True)
class Mess:
    merged_header: bool = False
    duplicate_account: bool = False
    unknown_collector: bool = False
    schedule_not_summing: bool = False
    payment_before_disbursement: bool = False
    bad_amount: bool = False
    unknown_branch: bool = False
    new_branch: bool = False
    """A second branch, MUM01, in the branches sheet (an import creates it) and one loan in it."""


def _header(name: str) -> list[str]:
    spec = next(s for s in SHEETS if s.name == name)
    return [c.header for c in spec.columns]


DATE_STYLES = (
    lambda d: d.strftime("%d-%m-%Y"),
    lambda d: d.strftime("%d/%m/%Y"),
    lambda d: d.isoformat(),
    lambda d: (d - date(1899, 12, 30)).days,
    lambda d: datetime(d.year, d.month, d.day),  # noqa: DTZ001 (a naive Excel date cell)
    lambda d: d.strftime("%d-%b-%Y"),
)


def messy_book(
    path: Path,
    mess: Mess = Mess(),
    loans: int = 6,
    collector: str = COLLECTOR,
    accounts: str = "PUN01",
) -> dict[str, tuple[str, int, str]]:
    """Write the workbook; returns each planted mistake as (sheet, row, column letter).
    `accounts` starts the account and customer numbers (another book for the same office)."""
    book = Workbook()
    book.active.title = "README"
    book["README"]["A1"] = "Our loan book, kept by hand"
    planted: dict[str, tuple[str, int, str]] = {}
    branches = book.create_sheet("branches")
    branches.append(_header("branches"))
    branches.append(["PUN01", "Pune Camp"])
    if mess.new_branch:
        branches.append(["MUM01", "Mumbai Fort"])
    ws = book.create_sheet("loans")
    ws.append(_header("loans"))
    if mess.merged_header:
        ws["K1"] = "Dates"
        ws.merge_cells("K1:L1")
        planted["merged_header"] = ("loans", 1, "L")
    ws.append([])  # a blank row under the header
    sched = book.create_sheet("schedule")
    sched.append(_header("schedule"))
    pays = book.create_sheet("payments")
    pays.append(_header("payments"))
    for n in range(loans):
        account = f"{accounts}-{n + 1:05d}"
        style = DATE_STYLES[n % len(DATE_STYLES)]
        principal = 100_000 + 25_000 * n
        assigned = collector
        if mess.unknown_collector and n == 2:
            assigned = "col.nobody"
        office = "PUN01"
        if mess.unknown_branch and n == 3:
            office = "PUN99"
        elif mess.new_branch and n == 4:
            office, assigned = "MUM01", ""
        ws.append(
            [
                account,
                f"C{n + 1:04d}" if accounts == "PUN01" else f"C{accounts}{n + 1:04d}",
                f"Borrower {n + 1}",
                "98765 43210",
                "Camp, Pune",
                office,
                "PL",
                f"₹ {principal:,}" if n % 2 else principal,
                "18.5" if n % 3 else 24,
                12,
                style(DISBURSED),
                style(FIRST_DUE),
                assigned,
            ]
        )
        if mess.unknown_collector and n == 2:
            planted["unknown_collector"] = ("loans", ws.max_row, "M")
        if mess.unknown_branch and n == 3:
            planted["unknown_branch"] = ("loans", ws.max_row, "F")
        if n % 2 == 0:
            ws.append([None] * 3)  # blank rows between loans, as hand-kept sheets have
        if n == 1:  # this loan brings its own schedule
            rows = build_schedule(principal * 100, 1850, 12, FIRST_DUE)
            for row in rows:
                principal_due = row.principal_due
                if mess.schedule_not_summing and row.seq == 12:
                    principal_due += 100
                sched.append(
                    [
                        account,
                        row.seq,
                        style(row.due_date),
                        f"{principal_due / 100:,.2f}",
                        row.interest_due / 100,
                    ]
                )
            if mess.schedule_not_summing:
                planted["schedule_not_summing"] = ("schedule", sched.max_row, "D")
        for k in range(3):
            paid_on = date(2026, 4 + k, 5)
            pays.append(
                [account, style(paid_on), "₹ 5,000" if k % 2 else 5000.5, "upi", f"UPI{n}{k}", "no"]
            )
    if mess.payment_before_disbursement:
        pays.append(["PUN01-00001", "01-02-2026", 1000, "cash", "R-77", "no"])
        planted["payment_before_disbursement"] = ("payments", pays.max_row, "B")
    if mess.bad_amount:
        pays.append(["PUN01-00001", "06-07-2026", "₹ 1,00.5", "cash", "R-78", "no"])
        planted["bad_amount"] = ("payments", pays.max_row, "C")
    if mess.duplicate_account:
        ws.append(
            [
                "PUN01-00002",
                "C9999",
                "Someone Else",
                "",
                "",
                "PUN01",
                "PL",
                50000,
                18,
                12,
                "10-03-2026",
                "05-04-2026",
                COLLECTOR,
            ]
        )
        planted["duplicate_account"] = ("loans", ws.max_row, "A")
    book.save(path)
    return planted


GO_LIVE = date(2026, 11, 26)
"""The day-end an import on 27-11-2026 settles a fresh book as of (yesterday)."""
LATE_DISBURSED = date(2026, 8, 24)
LATE_FIRST_DUE = date(2026, 9, 24)


def go_live_book(path: Path) -> dict[str, list[date]]:
    """Two tidy loans disbursed 24-08-2026 (EMIs due on the 24th) for an import settled as of
    26-11-2026: PUN01-LATE pays its first EMI on the day and nothing since, so at go-live its
    24-10 EMI is 34 days late (past the late-charge day, under the old book) and its 24-11 EMI
    3 days late (its charge day, DPD 5, falls on 28-11, after go-live); PUN01-PAID pays every
    EMI on its due date. Returns each loan's payment dates."""
    book = Workbook()
    book.active.title = "README"
    branches = book.create_sheet("branches")
    branches.append(_header("branches"))
    branches.append(["PUN01", "Pune Camp"])
    loans = book.create_sheet("loans")
    loans.append(_header("loans"))
    payments = book.create_sheet("payments")
    payments.append(_header("payments"))
    schedule = build_schedule(1_00_000_00, 1800, 12, LATE_FIRST_DUE)
    paid = {
        "PUN01-LATE": [schedule[0].due_date],
        "PUN01-PAID": [row.due_date for row in schedule if row.due_date <= GO_LIVE],
    }
    for n, (account, dates) in enumerate(paid.items()):
        loans.append(
            [
                account,
                f"CL{n}",
                f"Borrower {account}",
                "",
                "",
                "PUN01",
                "PL",
                "1,00,000",
                "18",
                12,
                LATE_DISBURSED.strftime("%d-%m-%Y"),
                LATE_FIRST_DUE.strftime("%d-%m-%Y"),
                COLLECTOR,
            ]
        )
        for k, (row, on) in enumerate(zip(schedule, dates, strict=False)):
            emi = (row.principal_due + row.interest_due) / 100
            payments.append([account, on.strftime("%d-%m-%Y"), emi, "upi", f"UPI-{n}-{k}", "no"])
    book.save(path)
    return paid
