"""A charge the day-end levies reaches the desks: the loan is logged as changed, and its view
carries the charge, so a desk's provisional split can pay it as the server will."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import func, select

from loancore.loan_dues import dues_of_view
from loancore.schedule import Installment
from sync_server.db.engine import Database
from sync_server.db.models import ChangeLogEntry, Charge
from sync_server.jobs import tasks
from sync_server.sync.views import loan_views
from tests.sync_server.jobs.portfolio import Ids, add_borrower, add_loan, clock_after, setup_org

DUE = date(2026, 1, 10)
EMI = 5_000_00


def _overdue_loan(db: Database) -> uuid.UUID:
    ids = Ids(3)
    with db.unit_of_work() as session:
        _, (collector, _) = setup_org(session, ids)
        borrower = add_borrower(session, ids, 1)
        rows = [Installment(n, DUE + timedelta(days=30 * (n - 1)), EMI, 0) for n in (1, 2, 3)]
        return add_loan(
            session,
            ids,
            borrower_id=borrower,
            collector_id=collector,
            principal=3 * EMI,
            rate_bp=0,
            disbursed=DUE - timedelta(days=30),
            rows=rows,
        )


def _loan_logged_since(db: Database, loan_id: uuid.UUID, seq: int) -> bool:
    with db.read_only() as session:
        return bool(
            session.execute(
                select(func.count())
                .select_from(ChangeLogEntry)
                .where(
                    ChangeLogEntry.entity == "loan",
                    ChangeLogEntry.entity_id == str(loan_id),
                    ChangeLogEntry.seq > seq,
                )
            ).scalar_one()
        )


def test_a_levied_charge_sends_its_loan_again_with_the_charge_in_its_view(db: Database) -> None:
    loan_id = _overdue_loan(db)
    levy_day = DUE + timedelta(days=4)
    tasks.run_day_end(db, levy_day - timedelta(days=1), clock_after(levy_day - timedelta(days=1)))
    with db.read_only() as session:
        before = session.execute(select(func.max(ChangeLogEntry.seq))).scalar_one()
        assert session.execute(select(func.count()).select_from(Charge)).scalar_one() == 0
    tasks.run_day_end(db, levy_day, clock_after(levy_day))
    assert _loan_logged_since(db, loan_id, before)
    with db.read_only() as session:
        (charge_id,) = session.execute(select(Charge.id)).scalars().all()
        view = loan_views(session, [loan_id])[loan_id]
    assert view["charges"] == [
        {
            "charge_id": str(charge_id),
            "kind": "penal",
            "levied_on": levy_day.isoformat(),
            "outstanding": 500_00,
        }
    ]
    assert dues_of_view(view).charges[0].outstanding == 500_00
