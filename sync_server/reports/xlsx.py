"""The MIS figures as an XLSX workbook: the same numbers as the PDF, stored as numbers (rupees
as exact decimals, ratios as fractions) with Indian number formats, so finance can add them up.

Any text that begins with = + - @ (or a tab or carriage return) is stored as text, never as a
formula: a branch or product code a person typed must not run in someone's spreadsheet.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from loancore.sheets import COUNT_FORMAT, PERCENT_FORMAT, RUPEES_FORMAT, formula_like
from sync_server.reports.figures import BUCKETS, LEFT_BOOK, MisFigures, Ratio
from sync_server.reports.query import IST
from sync_server.reports.wording import day

__all__ = ["COUNT_FORMAT", "PERCENT_FORMAT", "RUPEES_FORMAT", "render_xlsx"]


@dataclass(frozen=True)
class Money:
    paise: int


@dataclass(frozen=True)
class Count:
    value: int


Value = str | Money | Count | Ratio | Decimal | None


def _put(cell: Cell, value: Value) -> None:
    if isinstance(value, Money):
        cell.value = Decimal(value.paise).scaleb(-2)
        cell.number_format = RUPEES_FORMAT
    elif isinstance(value, Count):
        cell.value = value.value
        cell.number_format = COUNT_FORMAT
    elif isinstance(value, Decimal):
        cell.value = value
        cell.number_format = "0.00"
    elif isinstance(value, Ratio):
        cell.value = (
            None if value.denominator == 0 else Decimal(value.numerator) / value.denominator
        )
        cell.number_format = PERCENT_FORMAT
    else:
        cell.value = value
        if value is not None and formula_like(value):
            cell.data_type = "s"


def _sheet(book: Workbook, title: str, heading: list[str], rows: list[list[Value]]) -> None:
    sheet: Worksheet = book.create_sheet(title)
    for col, text in enumerate(heading, start=1):
        cell = sheet.cell(row=1, column=col)
        _put(cell, text)
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for col, value in enumerate(row, start=1):
            _put(sheet.cell(row=r, column=col), value)
    for col in range(1, len(heading) + 1):
        sheet.column_dimensions[sheet.cell(row=1, column=col).column_letter].width = 22


def _reconciliation(book: Workbook, f: MisFigures) -> None:
    r = f.reconciliation
    if r is None:
        rows: list[list[Value]] = [["Scope", "Bank accounts are the lender's: see all branches"]]
    else:
        rows = [
            ["Bank credit lines booked", Count(r.credit_lines)],
            ["Bank credit amount", Money(r.credit_amount)],
            ["Matched lines", Count(r.matched_lines)],
            ["Matched amount", Money(r.matched_amount)],
            ["Unmatched lines", Count(r.unmatched_lines)],
            ["Unmatched amount", Money(r.unmatched_amount)],
            ["Matched share (by amount)", r.matched_share],
            ["Oldest unmatched booked on", day(r.oldest_unmatched) if r.oldest_unmatched else None],
        ]
    for name, q in (("Missing in bank", f.missing_in_bank), ("Cash in hand", f.cash_in_hand)):
        rows += [
            [f"{name}: window (working days)", Count(q.window)],
            [f"{name}: entries", Count(q.entries)],
            [f"{name}: amount", Money(q.amount)],
            [
                f"{name}: oldest (days)",
                None if q.oldest_age_days is None else Count(q.oldest_age_days),
            ],
        ]
    _sheet(book, "Reconciliation", ["Figure", "Value"], rows)


def render_xlsx(f: MisFigures, generated_at: datetime) -> bytes:
    book = Workbook()
    book.remove(book.active)
    _sheet(
        book,
        "Summary",
        ["Figure", "Value"],
        [
            ["As of", day(f.as_of)],
            ["Scope", f"Branch {f.branch}" if f.branch else "All branches"],
            ["Generated (IST)", generated_at.astimezone(IST).strftime("%d-%m-%Y %H:%M")],
            ["Figures SHA-256", f.digest()],
            ["Loans in the book", Count(f.loans)],
            ["Principal outstanding", Money(f.outstanding)],
            ["Loans disbursed this month", Count(f.disbursed_loans)],
            ["Disbursed this month", Money(f.disbursed)],
            ["Loans under an open dispute", Count(f.disputed_loans)],
            ["Outstanding under an open dispute", Money(f.disputed_outstanding)],
            ["Promises decided", Count(f.promises_decided)],
            ["Promises kept", Count(f.promises_kept)],
            ["Promises kept rate", f.promise_rate],
            ["Legal cases opened", Count(f.legal.opened)],
            ["Legal cases moved", Count(f.legal.moved)],
            ["Legal cases closed", Count(f.legal.closed)],
        ],
    )
    _sheet(
        book,
        "Portfolio",
        ["Branch", "Product", "Loans", "Principal outstanding"],
        [[p.branch, p.product, Count(p.loans), Money(p.outstanding)] for p in f.portfolio],
    )
    _sheet(
        book,
        "Collections",
        [
            "Period",
            "Demand",
            "Collected against demand",
            "CE",
            "Prepayments",
            "CE incl. prepayments",
        ],
        [
            [
                name,
                Money(c.demand),
                Money(c.collected),
                c.efficiency,
                Money(c.prepaid),
                c.efficiency_with_prepayments,
            ]
            for name, c in (("Month to date", f.month_to_date), ("Month", f.month))
        ],
    )
    bands: list[list[Value]] = [
        [b.name, Count(b.loans), Money(b.outstanding), b.share] for b in (*f.buckets, *f.classes)
    ]
    bands += [[f"PAR {p.days}", Count(p.loans), Money(p.outstanding), p.ratio] for p in f.par]
    _sheet(
        book,
        "Buckets and classes",
        ["Band", "Loans", "Principal outstanding", "Share"],
        bands,
    )
    _sheet(
        book,
        "Roll matrix",
        [f"From ({day(f.roll_from)})", *BUCKETS, LEFT_BOOK],
        [[r.from_bucket, *(Count(n) for n in r.counts)] for r in f.roll],
    )
    _sheet(
        book,
        "Trend",
        ["Month end", "Collection efficiency", "PAR 30"],
        [[day(p.day), p.efficiency, p.par30] for p in f.trend],
    )
    _sheet(
        book,
        "Collectors",
        [
            "Collector id",
            "Week from",
            "Accounts",
            "Due",
            "Collected",
            "Promises due",
            "Promises kept",
            "Score (of 100)",
        ],
        [
            [
                c.collector_id,
                day(c.week_start),
                Count(c.accounts),
                Money(c.due),
                Money(c.collected),
                Count(c.promises_due),
                Count(c.promises_kept),
                None if c.score_bp is None else Decimal(c.score_bp).scaleb(-2),
            ]
            for c in f.collectors
        ],
    )
    _reconciliation(book, f)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
