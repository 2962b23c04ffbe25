"""The reconciliation status in the MIS against a reckoning written here over the ORM's rows:
bank credit lines by the day's close, matched when a match was live at that instant (made
before it, not undone before it), the rest unmatched; none for a branch's MIS; shown in the
PDF and the XLSX."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pypdf
from sqlalchemy import select

from loancore.money import format_rupees
from sync_server.db.engine import Database
from sync_server.db.models import BankAccount, BankLine, BankMatch, Payment, StatementImport
from sync_server.reports.figures import Ratio
from sync_server.reports.pdf import render_pdf
from sync_server.reports.query import ist_midnight_after
from sync_server.reports.service import mis_figures
from sync_server.reports.xlsx import render_xlsx
from tests.sync_server.reports.book import AS_OF

CLOSE = ist_midnight_after(AS_OF)
BEFORE = datetime(2026, 4, 12, 10, 0, tzinfo=UTC)
AFTER = datetime(2026, 4, 13, 5, 0, tzinfo=UTC)


def _statement(db: Database) -> None:
    """Credits on both sides of the as-of date, a debit, and matches live, undone and late."""
    with db.unit_of_work() as session:
        payments = session.execute(select(Payment.id).limit(4)).scalars().all()
        account = BankAccount(code="HDFC-1", account_no="50100012345678", currency="INR")
        session.add(account)
        session.flush()
        imported = StatementImport(
            bank_account_id=account.id,
            file_name="apr.sta",
            file_sha256="0" * 64,
            currency="INR",
            opening_balance=0,
            closing_balance=0,
            lines_added=7,
            lines_already_there=0,
        )
        session.add(imported)
        session.flush()
        spec = [
            (date(2026, 4, 2), 1_500_00),  # matched before the close: matched
            (date(2026, 4, 5), 2_000_00),  # matched, undone before the close: unmatched
            (date(2026, 4, 8), 3_250_50),  # matched, undone after the close: matched then
            (date(2026, 4, 10), 4_000_00),  # matched only after the close: unmatched
            (date(2026, 4, 11), 725_00),  # never matched
            (date(2026, 4, 12), -9_999_00),  # a debit: not a receipt
            (date(2026, 4, 13), 8_888_00),  # booked after the date
        ]
        lines = []
        for n, (booked, amount) in enumerate(spec):
            line = BankLine(
                bank_account_id=account.id,
                fingerprint=f"{n:064d}",
                statement_import_id=imported.id,
                booked_on=booked,
                value_date=booked,
                amount_paise=amount,
                currency="INR",
                narration=f"NEFT line {n}",
            )
            session.add(line)
            lines.append(line)
        session.flush()
        for line, payment, made, undone in (
            (lines[0], payments[0], BEFORE, None),
            (lines[1], payments[1], BEFORE, BEFORE),
            (lines[2], payments[2], BEFORE, AFTER),
            (lines[3], payments[3], AFTER, None),
        ):
            session.add(
                BankMatch(
                    bank_line_id=line.id,
                    payment_id=payment,
                    step=1,
                    reason="test",
                    matched_at=made,
                    unmatched_at=undone,
                )
            )


def _reckoned(db: Database) -> tuple[int, int, int, int, date | None]:
    with db.read_only() as session:
        credits = [
            (line.id, line.booked_on, line.amount_paise)
            for line in session.execute(select(BankLine)).scalars()
            if line.amount_paise > 0 and line.booked_on <= AS_OF
        ]
        live = {
            m.bank_line_id
            for m in session.execute(select(BankMatch)).scalars()
            if m.matched_at < CLOSE and (m.unmatched_at is None or m.unmatched_at >= CLOSE)
        }
    matched = [line for line in credits if line[0] in live]
    unmatched = [line for line in credits if line[0] not in live]
    return (
        len(credits),
        sum(line[2] for line in credits),
        len(matched),
        sum(line[2] for line in matched),
        min((line[1] for line in unmatched), default=None),
    )


def test_the_status_agrees_with_a_reckoning_over_the_rows(built: Database) -> None:
    _statement(built)
    lines, amount, matched_lines, matched_amount, oldest = _reckoned(built)
    assert (lines, matched_lines) == (5, 2)
    with built.read_only() as session:
        status = mis_figures(session, AS_OF).reconciliation
        branch = mis_figures(session, AS_OF, "BR02").reconciliation
    assert status is not None
    assert status.credit_lines == lines
    assert status.credit_amount == amount
    assert status.matched_lines == matched_lines
    assert status.matched_amount == matched_amount
    assert status.unmatched_lines == lines - matched_lines
    assert status.unmatched_amount == amount - matched_amount
    assert status.matched_share == Ratio(matched_amount, amount)
    assert status.oldest_unmatched == oldest == date(2026, 4, 5)
    assert branch is None


def test_the_documents_show_it(built: Database) -> None:
    _statement(built)
    now = datetime(2026, 4, 13, 3, 0, tzinfo=UTC)
    with built.read_only() as session:
        figures = mis_figures(session, AS_OF)
    status = figures.reconciliation
    assert status is not None
    pdf = render_pdf(figures, now)
    last = pypdf.PdfReader(io.BytesIO(pdf)).pages[-1].extract_text()
    assert "Reconciliation with the bank statements" in last
    assert format_rupees(status.unmatched_amount) in last
    assert "50100012345678" not in last
    sheet = openpyxl.load_workbook(io.BytesIO(render_xlsx(figures, now)))["Reconciliation"]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values["Unmatched lines"] == status.unmatched_lines
    assert isinstance(values["Matched share (by amount)"], float)
