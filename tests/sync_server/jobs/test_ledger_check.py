"""The ledger check recomputes every loan's figures from schedules and dated allocation lines
and names the loans whose stored day-end figures differ; the day-end runs it each Sunday."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select, text, update

from main import main
from sync_server.db.engine import Database
from sync_server.db.models import JobRun, Loan, LoanHistory, LoanState, OpsAlert
from sync_server.jobs import tasks
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.ledger_check import check_ledger, ledger_check_command
from tests.sync_server.jobs.ledger_book import FIRST_NIGHT, NpaMemoryBook, npa_memory_book
from tests.sync_server.jobs.portfolio import clock_after


@pytest.fixture
def book(db: Database) -> NpaMemoryBook:
    return npa_memory_book(db)


def _forget_npa(db: Database, book: NpaMemoryBook) -> str:
    """Store what the day-end stored before it knew the past: the two-wheeler loan standard."""
    with db.unit_of_work() as session:
        for table in (LoanState, LoanHistory):
            session.execute(
                update(table)
                .where(table.loan_id == book.never_cured.two_wheeler)
                .values(asset_class="standard")
            )
        return session.execute(
            select(Loan.account_no).where(Loan.id == book.never_cured.two_wheeler)
        ).scalar_one()


def test_a_healthy_book_has_no_differences_and_a_forgotten_npa_is_named(
    db: Database, book: NpaMemoryBook
) -> None:
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    with db.read_only() as session:
        assert check_ledger(session, FIRST_NIGHT, delinquency_settings(session, FIRST_NIGHT)) == []
    account = _forget_npa(db, book)
    with db.read_only() as session:
        found = check_ledger(session, FIRST_NIGHT, delinquency_settings(session, FIRST_NIGHT))
    assert [d.account_no for d in found] == [account]
    assert found[0].stored is not None
    assert found[0].ledger is not None
    assert (found[0].stored.asset_class, found[0].ledger.asset_class) == ("standard", "NPA")
    assert found[0].describe() == f"{account}: asset_class stored standard, ledger NPA"


def test_an_earlier_night_is_checked_against_its_record_in_the_loan_history(
    db: Database, book: NpaMemoryBook
) -> None:
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    nxt = FIRST_NIGHT + timedelta(days=1)
    tasks.run_day_end(db, nxt, clock_after(nxt))
    with db.read_only() as session:
        assert check_ledger(session, FIRST_NIGHT, delinquency_settings(session, FIRST_NIGHT)) == []
    with db.unit_of_work() as session:
        session.execute(
            update(LoanHistory)
            .where(LoanHistory.loan_id == book.cured.personal)
            .values(principal_outstanding=LoanHistory.principal_outstanding - 1, arrears_paise=0)
        )
    with db.read_only() as session:
        found = check_ledger(session, FIRST_NIGHT, delinquency_settings(session, FIRST_NIGHT))
    assert [d.loan_id for d in found] == [book.cured.personal]
    assert "principal_outstanding stored" in found[0].describe()
    assert "arrears_paise stored ₹0.00, ledger ₹5,000.00" in found[0].describe()


def test_the_command_exits_non_zero_and_lists_the_loans_that_differ(
    db: Database, database_url: str, book: NpaMemoryBook, capsys: pytest.CaptureFixture[str]
) -> None:
    out = io.StringIO()
    assert ledger_check_command(db, None, out) == 2
    assert "no day-end has run yet" in out.getvalue()
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    assert main(["audit", "ledger", "--db", database_url]) == 0
    assert "every loan's stored figures are the ledger's" in capsys.readouterr().out
    account = _forget_npa(db, book)
    day = FIRST_NIGHT.isoformat()
    assert main(["audit", "ledger", "--as-of", day, "--db", database_url]) == 1
    printed = capsys.readouterr().out
    assert f"{account}: asset_class stored standard, ledger NPA" in printed
    assert "1 loans differ from the ledger" in printed
    assert main(["audit", "ledger", "--as-of", "26-10-2026", "--db", database_url]) == 2
    before = (FIRST_NIGHT - timedelta(days=1)).isoformat()
    assert main(["audit", "ledger", "--as-of", before, "--db", database_url]) == 2
    assert "no stored figures of it to check" in capsys.readouterr().out


def test_the_sunday_day_end_runs_the_check_and_counts_the_differences_in_the_job_ledger(
    db: Database, book: NpaMemoryBook
) -> None:
    saturday = date(2026, 10, 31)
    assert saturday.weekday() == 5
    tasks.run_day_end(db, saturday, clock_after(saturday))
    with db.unit_of_work() as session:
        session.execute(
            text("UPDATE loan_state SET asset_class = 'standard' WHERE loan_id = :id"),
            {"id": book.never_cured.gold.hex if db.is_sqlite else book.never_cured.gold},
        )
        session.execute(text("UPDATE loan_state SET updated_at = arrears_settled_at"))
    sunday = saturday + timedelta(days=1)
    tasks.run_day_end(db, sunday, clock_after(sunday))
    with db.read_only() as session:
        counts = {
            row.run_key: row.counts
            for row in session.execute(select(JobRun).where(JobRun.job == "day_end")).scalars()
        }
    assert "ledger_check" not in counts[saturday.isoformat()]
    assert counts[sunday.isoformat()]["ledger_check"] == 1
    alerts = _alerts(db)
    assert [(a.kind, a.job, a.run_key) for a in alerts] == [
        ("ledger_differs", "day_end", sunday.isoformat())
    ]
    assert alerts[0].message == (
        "The weekly ledger check at the day-end of 01-11-2026 found 1 loan whose stored figures "
        "(principal outstanding, arrears, DPD or RBI class) differ from what their schedules "
        "and payments give. The list: python main.py audit ledger --as-of 2026-11-01"
    )
    # Asked again (a rerun of a finished night), it is neither run nor raised twice.
    tasks.run_day_end(db, sunday, clock_after(sunday))
    assert len(_alerts(db)) == 1


def test_a_healthy_sunday_raises_no_alert(db: Database, book: NpaMemoryBook) -> None:
    sunday = date(2026, 11, 1)
    tasks.run_day_end(db, sunday, clock_after(sunday))
    with db.read_only() as session:
        counts = session.execute(
            select(JobRun.counts).where(JobRun.run_key == sunday.isoformat())
        ).scalar_one()
    assert counts["ledger_check"] == 0
    assert _alerts(db) == []


def _alerts(db: Database) -> list[OpsAlert]:
    with db.read_only() as session:
        found = list(session.execute(select(OpsAlert).order_by(OpsAlert.id)).scalars())
        session.expunge_all()
    return found
