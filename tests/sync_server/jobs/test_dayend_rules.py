"""The day-end's rules one at a time: charges, disputes, borrower-wise NPA, promises,
reminders, loan history, the change log, the kill switch and date order."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from loancore.roles import Role
from loancore.schedule import Installment
from sync_server.db.engine import Database
from sync_server.db.models import (
    ChangeLogEntry,
    Charge,
    JobRun,
    LegalCase,
    LoanHistory,
    LoanState,
    Promise,
    Reminder,
)
from sync_server.errors import Conflict, FeatureDisabled
from sync_server.flags.service import set_flag
from sync_server.jobs import tasks
from sync_server.jobs.history import book_as_of
from sync_server.principal import Principal
from tests.sync_server.jobs.portfolio import (
    Ids,
    add_borrower,
    add_loan,
    clock_after,
    dpds,
    open_dispute,
    pay,
    promise,
    setup_org,
)

DUE = date(2026, 1, 10)
EMI = 5_000_00


@dataclass
class Org:
    ids: Ids
    collector: uuid.UUID


@pytest.fixture
def org(db: Database) -> Org:
    ids = Ids(3)
    with db.unit_of_work() as session:
        _, (collector, _) = setup_org(session, ids)
    return Org(ids, collector)


def loan(
    db: Database, org: Org, borrower: uuid.UUID | None = None, first_due: date = DUE
) -> uuid.UUID:
    """Three dues of ₹5,000 a month apart from `first_due`, interest-free."""
    with db.unit_of_work() as session:
        if borrower is None:
            borrower = add_borrower(session, org.ids, int(org.ids().int % 10**6))
        rows = [Installment(n, first_due + timedelta(days=30 * (n - 1)), EMI, 0) for n in (1, 2, 3)]
        return add_loan(
            session,
            org.ids,
            borrower_id=borrower,
            collector_id=org.collector,
            principal=3 * EMI,
            rate_bp=0,
            disbursed=first_due - timedelta(days=30),
            rows=rows,
        )


def borrower_of(db: Database, org: Org) -> uuid.UUID:
    with db.unit_of_work() as session:
        return add_borrower(session, org.ids, int(org.ids().int % 10**6))


def run(db: Database, day: date) -> None:
    tasks.run_day_end(db, day, clock_after(day))


def state(db: Database, loan_id: uuid.UUID) -> tuple[object, ...]:
    with db.read_only() as session:
        s = session.get(LoanState, loan_id)
        assert s is not None
        return (
            *dpds(session, s),
            s.bucket,
            s.asset_class,
            s.arrears_paise,
            s.charges_outstanding,
            s.dispute_open,
        )


def test_late_charge_is_levied_once_when_an_installment_reaches_dpd_5(
    db: Database, org: Org
) -> None:
    late, paid_on_day_4 = loan(db, org), loan(db, org)
    run(db, DUE + timedelta(days=3))
    with db.read_only() as session:
        assert session.execute(select(func.count()).select_from(Charge)).scalar_one() == 0
    with db.unit_of_work() as session:
        pay(session, org.ids, paid_on_day_4, EMI, DUE + timedelta(days=4), org.collector)
    run(db, DUE + timedelta(days=4))
    run(db, DUE + timedelta(days=10))
    with db.read_only() as session:
        charges = session.execute(
            select(
                Charge.loan_id,
                Charge.installment_seq,
                Charge.amount_paise,
                Charge.levied_on,
                Charge.source_key,
                Charge.kind,
            )
        ).all()
    assert [tuple(c) for c in charges] == [
        (late, 1, 500_00, DUE + timedelta(days=4), f"late:{late}:1", "penal")
    ]
    assert state(db, late)[5] == 500_00
    assert state(db, late)[:5] == (11, 11, "1-30", "SMA-0", EMI)


def test_a_dispute_freezes_collections_dpd_and_escalation_but_not_the_rbi_class(
    db: Database, org: Org
) -> None:
    loan_id = loan(db, org)
    run(db, DUE + timedelta(days=85))
    assert state(db, loan_id)[:2] == (86, 86)
    with db.unit_of_work() as session:
        open_dispute(session, org.ids, loan_id, DUE + timedelta(days=86), 86, org.collector)
    run(db, DUE + timedelta(days=95))
    assert state(db, loan_id) == (96, 86, "61-90", "NPA", 3 * EMI, 3 * 500_00, True)
    with db.read_only() as session:
        assert session.execute(select(func.count()).select_from(LegalCase)).scalar_one() == 0


def test_npa_is_borrower_wise_and_upgraded_together_once_all_arrears_are_paid(
    db: Database, org: Org
) -> None:
    borrower = borrower_of(db, org)
    deep = loan(db, org, borrower)
    sibling = loan(db, org, borrower, first_due=DUE + timedelta(days=85))
    run(db, DUE + timedelta(days=91))
    assert state(db, deep)[3] == "NPA"
    assert state(db, sibling)[:5] == (7, 7, "1-30", "NPA", EMI)
    day = DUE + timedelta(days=92)
    with db.unit_of_work() as session:
        pay(session, org.ids, deep, 10 * EMI, day, org.collector)
    run(db, day)
    assert state(db, deep)[:5] == (0, 0, "current", "NPA", 0), "the sibling still owes"
    day += timedelta(days=1)
    with db.unit_of_work() as session:
        pay(session, org.ids, sibling, EMI, day, org.collector)
    run(db, day)
    assert state(db, deep)[3] == state(db, sibling)[3] == "standard"


def test_promises_are_settled_a_day_after_the_promised_date_on_what_was_paid(
    db: Database, org: Org
) -> None:
    kept_loan, partly_loan, broken_loan = loan(db, org), loan(db, org), loan(db, org)
    promised = DUE + timedelta(days=5)
    made = DUE + timedelta(days=1)
    with db.unit_of_work() as session:
        kept = promise(session, org.ids, kept_loan, org.collector, EMI, promised, made)
        partly = promise(session, org.ids, partly_loan, org.collector, EMI, promised, made)
        broken = promise(session, org.ids, broken_loan, org.collector, EMI, promised, made)
        pay(session, org.ids, kept_loan, EMI, promised + timedelta(days=1), org.collector)
        pay(session, org.ids, partly_loan, 1_000_00, promised, org.collector)
    run(db, promised)
    with db.read_only() as session:
        outcomes = dict(session.execute(select(Promise.id, Promise.outcome)).all())
    assert set(outcomes.values()) == {"pending"}
    run(db, promised + timedelta(days=1))
    with db.read_only() as session:
        settled = {
            row.id: (row.outcome, row.paid_toward, row.decided_on)
            for row in session.execute(
                select(Promise.id, Promise.outcome, Promise.paid_toward, Promise.decided_on)
            )
        }
    decided = promised + timedelta(days=1)
    assert settled == {
        kept: ("kept", EMI, decided),
        partly: ("partly_kept", 1_000_00, decided),
        broken: ("broken", 0, decided),
    }


def test_reminders_come_the_day_before_and_on_the_promised_date_once_each(
    db: Database, org: Org
) -> None:
    loan_id = loan(db, org)
    promised = DUE + timedelta(days=10)
    with db.unit_of_work() as session:
        promise_id = promise(session, org.ids, loan_id, org.collector, EMI, promised, DUE)
    run(db, promised - timedelta(days=3))
    run(db, promised + timedelta(days=3))
    with db.read_only() as session:
        reminders = session.execute(
            select(
                Reminder.promise_id, Reminder.user_id, Reminder.kind, Reminder.remind_on
            ).order_by(Reminder.remind_on)
        ).all()
        pulled = session.execute(
            select(func.count()).where(
                ChangeLogEntry.entity == "reminder", ChangeLogEntry.collector_id == org.collector
            )
        ).scalar_one()
    assert [tuple(r) for r in reminders] == [
        (promise_id, org.collector, "day_before", promised - timedelta(days=1)),
        (promise_id, org.collector, "due_day", promised),
    ]
    assert pulled == 2


def test_each_day_end_records_every_loan_and_logs_only_loans_that_changed(
    db: Database, org: Org
) -> None:
    """The overdue loan changes once (it falls overdue); the next night its DPD grows with the
    date alone, so it is neither rewritten nor sent to the desks again."""
    overdue, current = loan(db, org), loan(db, org, first_due=DUE + timedelta(days=20))
    run(db, DUE)
    run(db, DUE + timedelta(days=1))
    with db.read_only() as session:
        books = {day: book_as_of(session, day) for day in (DUE, DUE + timedelta(days=1))}
        versions = session.execute(select(func.count()).select_from(LoanHistory)).scalar_one()
        logged = (
            session.execute(select(ChangeLogEntry.entity_id).where(ChangeLogEntry.entity == "loan"))
            .scalars()
            .all()
        )
    assert sorted(
        (day, str(row.loan_id), row.dpd) for day, rows in books.items() for row in rows
    ) == sorted(
        [
            (DUE, str(overdue), 1),
            (DUE, str(current), 0),
            (DUE + timedelta(days=1), str(overdue), 2),
            (DUE + timedelta(days=1), str(current), 0),
        ]
    )
    assert versions == 2, "a DPD that only grows with the calendar needs no new version"
    assert logged == [str(overdue)]


def test_the_kill_switch_stops_the_day_end_where_the_work_happens(db: Database, org: Org) -> None:
    loan(db, org)
    admin = Principal(org.collector, "collector0", Role.ADMIN, None)
    with db.unit_of_work() as session:
        set_flag(session, admin, "job_day_end", False)
    with pytest.raises(FeatureDisabled):
        run(db, DUE)
    with db.read_only() as session:
        assert session.execute(select(func.count()).select_from(JobRun)).scalar_one() == 0
    with db.unit_of_work() as session:
        set_flag(session, admin, "job_day_end", True)
    run(db, DUE)
    with db.read_only() as session:
        assert session.execute(select(JobRun.status)).scalar_one() == "done"


def test_day_ends_run_in_date_order_catching_up_missed_dates(db: Database, org: Org) -> None:
    loan(db, org)
    run(db, DUE)
    outcomes = tasks.run_day_end(db, DUE + timedelta(days=3), clock_after(DUE + timedelta(days=3)))
    assert [o.run_key for o in outcomes] == [
        (DUE + timedelta(days=n)).isoformat() for n in (1, 2, 3)
    ]
    with pytest.raises(Conflict, match="date order"):
        tasks.run_day_end(db, DUE - timedelta(days=1), clock_after(DUE + timedelta(days=5)))
    with pytest.raises(tasks.NotYetDue):
        tasks.run_day_end(db, DUE + timedelta(days=9), clock_after(DUE + timedelta(days=8)))
