"""The demo book obeys the live book's rules on its history: its stored figures are the
ledger's (NPA memory from before its first day-end included), and a dispute freezes the DPD of
the last day-end before it opened, as the dispute command does."""

from __future__ import annotations

import functools
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from sync_server.auth import passwords
from sync_server.db.engine import Database
from sync_server.db.models import Dispute, JobRun
from sync_server.demo import seed_demo
from sync_server.demo.casework import write_collections
from sync_server.jobs import tasks
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.history import book_as_of
from sync_server.jobs.ledger_check import check_ledger
from sync_server.loans.dpd import dpd_as_of
from tests.sync_server.jobs.ledger_book import FIRST_NIGHT, npa_memory_book
from tests.sync_server.jobs.portfolio import clock_after

TODAY = date(2026, 12, 3)
LOANS = 100
_real_hash = passwords.hash_password


@functools.lru_cache(maxsize=2)
def _hash_once(password: str) -> str:
    return _real_hash(password)


@pytest.fixture
def demo(db: Database, monkeypatch: pytest.MonkeyPatch) -> Database:
    """argon2 costs 0.6 s a user by design; the demo makes 13 users with one password."""
    monkeypatch.setattr(passwords, "hash_password", _hash_once)
    seed_demo(db, loans=LOANS, seed=7, today=TODAY)
    return db


def test_the_demo_books_stored_figures_are_the_ledgers_every_sunday_and_at_the_end(
    demo: Database,
) -> None:
    with demo.read_only() as session:
        last = dpd_as_of(session)
        assert last == TODAY - timedelta(days=1)
        assert check_ledger(session, last, delinquency_settings(session, last)) == []
        sundays = {
            run.run_key: run.counts
            for run in session.execute(select(JobRun).where(JobRun.job == "day_end")).scalars()
            if date.fromisoformat(run.run_key).weekday() == 6
        }
    assert len(sundays) == 5
    assert {key: counts["ledger_check"] for key, counts in sundays.items()} == dict.fromkeys(
        sundays, 0
    )


def test_a_demo_dispute_freezes_the_dpd_of_the_last_day_end_before_it(db: Database) -> None:
    """On a 300-loan demo book (seed 7) the dispute opened on 17-11 froze DPD 134, the DPD of
    its own day, where the last day-end before it (16-11) showed 133."""
    book = npa_memory_book(db)
    tasks.run_day_end(db, FIRST_NIGHT, clock_after(FIRST_NIGHT))
    loan_id = book.never_cured.personal  # unpaid since 04-09: DPD 53 at the day-end of 26-10
    opened = FIRST_NIGHT + timedelta(days=1)
    row = {
        "id": uuid.uuid4(),
        "loan_id": loan_id,
        "opened_by": book.collector,
        "opened_on": opened,
        "reason": "Borrower says an EMI was paid in cash and no receipt was issued",
        "status": "open",
    }
    with db.unit_of_work() as session:
        write_collections(
            session,
            {
                "promise": [],
                "dispute": [row],
                "legal_case": [],
                "legal_note": [],
                "contact_log": [],
            },
            {loan_id: (1, book.collector)},
        )
    tasks.run_day_end(db, opened, clock_after(opened))
    with db.read_only() as session:
        dispute = session.execute(select(Dispute)).scalar_one()
        assert (dispute.dpd_at_open, dispute.bucket_at_open) == (53, "31-60")
        night = {row.loan_id: row for row in book_as_of(session, opened)}[loan_id]
    assert (night.dpd, night.collections_dpd, night.bucket) == (54, 53, "31-60")
