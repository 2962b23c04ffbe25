"""A collector's week counted from the ledger: money applied to what was due (never a
foreclosure's or an advance's principal), arrears and buckets carried into a first week from the
schedules and payments, and no promise points where no promise fell due."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from loancore.schedule import Installment
from sync_server.db.engine import Database
from sync_server.db.models import AllocationLine, CollectorScore, Loan, Payment, PaymentReversal
from sync_server.jobs import tasks
from sync_server.scores import tasks as score_tasks
from sync_server.scores.figures import collector_weeks
from tests.sync_server.jobs.portfolio import (
    Ids,
    add_borrower,
    add_loan,
    clock_after,
    open_dispute,
    pay,
    promise,
    setup_org,
)

MONDAY = date(2026, 3, 2)
SUNDAY = date(2026, 3, 8)
BEFORE = MONDAY - timedelta(days=1)
EMI = 5_000_00
PRINCIPAL, INTEREST = 4_000_00, 1_000_00


def loan(session: Session, ids: Ids, collector: uuid.UUID, dues: Sequence[date]) -> uuid.UUID:
    """A loan of one EMI (₹4,000 principal + ₹1,000 interest) on each of `dues`."""
    borrower = add_borrower(session, ids, int(ids().int % 10**6))
    rows = [Installment(n, due, PRINCIPAL, INTEREST) for n, due in enumerate(dues, start=1)]
    return add_loan(
        session,
        ids,
        borrower_id=borrower,
        collector_id=collector,
        principal=PRINCIPAL * len(rows),
        rate_bp=0,
        disbursed=dues[0] - timedelta(days=30),
        rows=rows,
    )


def scores(db: Database) -> dict[uuid.UUID, tuple[int | None, ...]]:
    """(accounts, due, collected, promises due, kept, rolled, contacted, score) per collector."""
    with db.read_only() as session:
        rows = session.execute(select(CollectorScore)).scalars().all()
        return {
            r.collector_id: (
                r.accounts,
                r.due_paise,
                r.collected_paise,
                r.promises_due,
                r.promises_kept,
                r.rolled_forward,
                r.contacted,
                r.score_bp,
            )
            for r in rows
        }


def prepaid(db: Database, collector: uuid.UUID) -> int:
    with db.read_only() as session:
        return session.execute(
            select(CollectorScore.prepaid_paise).where(CollectorScore.collector_id == collector)
        ).scalar_one()


def test_a_foreclosure_among_arrears_does_not_cover_the_unpaid_installments(db: Database) -> None:
    """One borrower owes last month's EMI and this week's; another forecloses in the week.
    Only the foreclosure's part for this week's EMI is collection against demand: its advance
    principal is a prepayment, shown apart, and does not raise efficiency."""
    ids = Ids(21)
    with db.unit_of_work() as session:
        _, (a, _b) = setup_org(session, ids)
        loan(session, ids, a, [date(2026, 2, 20), date(2026, 3, 4), date(2026, 4, 4)])
        closing = loan(
            session, ids, a, [date(2026, 2, 5) + timedelta(days=30 * k) for k in range(6)]
        )
        pay(session, ids, closing, EMI, date(2026, 2, 5), a)
    tasks.run_day_end(db, BEFORE, clock_after(BEFORE))
    with db.unit_of_work() as session:
        paid = pay(session, ids, closing, 100 * EMI, date(2026, 3, 6), a, foreclosure=True)
        session.execute(
            update(Loan)
            .where(Loan.id == closing)
            .values(status="closed", closed_on=date(2026, 3, 6))
        )
    assert paid == 5 * EMI
    tasks.run_day_end(db, SUNDAY, clock_after(SUNDAY))
    score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY))
    # demand: the arrears and this week's EMI of the first loan, this week's EMI of the second;
    # efficiency 1/3, no promise due, nothing rolled, one of two contacted:
    # (50 × 1/3 + 15 × 1 + 15 × 1/2) of 80 points = 48.96
    assert scores(db)[a] == (2, 3 * EMI, EMI, 0, 0, 0, 1, 4_896)
    assert prepaid(db, a) == 4 * EMI


def test_a_first_week_carries_its_arrears_and_buckets_in_from_the_ledger(db: Database) -> None:
    """No day-end ran before the week: the arrears and the bucket at its start come from the
    schedules and the payments dated before it. A loan already 31–60 is not counted as rolled;
    a loan that slipped from Current to 1–30 in the week is."""
    ids = Ids(22)
    with db.unit_of_work() as session:
        _, (a, _b) = setup_org(session, ids)
        loan(session, ids, a, [date(2026, 1, 20), date(2026, 2, 20), date(2026, 3, 20)])
        slipping = loan(session, ids, a, [date(2026, 2, 4), date(2026, 3, 4), date(2026, 4, 4)])
        pay(session, ids, slipping, EMI, date(2026, 2, 4), a)
    tasks.run_day_end(db, SUNDAY, clock_after(SUNDAY))
    score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY))
    # demand: two EMIs in arrears + one falling due; nothing collected, 1 of 2 rolled, no
    # contact: (50 × 0 + 15 × 1/2 + 15 × 0) of 80 points = 9.38
    assert scores(db)[a] == (2, 3 * EMI, 0, 0, 0, 1, 0, 938)


def test_a_week_with_no_promise_due_scores_the_other_factors_out_of_one_hundred(
    db: Database,
) -> None:
    """Collector A had no promise fall due: the promise factor does not apply and the other
    weights scale up. Collector B kept the one promise due and earns its points."""
    ids = Ids(23)
    with db.unit_of_work() as session:
        _, (a, b) = setup_org(session, ids)
        half = loan(session, ids, a, [date(2026, 3, 3), date(2026, 4, 3)])
        pay(session, ids, half, EMI // 2, date(2026, 3, 3), a)
        kept = loan(session, ids, b, [date(2026, 3, 2), date(2026, 4, 2)])
        promise(session, ids, kept, b, EMI, date(2026, 3, 4), date(2026, 3, 1))
    tasks.run_day_end(db, BEFORE, clock_after(BEFORE))
    with db.unit_of_work() as session:
        pay(session, ids, kept, EMI, date(2026, 3, 4), b)
    tasks.run_day_end(db, SUNDAY, clock_after(SUNDAY))
    score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY))
    # A: (50 × 1/2 + 15 × 0 + 15 × 1) of 80 points = 50.00 (not 60 with 20 free points)
    assert scores(db) == {
        a: (1, EMI, EMI // 2, 0, 0, 1, 1, 5_000),
        b: (1, EMI, EMI, 1, 1, 0, 1, 10_000),
    }


def test_an_installment_paid_ahead_before_the_week_is_not_asked_for_again(db: Database) -> None:
    """Last week's advance already paid this week's EMI: it is not demand again (so the borrower
    who paid early does not count against the collector), and the week's own payment for the
    next EMI is a prepayment."""
    ids = Ids(24)
    with db.unit_of_work() as session:
        _, (a, _b) = setup_org(session, ids)
        early = loan(session, ids, a, [date(2026, 2, 4), date(2026, 3, 4), date(2026, 4, 4)])
        pay(session, ids, early, 2 * EMI, date(2026, 2, 4), a)
        on_time = loan(session, ids, a, [date(2026, 2, 5), date(2026, 3, 5), date(2026, 4, 5)])
        pay(session, ids, on_time, EMI, date(2026, 2, 5), a)
    tasks.run_day_end(db, BEFORE, clock_after(BEFORE))
    with db.unit_of_work() as session:
        pay(session, ids, early, EMI, date(2026, 3, 5), a)
        pay(session, ids, on_time, EMI, date(2026, 3, 5), a)
    tasks.run_day_end(db, SUNDAY, clock_after(SUNDAY))
    score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY))
    # demand: only the second loan's EMI; collected in full; both contacted
    assert scores(db)[a] == (2, EMI, EMI, 0, 0, 0, 2, 10_000)
    assert prepaid(db, a) == EMI


def test_a_reversed_payment_collects_nothing(db: Database) -> None:
    """A payment in the week whose reversal was approved: its allocation is undone by the
    reversal's negative lines, so nothing was collected and the account was not contacted."""
    ids = Ids(25)
    with db.unit_of_work() as session:
        _, (a, b) = setup_org(session, ids)
        bounced = loan(session, ids, a, [date(2026, 3, 4), date(2026, 4, 4)])
    tasks.run_day_end(db, BEFORE, clock_after(BEFORE))
    with db.unit_of_work() as session:
        pay(session, ids, bounced, EMI, date(2026, 3, 4), a)
        payment = session.execute(select(Payment).where(Payment.loan_id == bounced)).scalar_one()
        reversal = PaymentReversal(
            id=ids(),
            payment_id=payment.id,
            kind="bounce",
            reason="cheque returned",
            status="approved",
            requested_by=a,
            decided_by=b,
        )
        session.add(reversal)
        session.flush()
        lines = session.execute(
            select(AllocationLine).where(AllocationLine.payment_id == payment.id)
        ).scalars()
        session.add_all(
            AllocationLine(
                payment_id=payment.id,
                loan_id=bounced,
                component=line.component,
                amount_paise=-line.amount_paise,
                installment_seq=line.installment_seq,
                advance=line.advance,
                reversal_id=reversal.id,
            )
            for line in list(lines)
        )
    tasks.run_day_end(db, SUNDAY, clock_after(SUNDAY))
    score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY))
    assert scores(db)[a][1:3] == (EMI, 0)
    assert scores(db)[a][6] == 0


def test_a_first_week_starts_a_disputed_loan_from_its_frozen_bucket(db: Database) -> None:
    """The dispute opened when the loan was 31–60 and froze it there; the borrower then paid
    the arrears. With no day-end before the week, its start is the frozen bucket (as the
    collections view held it), not the ledger's Current: it did not roll during the week."""
    ids = Ids(26)
    with db.unit_of_work() as session:
        _, (a, b) = setup_org(session, ids)
        disputed = loan(session, ids, a, [date(2026, 1, 10), date(2026, 2, 10), date(2026, 4, 10)])
        open_dispute(session, ids, disputed, date(2026, 2, 20), 41, b)
        pay(session, ids, disputed, 2 * EMI, date(2026, 2, 25), a)
    tasks.run_day_end(db, SUNDAY, clock_after(SUNDAY))
    score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY))
    assert scores(db)[a][5] == 0


def test_an_installment_due_on_the_weeks_sunday_is_demand_and_rolls_the_loan(db: Database) -> None:
    """The week runs Monday to Sunday, both days in it. An EMI due on the Sunday and unpaid is
    overdue at that night's day-end (DPD 1, 1–30): it is demand, and its Current loan rolled.
    An EMI due the Sunday before, part paid before the week, is carried in: its loan was 1–30
    at the start already and did not roll. (The demo's LDKOPPL000186 is one or the other,
    depending on the day the demo book was built.)"""
    ids = Ids(27)
    with db.unit_of_work() as session:
        _, (a, _b) = setup_org(session, ids)
        on_sunday = loan(session, ids, a, [date(2026, 2, 8), SUNDAY, date(2026, 4, 8)])
        pay(session, ids, on_sunday, EMI, date(2026, 2, 8), a)
        before = loan(session, ids, a, [date(2026, 1, 1), BEFORE, date(2026, 4, 1)])
        pay(session, ids, before, EMI, date(2026, 1, 1), a)
        pay(session, ids, before, 3 * EMI // 5, BEFORE, a)
    tasks.run_day_end(db, SUNDAY, clock_after(SUNDAY))
    score_tasks.run_weekly(db, MONDAY, clock_after(SUNDAY))
    # demand: Sunday's EMI + the 2/5 EMI carried in; nothing collected, 1 of 2 rolled,
    # no contact: (15 × 1/2) of 80 points = 9.38
    assert scores(db)[a] == (2, EMI + 2 * EMI // 5, 0, 0, 0, 1, 0, 938)


def test_the_weeks_end_without_a_day_end_reads_the_ledger_as_its_start_does(
    db: Database,
) -> None:
    """Both ends of the week are the book as of that date (jobs.history.book_as_of_sql): a loan
    with no day-end by the Sunday (a book brought in later, its history from the ledger) is
    read from its ledger at the end as at the start, so a loan that slipped from Current to
    1–30 in the week rolled, and one already 31–60 did not."""
    ids = Ids(28)
    with db.unit_of_work() as session:
        _, (a, _b) = setup_org(session, ids)
        slipping = loan(session, ids, a, [date(2026, 2, 4), date(2026, 3, 4), date(2026, 4, 4)])
        pay(session, ids, slipping, EMI, date(2026, 2, 4), a)
        loan(session, ids, a, [date(2026, 1, 20), date(2026, 2, 20), date(2026, 3, 20)])
    with db.unit_of_work() as session:
        week = collector_weeks(session, MONDAY)[a]
    assert (week.counts.accounts, week.counts.rolled_forward) == (2, 1)
    assert week.counts.demand_paise == 3 * EMI
