from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from loancore.delinquency import dpd_on
from sync_server.audit.service import verify_chain
from sync_server.auth import passwords
from sync_server.auth.passwords import verify_password
from sync_server.db.engine import Database
from sync_server.db.models import (
    AllocationLine,
    AuditEntry,
    BankAccount,
    Branch,
    ChangeLogEntry,
    Charge,
    CollectorScore,
    InstallmentState,
    JobRun,
    Loan,
    LoanState,
    Payment,
    ScheduleRow,
    User,
)
from sync_server.demo import (
    DEMO_PASSWORD,
    DemoSummary,
    demo_users,
    describe,
    plan_demo,
    seed_demo,
    write_book,
)
from sync_server.demo.history import BookedLoan, post_history
from sync_server.demo.timeline import cut_off, post_planned
from sync_server.errors import Conflict
from sync_server.jobs.history import book_as_of
from sync_server.jobs.reference import reference_day_end
from sync_server.loans.dpd import dpd_as_of
from sync_server.principal import Principal
from sync_server.scores.weekly import week_key
from tests import dbs

TODAY = date(2026, 11, 27)
LOANS = 20
_real_hash = passwords.hash_password


@functools.lru_cache(maxsize=2)
def _hash_once(password: str) -> str:
    return _real_hash(password)


@pytest.fixture(autouse=True)
def _hash_each_password_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 costs 0.6 s a user by design; the demo makes 13 users with one password."""
    monkeypatch.setattr(passwords, "hash_password", _hash_once)


def test_the_demo_book_follows_its_seed_and_covers_every_bucket(db: Database) -> None:
    plan = plan_demo(LOANS, 7, TODAY)
    assert plan == plan_demo(LOANS, 7, TODAY)
    assert plan != plan_demo(LOANS, 8, TODAY)
    summary = seed_demo(db, loans=LOANS, seed=7, today=TODAY)
    assert summary.loans == LOANS
    assert summary.day_end_ran
    for bucket in ("current", "1-30", "31-60", "61-90", "90+", "closed"):
        assert summary.buckets.get(bucket, 0) > 0, (bucket, summary.buckets)
    assert summary.legal_cases > 0
    with db.read_only() as session:
        booked = session.execute(
            select(Loan.account_no, Loan.principal_paise, Loan.tenure_months).order_by(
                Loan.account_no
            )
        ).all()
        paid = session.execute(
            select(Loan.account_no, Payment.payment_date, Payment.amount_paise)
            .join(Loan, Loan.id == Payment.loan_id)
            .where(Payment.status == "posted")
        ).all()
        day_end_rows = session.execute(
            select(LoanState.loan_id).where(LoanState.as_of == TODAY.replace(day=26))
        ).first()
        admin = session.execute(select(User).where(User.username == "admin")).scalar_one()
        assert verify_password(admin.password_hash, DEMO_PASSWORD)
        roles = set(session.execute(select(User.role)).scalars())
    assert day_end_rows is not None
    assert [tuple(row) for row in booked] == sorted(
        (p.new.account_no, p.new.principal_paise, p.new.tenure_months) for p in plan
    )
    planned = sorted(
        (p.new.account_no, pay.day, pay.amount_paise)
        for p in plan
        for pay in p.payments
        if pay.amount_paise
    )
    assert set(planned) <= {tuple(row) for row in paid}
    assert len(paid) == summary.payments
    assert roles == {"admin", "branch_manager", "collector", "finance", "legal", "auditor"}
    printed = describe(summary)
    assert DEMO_PASSWORD in printed
    assert f"{LOANS} loans" in printed
    assert f"Collector scores: {summary.weeks_scored} closed weeks" in printed
    assert "HDFC-PNC (Pune Camp)" in printed
    with db.read_only() as session:
        accounts = session.execute(
            select(BankAccount.code, Branch.code, BankAccount.active)
            .join(Branch, Branch.id == BankAccount.branch_id)
            .order_by(BankAccount.code)
        ).all()
    assert [tuple(a) for a in accounts] == [
        ("HDFC-KOP", "KOP", True),
        ("HDFC-NSK", "NSK", True),
        ("HDFC-PNC", "PNC", True),
    ], "one collection account per branch, so a branch can deposit cash from the start"
    with pytest.raises(Conflict, match="already holds the demo"):
        seed_demo(db, loans=LOANS, seed=7, today=TODAY)


@pytest.fixture
def twin_db(db_kind: str, tmp_path: Path, _template_root: Path) -> Iterator[Database]:
    """A second empty database of the same kind, for writing one plan two ways."""
    url = dbs.fresh_database_url(db_kind, tmp_path, _template_root)
    database = Database(url)
    yield database
    database.dispose()
    dbs.drop_database(url)


def _record_one_by_one(
    db: Database, booked: list[BookedLoan], principals: dict[str, Principal]
) -> int:
    """The plan's payments through `record_payment`, one transaction each: the path to match."""
    count = 0
    for loan in booked:
        for n, pay in enumerate(loan.planned.payments):
            with db.unit_of_work() as session:
                count += post_planned(session, db, loan, n, pay, principals)
    return count


def _without_ids(text: str | None, account_nos: dict[str, str]) -> Any:
    """An audit position with the loan's id (minted per database) put as its account number."""
    data = json.loads(text or "null")
    if isinstance(data, dict) and "payment" in data:
        data["payment"]["loan_id"] = account_nos[data["payment"]["loan_id"]]
    return data


def _snapshot(db: Database) -> dict[str, Any]:
    """Everything a posting writes, keyed by account number and payment reference (ids and
    content hashes, which cover the loan id, differ between two databases by construction)."""
    with db.read_only() as session:
        accounts = {str(k): v for k, v in session.execute(select(Loan.id, Loan.account_no))}
        by_loan = {uuid.UUID(k): v for k, v in accounts.items()}
        users = dict(session.execute(select(User.id, User.username)).all())
        payments = session.execute(select(Payment).order_by(Payment.reference)).scalars().all()
        references = {p.id: p.reference for p in payments}
        lines = session.execute(select(AllocationLine).order_by(AllocationLine.id)).scalars()
        states = session.execute(select(LoanState)).scalars().all()
        installments = session.execute(select(InstallmentState)).scalars().all()
        loans = session.execute(select(Loan.account_no, Loan.status, Loan.closed_on)).all()
        entries = session.execute(
            select(AuditEntry).where(AuditEntry.action == "payment.post").order_by(AuditEntry.id)
        ).scalars()
        changes = session.execute(
            select(ChangeLogEntry.entity, func.count()).group_by(ChangeLogEntry.entity)
        ).all()
        return {
            "payments": [
                (
                    by_loan[p.loan_id],
                    p.reference,
                    p.amount_paise,
                    p.mode,
                    p.payment_date,
                    p.foreclosure,
                    p.status,
                    users[p.recorded_by],
                    p.recorded_at,
                    p.posted_at,
                    p.device_id,
                )
                for p in payments
            ],
            "lines": sorted(
                (
                    references[line.payment_id],
                    line.id,
                    line.component,
                    line.amount_paise,
                    line.installment_seq,
                    line.advance,
                    line.charge_id,
                )
                for line in lines
            ),
            "states": sorted(
                (by_loan[s.loan_id], *(getattr(s, c) for c in STATE_COLUMNS)) for s in states
            ),
            "installments": sorted(
                (by_loan[i.loan_id], i.seq, i.interest_paid, i.principal_paid, i.paid_off_on)
                for i in installments
            ),
            "loans": sorted(tuple(row) for row in loans),
            "audit": [
                (
                    e.actor_username,
                    _without_ids(e.before, accounts),
                    _without_ids(e.after, accounts),
                )
                for e in entries
            ],
            "changes": sorted(tuple(row) for row in changes),
        }


STATE_COLUMNS = (
    "principal_outstanding",
    "interest_paid_total",
    "installments_paid_total",
    "charges_outstanding",
    "excess_paise",
    "oldest_unpaid_seq",
    "oldest_unpaid_due",
    "next_due_date",
    "last_payment_date",
    "overdue_since",
    "collections_since",
    "bucket",
)


def _relative_line_order(snapshot: dict[str, Any]) -> dict[str, Any]:
    """Allocation lines by payment in id order, without the ids themselves."""
    lines: dict[str, list[tuple[Any, ...]]] = {}
    for reference, _, *rest in sorted(snapshot["lines"], key=lambda line: line[1]):
        lines.setdefault(reference, []).append(tuple(rest))
    return {**snapshot, "lines": lines}


def test_the_bulk_history_books_exactly_what_record_payment_would(
    db: Database, twin_db: Database
) -> None:
    plan = plan_demo(14, 11, TODAY)
    users = demo_users()
    bulk_book, bulk_people = write_book(db, plan, users)
    one_book, one_people = write_book(twin_db, plan, users)
    bulk = post_history(db, bulk_book, bulk_people)
    one_by_one = _record_one_by_one(twin_db, one_book, one_people)
    assert bulk == one_by_one > 14
    bulk_snapshot = _relative_line_order(_snapshot(db))
    one_snapshot = _relative_line_order(_snapshot(twin_db))
    assert {state[1] for state in bulk_snapshot["loans"]} == {"active", "closed"}
    for part in bulk_snapshot:
        assert bulk_snapshot[part] == one_snapshot[part], part
    with db.read_only() as session:
        assert verify_chain(session).ok


def test_a_plan_the_posting_rules_would_refuse_is_refused_whole(db: Database) -> None:
    plan = plan_demo(3, 7, TODAY)
    doubled = replace(plan[0], payments=plan[0].payments + plan[0].payments[-1:])
    assert doubled.payments, "the first planned loan pays something"
    booked, principals = write_book(db, [doubled, *plan[1:]], demo_users())
    with pytest.raises(ValueError, match="not bookable"):
        post_history(db, booked, principals)
    with db.read_only() as session:
        assert session.execute(select(func.count()).select_from(Payment)).scalar_one() == 0


LIVED_LOANS = 48
"""Enough loans for every one of the six collectors to have accounts every week."""


@pytest.fixture(scope="module")
def _lived_books() -> Iterator[dict[str, tuple[str, DemoSummary]]]:
    built: dict[str, tuple[str, DemoSummary]] = {}
    yield built
    for url, _ in built.values():
        dbs.drop_database(url)


@pytest.fixture
def lived_demo(
    db_kind: str,
    _lived_books: dict[str, tuple[str, DemoSummary]],
    tmp_path_factory: pytest.TempPathFactory,
    _template_root: Path,
) -> Iterator[tuple[Database, DemoSummary]]:
    """The demo with its last weeks lived day by day, seeded once per database kind (forty
    day-ends and five weekly runs): the tests that take it only read it."""
    if db_kind not in _lived_books:
        url = dbs.fresh_database_url(db_kind, tmp_path_factory.mktemp("lived"), _template_root)
        seeded = Database(url)
        summary = seed_demo(seeded, loans=LIVED_LOANS, seed=7, today=TODAY)
        seeded.dispose()
        _lived_books[db_kind] = (url, summary)
    url, summary = _lived_books[db_kind]
    database = Database(url)
    yield database, summary
    database.dispose()


def test_the_last_weeks_are_lived_day_by_day_and_scored_by_the_weekly_job(
    lived_demo: tuple[Database, DemoSummary],
) -> None:
    db, summary = lived_demo
    yesterday = TODAY - timedelta(days=1)
    first = cut_off(TODAY)
    assert first == date(2026, 10, 19)  # Friday 27-11: the last closed week began 16-11
    weeks = [first + timedelta(weeks=k) for k in range(5)]
    assert (summary.weeks_scored, summary.first_day) == (len(weeks), first)
    assert summary.day_ends == (yesterday - first).days + 1
    with db.read_only() as session:
        collectors = set(session.execute(select(User.id).where(User.role == "collector")).scalars())
        cs = CollectorScore
        scores = session.execute(
            select(
                cs.week_start,
                cs.collector_id,
                cs.due_paise,
                cs.collected_paise,
                cs.prepaid_paise,
                cs.score_bp,
            )
        ).all()
        runs = session.execute(select(JobRun.job, JobRun.run_key, JobRun.status)).all()
        paid = session.execute(
            select(Loan.collector_id, Payment.payment_date, Payment.amount_paise).join(
                Loan, Loan.id == Payment.loan_id
            )
        ).all()
    assert len(collectors) == 6
    assert {(s.week_start, s.collector_id) for s in scores} == {
        (week, who) for week in weeks for who in collectors
    }
    for score in scores:
        week_end = score.week_start + timedelta(days=6)
        paid_in_week = sum(
            amount
            for who, day, amount in paid
            if who == score.collector_id and score.week_start <= day <= week_end
        )
        # Collected is what the week's payments applied to what was due; the rest of their
        # interest and principal is prepaid; charges and excess are in neither.
        assert score.collected_paise <= score.due_paise, (score.week_start, score.collector_id)
        assert score.collected_paise + score.prepaid_paise <= paid_in_week
    assert sum(s.collected_paise for s in scores) > 0
    assert len({s.score_bp for s in scores}) > 1, "a ranking needs scores that differ"
    assert {(job, key) for job, key, status in runs if status == "done"} == {
        ("day_end", (first + timedelta(days=k)).isoformat()) for k in range(summary.day_ends)
    } | {("weekly_scores", week_key(week)) for week in weeks}
    assert {status for *_, status in runs} == {"done"}


def test_each_day_end_saw_only_the_payments_made_by_its_day(
    lived_demo: tuple[Database, DemoSummary],
) -> None:
    """A payment made late shows as overdue at the day-ends before it, and the book at the end
    is what one day-end for yesterday makes of the final positions."""
    db, _ = lived_demo
    first, yesterday = cut_off(TODAY), TODAY - timedelta(days=1)
    plan = {p.new.account_no: p for p in plan_demo(LIVED_LOANS, 7, TODAY)}
    with db.read_only() as session:
        late = session.execute(
            select(Payment.loan_id, Payment.payment_date, func.min(ScheduleRow.due_date))
            .join(AllocationLine, AllocationLine.payment_id == Payment.id)
            .join(
                ScheduleRow,
                (ScheduleRow.loan_id == Payment.loan_id)
                & (ScheduleRow.seq == AllocationLine.installment_seq),
            )
            .where(Payment.payment_date > first, AllocationLine.advance.is_(False))
            .group_by(Payment.id, Payment.loan_id, Payment.payment_date)
            .having(func.min(ScheduleRow.due_date) < Payment.payment_date)
        ).all()
        assert len(late) >= 3
        for loan_id, paid_on, due in late:
            before = {row.loan_id: row.dpd for row in book_as_of(session, paid_on - timedelta(1))}
            assert before[loan_id] >= (paid_on - due).days, (loan_id, paid_on, due)
        expected = reference_day_end(session, yesterday)
        as_of = dpd_as_of(session)
        assert as_of == yesterday
        figures = ("bucket", "asset_class", "arrears_paise")
        columns = [getattr(LoanState, name) for name in figures]
        states = {
            loan_id: (dpd_on(overdue, as_of), dpd_on(collections, as_of), *rest)
            for loan_id, overdue, collections, *rest in session.execute(
                select(
                    LoanState.loan_id,
                    LoanState.overdue_since,
                    LoanState.collections_since,
                    *columns,
                )
            )
        }
        accounts = {i: a for i, a in session.execute(select(Loan.id, Loan.account_no))}
        charged = set(session.execute(select(Charge.loan_id)).scalars())
    assert len(expected) > LIVED_LOANS // 2
    for loan_id, ref in expected.items():
        state, r = states[loan_id], ref.state
        computed = (r.dpd, r.collections_dpd, r.bucket.value, r.asset_class.value, r.arrears)
        assert state == computed, accounts[loan_id]
        assert (ref.escalate, ref.late_charge_seqs) == (False, ()), loan_id
        profile = plan[accounts[loan_id]].profile
        assert state[2] == ("current" if profile == "fresh" else profile), accounts[loan_id]
        if profile in ("current", "fresh"):
            assert loan_id not in charged, "an on-time payer was charged: a day-end ran early"


def _outcome(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Loans, payments, final positions and scores, by account number and username (the ids
    are minted per database)."""
    by_account = Loan.account_no
    score = [c for c in CollectorScore.__table__.columns if c.name != "collector_id"]
    queries = {
        "loans": select(by_account, Loan.status, Loan.closed_on),
        "payments": select(
            by_account, Payment.reference, Payment.amount_paise, Payment.payment_date
        ).join(Loan, Loan.id == Payment.loan_id),
        "states": select(
            by_account,
            LoanState.overdue_since,
            LoanState.collections_since,
            LoanState.bucket,
            LoanState.charges_outstanding,
        ).join(Loan, Loan.id == LoanState.loan_id),
        "scores": select(User.username, *score).join(User, User.id == CollectorScore.collector_id),
    }
    with db.read_only() as session:
        return {key: sorted(tuple(row) for row in session.execute(q)) for key, q in queries.items()}


def test_the_lived_demo_follows_its_seed(db: Database, twin_db: Database) -> None:
    seed_demo(db, loans=LOANS, seed=5, today=TODAY)
    seed_demo(twin_db, loans=LOANS, seed=5, today=TODAY)
    once, twice = _outcome(db), _outcome(twin_db)
    assert min(len(once["scores"]), len(once["payments"])) > 0
    assert once == twice
