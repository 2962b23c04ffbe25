"""The convergence report as XLSX (every mismatch, for the people reconciling) and as PDF (the
summary and the mismatch list, for the go/no-go meeting), in the MIS's fonts and wording."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from sync_server.book.convergence import Convergence, Figures, Mismatch
from sync_server.reports.fonts import register_fonts
from sync_server.reports.pdf import BODY, HEADING, NOTE, TITLE, _table
from sync_server.reports.wording import count, day, rupees

HEADER = (
    "Account number",
    "Sheet outstanding",
    "LoanDesk outstanding",
    "Sheet overdue",
    "LoanDesk overdue",
    "Sheet DPD",
    "LoanDesk DPD",
    "Likely reason",
)


def _share(c: Convergence) -> str:
    whole, part = divmod(c.share_bp, 100)
    return f"{whole}.{part:02d}%"


def _cells(f: Figures | None) -> tuple[str, str, str]:
    if f is None:
        return ("—", "—", "—")
    return (rupees(f.outstanding), rupees(f.overdue), str(f.dpd))


def _row(m: Mismatch) -> list[str]:
    s, o = _cells(m.sheet), _cells(m.loandesk)
    return [m.account_no, s[0], o[0], s[1], o[1], s[2], o[2], m.reason]


def write_xlsx(c: Convergence, path: Path) -> Path:
    book = Workbook(write_only=True)
    summary = book.create_sheet("summary")
    summary.append(["As of (day-end)", day(c.as_of)])
    summary.append(["Loans compared", c.compared])
    summary.append(["Loans that agree", c.converged])
    summary.append(["Converged", _share(c)])
    summary.append(["Mismatches listed", len(c.mismatches)])
    sheet = book.create_sheet("mismatches")
    sheet.append(list(HEADER))
    for m in c.mismatches:
        s, o = m.sheet, m.loandesk
        sheet.append(
            [
                m.account_no,
                s.outstanding / 100 if s else None,
                o.outstanding / 100 if o else None,
                s.overdue / 100 if s else None,
                o.overdue / 100 if o else None,
                s.dpd if s else None,
                o.dpd if o else None,
                m.reason,
            ]
        )
    if c.problems:
        bad = book.create_sheet("unreadable rows")
        bad.append(["Sheet", "Row", "Column", "Value", "Problem"])
        for p in c.problems:
            bad.append([p.sheet, p.row, p.column, p.value, p.problem])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def render_pdf(c: Convergence, generated_at: datetime) -> bytes:
    register_fonts()
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title="LoanDesk parallel run",
    )
    story = [
        Paragraph("Parallel run: the sheet against LoanDesk", TITLE),
        Paragraph(f"At the day-end of {day(c.as_of)}", BODY),
        Spacer(1, 4 * mm),
        _table(
            [
                ["Figure", "Value"],
                ["Loans compared", count(c.compared)],
                ["Loans that agree", count(c.converged)],
                ["Converged", _share(c)],
                ["Mismatches", count(len(c.mismatches))],
            ]
        ),
        Paragraph("Mismatches and their likely reason", HEADING),
    ]
    if c.mismatches:
        widths = [32 * mm, 26 * mm, 26 * mm, 24 * mm, 24 * mm, 14 * mm, 16 * mm, 110 * mm]
        rows = [list(HEADER)] + [_row(m) for m in c.mismatches]
        story.append(_table(rows, widths))
    else:
        story.append(Paragraph("None: every loan of the sheet agrees with LoanDesk.", BODY))
    story.append(Spacer(1, 4 * mm))
    story.append(
        Paragraph(
            f"LoanDesk's figures are its ledger's at that day-end. Generated "
            f"{generated_at:%d-%m-%Y %H:%M}.",
            NOTE,
        )
    )
    doc.build(story)
    return buffer.getvalue()
