"""The parallel run: does LoanDesk agree with the lender's own sheet, loan by loan?

While Excel and LoanDesk run side by side, the lender's sheet (its positions sheet: principal
outstanding, overdue and DPD per account at a date) is compared with LoanDesk's figures at the
day-end of that date, which come from the ledger set-wise (ledger_state.ledger_book_sql: what a
day-end run every night would have left). Each mismatch gets the likely reason, so that the
people reconciling know where to look: a payment one side lacks, the same money split in a
different order, a date, or rounding.
"""

# ruff: noqa: S608 -- the statement is assembled from module constants; values are bound.

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from loancore.money import format_rupees
from sync_server.book.reader import Problem, read_sheets
from sync_server.book.template import POSITIONS
from sync_server.jobs import sql as q
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.ledger_state import ledger_book_sql

ROUNDING_PAISE = 100
"""Differences up to a rupee on a loan are put down to rounding (paise or rupee EMIs)."""


@dataclass(frozen=True, slots=True)
class Figures:
    outstanding: int
    overdue: int
    dpd: int


@dataclass(frozen=True, slots=True)
class Mismatch:
    account_no: str
    sheet: Figures | None
    loandesk: Figures | None
    reason: str


@dataclass
class Convergence:
    as_of: date
    compared: int = 0
    converged: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def share_bp(self) -> int:
        """Converged loans per 10,000 compared, rounded down (never shows 100% too early)."""
        return 0 if not self.compared else self.converged * 10_000 // self.compared

    def summary(self) -> str:
        whole, part = divmod(self.share_bp, 100)
        lines = [
            f"Parallel run at the day-end of {self.as_of:%d-%m-%Y}: {self.converged} of "
            f"{self.compared} loans agree ({whole}.{part:02d}% converged)",
        ]
        reasons: dict[str, int] = {}
        for m in self.mismatches:
            key = m.reason.split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
        lines += [f"  {n} {why}" for why, n in sorted(reasons.items(), key=lambda kv: -kv[1])]
        if self.problems:
            lines.append(f"  {len(self.problems)} rows of the sheet could not be read")
        return "\n".join(lines)


def likely_reason(sheet: Figures, ours: Figures) -> str:
    d_out = ours.outstanding - sheet.outstanding
    d_over = ours.overdue - sheet.overdue
    if abs(d_out) <= ROUNDING_PAISE and abs(d_over) <= ROUNDING_PAISE:
        if ours.dpd != sheet.dpd and (d_out or d_over):
            return "date: a due or payment date differs (and paise of rounding)"
        if ours.dpd != sheet.dpd:
            return "date: the same amounts, another DPD (a due date or a payment date differs)"
        return "rounding: within ₹1 on the loan"
    if (d_out > 0 and d_over < 0) or (d_out < 0 and d_over > 0):
        return (
            "allocation order: the same money split differently between principal and "
            f"overdue (outstanding {format_rupees(d_out)}, overdue {format_rupees(d_over)})"
        )
    if d_out + d_over > 0:
        return f"missing payment: LoanDesk has {format_rupees(d_out + d_over)} less paid"
    return f"missing payment: the sheet has {format_rupees(-(d_out + d_over))} less paid"


def loandesk_figures(session: Session, as_of: date) -> dict[str, Figures]:
    """Every loan in the book at the day-end of `as_of`, from the ledger, by account."""
    q.prepare(session)
    settings = delinquency_settings(session, as_of)
    statement = f"""
        SELECT l.account_no, lg.principal_outstanding, lg.arrears_paise, lg.dpd
        FROM ({ledger_book_sql(session, settings)}) lg JOIN loans l ON l.id = lg.loan_id
    """
    rows = session.execute(q.sql(statement, as_of=as_of, npa=settings.npa_dpd))
    return {str(r[0]): Figures(int(r[1]), int(r[2]), int(r[3])) for r in rows}


def compare(session: Session, sheet_path: Path, as_of: date) -> Convergence:
    out = Convergence(as_of)
    rows = read_sheets(sheet_path, (POSITIONS.name,), out.problems)[POSITIONS.name]
    if not rows:
        out.problems.append(
            Problem(POSITIONS.name, 0, "", "", "the positions sheet is missing or empty")
        )
    ours = loandesk_figures(session, as_of)
    seen: set[str] = set()
    for row in rows:
        account = str(row["account_no"])
        if account in seen:
            out.problems.append(
                Problem(POSITIONS.name, row.number, "A (Account number)", account, "appears twice")
            )
            continue
        seen.add(account)
        sheet = Figures(row["outstanding"], row["overdue"], row["dpd"])
        mine = ours.get(account)
        if mine is None:
            out.mismatches.append(Mismatch(account, sheet, None, "not in LoanDesk at this date"))
            continue
        out.compared += 1
        if mine == sheet:
            out.converged += 1
        else:
            out.mismatches.append(Mismatch(account, sheet, mine, likely_reason(sheet, mine)))
    for account in sorted(set(ours) - seen):
        out.mismatches.append(
            Mismatch(account, None, ours[account], "not in the sheet: a loan only LoanDesk has")
        )
    out.mismatches.sort(key=lambda m: m.account_no)
    return out
