"""The book every MIS test reads, with each borrower given a phone and an address so that the
PII tests have something to look for."""

from __future__ import annotations

import pytest
from sqlalchemy import func, update

from sync_server.db.engine import Database
from sync_server.db.models import Borrower
from tests.sync_server.reports.book import build


@pytest.fixture
def built(db: Database) -> Database:
    build(db)
    with db.unit_of_work() as session:
        session.execute(
            update(Borrower).values(
                phone="98" + func.substr(Borrower.customer_no, 2, 8),
                address="Flat 4, " + Borrower.name + " Nagar, Pune",
            )
        )
    return db
