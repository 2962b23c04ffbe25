"""The loans tests' small book (two branches), with four legal cases on its overdue loans,
written as the day-end's escalation and legal's later work would leave them."""

from __future__ import annotations

import functools
import uuid
from datetime import date

import httpx
import pytest

from sync_server.auth import passwords
from sync_server.db.engine import Database
from sync_server.db.models import LegalCase
from tests.sync_server.conftest import Actors
from tests.sync_server.loans.portfolio import Book, build_book

_real_hash = passwords.hash_password

# name: account, status, opened on, next hearing, closed on
CASES = {
    "a_hearing": ("PNC000006", "hearing", date(2026, 8, 20), date(2026, 12, 10), None),
    "a_open": ("PNC000005", "open", date(2026, 11, 20), None, None),
    "a_closed": ("PNC000004", "closed", date(2026, 7, 1), None, date(2026, 10, 1)),
    "b_filed": ("NSK000003", "filed", date(2026, 9, 1), date(2026, 12, 3), None),
}
LISTED_ORDER = ["b_filed", "a_hearing", "a_closed", "a_open"]
"""Next hearing first (03-12 before 10-12), then the cases with none, by the day they opened."""


@functools.lru_cache(maxsize=8)
def _hash_once(password: str) -> str:
    return _real_hash(password)


@pytest.fixture
def book(http: httpx.Client, db: Database, actors: Actors, monkeypatch: pytest.MonkeyPatch) -> Book:
    """argon2 costs 0.6 s a user by design; no test here is about hashing."""
    monkeypatch.setattr(passwords, "hash_password", _hash_once)
    return build_book(http, db, actors)


@pytest.fixture
def cases(book: Book) -> dict[str, uuid.UUID]:
    ids = {name: uuid.uuid4() for name in CASES}
    with book.db.unit_of_work() as session:
        for name, (account, status, opened, hearing, closed) in CASES.items():
            session.add(
                LegalCase(
                    id=ids[name],
                    loan_id=book.loans[account],
                    status=status,
                    opened_on=opened,
                    opened_by=None,
                    dpd_at_open=90,
                    court="Civil Court, Pune" if status in ("filed", "hearing") else None,
                    case_number="SCS/101/2026" if status in ("filed", "hearing") else None,
                    next_hearing=hearing,
                    closed_on=closed,
                )
            )
    return ids
