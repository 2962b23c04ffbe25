"""Writing the demo plan: the organisation (branches, each with its collection account at
HDFC Bank, users, products), the loans, their older histories in bulk, then the
last weeks day by day (payments, casework, day-ends, weekly scores; see timeline.py), so that
every figure on screen comes out of the real paths."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from loancore.roles import Role
from sync_server.audit import service as audit
from sync_server.auth.service import create_user
from sync_server.banks.service import create_account
from sync_server.db.engine import Database
from sync_server.db.models import Branch, LegalCase, Loan, LoanState, Product
from sync_server.demo.casework import collections_work
from sync_server.demo.history import BookedLoan, post_history
from sync_server.demo.plan import (
    BRANCHES,
    DEMO_PASSWORD,
    PRODUCTS,
    PROFILES,
    DemoUser,
    PlannedLoan,
    demo_users,
    plan_demo,
)
from sync_server.demo.timeline import SCORED_WEEKS, cut_off, history_before, live_days
from sync_server.errors import Conflict
from sync_server.loans.book import create_loans_bulk
from sync_server.principal import SYSTEM, Principal

LOAN_CHUNK = 2000


@dataclass
class DemoSummary:
    loans: int = 0
    borrowers: int = 0
    payments: int = 0
    promises: int = 0
    disputes: int = 0
    legal_cases: int = 0
    contacts: int = 0
    by_profile: dict[str, int] = field(default_factory=dict)
    buckets: dict[str, int] = field(default_factory=dict)
    users: tuple[DemoUser, ...] = ()
    accounts: tuple[str, ...] = ()
    """The collection accounts set up, one per branch, as "HDFC-PNC (Pune Camp)"."""
    day_end_ran: bool = False
    day_ends: int = 0
    weeks_scored: int = 0
    first_day: date | None = None
    seconds: float = 0.0


def _write_org(
    session: Session, users: tuple[DemoUser, ...]
) -> tuple[dict[str, int], dict[str, Principal]]:
    if session.execute(select(Branch.id).where(Branch.code == BRANCHES[0][0])).first():
        raise Conflict("This database already holds the demo book; start from an empty one")
    branch_ids: dict[str, int] = {}
    for code, name, _, _ in BRANCHES:
        branch = Branch(code=code, name=name)
        session.add(branch)
        session.flush()
        branch_ids[code] = branch.id
    session.execute(
        insert(Product),
        [
            {"code": code, "name": name, "allocation_strategy": strategy}
            for code, name, strategy, *_ in PRODUCTS
        ],
    )
    for number, (code, _name, _, pin) in enumerate(BRANCHES, start=1):  # HDFC-PNC, HDFC-NSK, …
        create_account(
            session,
            SYSTEM,
            code=f"HDFC-{code}",
            bank_name="HDFC Bank",
            account_no=f"50200{pin}{number:05d}",
            ifsc=f"HDFC000{pin}",
            branch_id=branch_ids[code],
        )
    principals: dict[str, Principal] = {}
    for user in users:
        branch_id = branch_ids[user.branch_code] if user.branch_code else None
        made = create_user(
            session,
            actor=None,
            username=user.username,
            full_name=user.full_name,
            role=user.role,
            branch_id=branch_id,
            password=user.password,
        )
        principals[user.username] = Principal(made.id, made.username, Role(user.role), branch_id)
    audit.record(
        session,
        actor=SYSTEM,
        action="demo.seed",
        entity="demo",
        after={"branches": list(branch_ids), "users": [u.username for u in users]},
    )
    return branch_ids, principals


def write_book(
    db: Database, plan: Sequence[PlannedLoan], users: tuple[DemoUser, ...]
) -> tuple[list[BookedLoan], dict[str, Principal]]:
    """The branches, products, users and loans of the plan, with no payments yet."""
    with db.unit_of_work() as session:
        branch_ids, principals = _write_org(session, users)
    booked: list[BookedLoan] = []
    for start in range(0, len(plan), LOAN_CHUNK):
        chunk = plan[start : start + LOAN_CHUNK]
        news = []
        for p in chunk:
            collector = principals[f"col.{p.branch_code.lower()}{p.collector_no}"].user_id
            news.append(replace(p.new, branch_id=branch_ids[p.branch_code], collector_id=collector))
        with db.unit_of_work() as session:
            ids = create_loans_bulk(session, SYSTEM, news)
        booked += [
            BookedLoan(loan_id, p, new) for loan_id, p, new in zip(ids, chunk, news, strict=True)
        ]
    return booked, principals


def seed_demo(
    db: Database,
    *,
    loans: int = 300,
    seed: int = 7,
    today: date,
    scored_weeks: int = SCORED_WEEKS,
) -> DemoSummary:
    """Write the demo book into an empty, migrated database, living its last `scored_weeks`
    closed weeks (and the days since) day by day.

    Loans go in through `create_loans_bulk`; the payments dated before the cut-off through
    `post_history` (what `record_payment` would book, on the day each payment was made), with
    no day-end, as a book migrated in would; from the cut-off on, `live_days` posts each day's
    payments through `record_payment` and runs that day's real day-end (DPD, buckets, asset
    classes, late charges, legal escalation, promises) and each Sunday the weekly scores."""
    started = time.perf_counter()
    plan = plan_demo(loans, seed, today)
    users = demo_users()
    booked, principals = write_book(db, plan, users)
    summary = DemoSummary(
        loans=len(booked),
        users=users,
        accounts=tuple(f"HDFC-{code} ({name})" for code, name, _, _ in BRANCHES),
    )
    first = cut_off(today, scored_weeks)
    summary.payments = post_history(db, history_before(booked, first), principals)
    owners = {b.loan_id: (b.new.branch_id, b.new.collector_id or uuid.UUID(int=0)) for b in booked}
    rng = random.Random(seed + 1)  # noqa: S311 (reproducible demo data, not security)
    work = collections_work(
        rng,
        [(b.loan_id, b.planned) for b in booked],
        principals,
        {loan_id: owner[1] for loan_id, owner in owners.items()},
        today,
    )
    lived = live_days(db, booked, principals, work, owners, first=first, today=today)
    summary.payments += lived.payments
    summary.day_ends = lived.day_ends
    summary.weeks_scored = lived.weeks_scored
    summary.first_day = lived.first_day
    with db.read_only() as session:
        summary.borrowers = int(
            session.execute(select(func.count(func.distinct(Loan.borrower_id)))).scalar_one()
        )
        summary.buckets = {
            str(bucket): int(n)
            for bucket, n in session.execute(
                select(LoanState.bucket, func.count())
                .join(Loan, Loan.id == LoanState.loan_id)
                .where(Loan.status == "active")
                .group_by(LoanState.bucket)
            )
        }
        summary.buckets["closed"] = int(
            session.execute(
                select(func.count()).select_from(Loan).where(Loan.status == "closed")
            ).scalar_one()
        )
        summary.legal_cases = int(
            session.execute(select(func.count()).select_from(LegalCase)).scalar_one()
        )
    summary.day_end_ran = True
    summary.promises = len(work["promise"])
    summary.disputes = len(work["dispute"])
    summary.contacts = len(work["contact_log"])
    summary.by_profile = {
        name: sum(1 for b in booked if b.planned.profile == name) for name in PROFILES
    }
    summary.seconds = round(time.perf_counter() - started, 2)
    return summary


def describe(summary: DemoSummary) -> str:
    """What the demo command prints: the book in figures, then who can sign in, and how."""
    lines = [
        f"Demo book: {summary.loans} loans of {summary.borrowers} borrowers, "
        f"{summary.payments} payments, {summary.promises} promises, {summary.disputes} disputes, "
        f"{summary.legal_cases} legal cases, {summary.contacts} calls and visits "
        f"({summary.seconds:.1f} s)",
        f"Collector scores: {summary.weeks_scored} closed weeks, scored by the weekly job "
        f"from {summary.day_ends} day-ends run day by day since "
        f"{summary.first_day:%d-%m-%Y}"
        if summary.first_day
        else "Collector scores: none (no day-end has run)",
        "Loans by bucket: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.buckets.items())),
        "Collection accounts (cash deposits go into these): " + ", ".join(summary.accounts),
        f"Users (password for every one: {DEMO_PASSWORD}):",
    ]
    lines += [
        f"  {u.username:<12} {u.role:<15} {u.branch_code or 'head office'}" for u in summary.users
    ]
    return "\n".join(lines)
