"""One payment or one cash deposit is matched to at most one bank line at a time, and the
database itself refuses a second live match (migration 0019), on SQLite and PostgreSQL; a
database that already holds such doubles is not upgraded until finance has unmatched them."""

from __future__ import annotations

import uuid
from datetime import date

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from sync_server.db.migrate import database_revision, downgrade, head_revision, upgrade
from sync_server.db.models import BankLine, BankMatch, CashDeposit
from sync_server.db.types import utcnow
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk
from tests.sync_server.reconciliation.book import Finance, finance_desk, hdfc_csv

__all__ = ["_cheap_password_hashing", "app", "desk"]

TODAY = date(2026, 11, 27)
REFUSED = r"(?i)unique|duplicate key"


@pytest.fixture
def fin(desk: Desk) -> Finance:
    return finance_desk(desk)


def _book(fin: Finance) -> tuple[uuid.UUID, uuid.UUID, list[int]]:
    """A UPI payment, a cash deposit and three bank credits that answer neither (so the import
    matches nothing by itself and the tests store the matches)."""
    upi = fin.pay(187550, "upi", "301234567890", TODAY)
    cash = fin.pay(300000, "cash", "RB-000777", TODAY)
    assert fin.deposit([cash], "00123", TODAY).status_code == 201
    statement = hdfc_csv(
        [
            (TODAY, "NEFT CR-SBIN0009999-R KULKARNI", "", 111100),
            (TODAY, "BY CLG 000451", "", 222200),
            (TODAY, "IMPS/P2A/377777777777/M JOSHI", "", 333300),
        ]
    )
    assert fin.import_csv(statement).status_code == 201
    with fin.desk.db.read_only() as session:
        deposit = session.scalars(select(CashDeposit.id)).one()
        lines = list(session.scalars(select(BankLine.id).order_by(BankLine.id)))
    assert _live(fin) == 0
    return uuid.UUID(upi), deposit, lines


def _match(
    line: int, *, payment: uuid.UUID | None = None, deposit: uuid.UUID | None = None
) -> BankMatch:
    return BankMatch(
        bank_line_id=line, payment_id=payment, deposit_id=deposit, step=3, reason="by hand"
    )


def _live(fin: Finance) -> int:
    with fin.desk.db.read_only() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(BankMatch).where(BankMatch.unmatched_at.is_(None))
            )
            or 0
        )


def test_the_database_refuses_a_second_live_match_of_one_payment_or_deposit(
    fin: Finance,
) -> None:
    payment, deposit, (first, second, third) = _book(fin)
    with fin.desk.db.unit_of_work() as session:
        session.add_all([_match(first, payment=payment), _match(second, deposit=deposit)])
    for doubled in (_match(third, payment=payment), _match(third, deposit=deposit)):
        with pytest.raises(IntegrityError, match=REFUSED), fin.desk.db.unit_of_work() as session:
            session.add(doubled)
    assert _live(fin) == 2
    # An unmatched match is history, not a live match: the entry may be matched again.
    with fin.desk.db.unit_of_work() as session:
        session.execute(
            update(BankMatch)
            .where(BankMatch.payment_id == payment)
            .values(unmatched_at=utcnow(), unmatch_reason="wrong line")
        )
        session.add(_match(third, payment=payment))
    with fin.desk.db.read_only() as session:
        rows = session.execute(
            select(BankMatch.bank_line_id, BankMatch.unmatched_at.is_(None))
            .where(BankMatch.payment_id == payment)
            .order_by(BankMatch.id)
        ).all()
    assert [tuple(r) for r in rows] == [(first, False), (third, True)]


def test_an_upgrade_over_doubled_matches_stops_and_names_them_until_they_are_unmatched(
    fin: Finance,
) -> None:
    payment, deposit, (first, second, third) = _book(fin)
    engine = fin.desk.db.engine
    downgrade(engine, "0018")
    with fin.desk.db.unit_of_work() as session:
        session.add_all(
            [
                _match(first, payment=payment),
                _match(third, payment=payment),
                _match(second, deposit=deposit),
            ]
        )
    with fin.desk.db.read_only() as session:
        a, b = session.scalars(
            select(BankMatch.id).where(BankMatch.payment_id == payment).order_by(BankMatch.id)
        )
    named = f"payment {payment}: matches {a} \\(line {first}\\), {b} \\(line {third}\\)"
    with pytest.raises(RuntimeError, match=f"Cannot upgrade to 0019.*Nothing was changed.*{named}"):
        upgrade(engine)
    assert database_revision(engine) == "0018"
    assert _live(fin) == 3
    with fin.desk.db.unit_of_work() as session:
        session.execute(update(BankMatch).where(BankMatch.id == b).values(unmatched_at=utcnow()))
    upgrade(engine)
    assert database_revision(engine) == head_revision()
    assert _live(fin) == 2
    with pytest.raises(IntegrityError, match=REFUSED), fin.desk.db.unit_of_work() as session:
        session.add(_match(third, payment=payment))
