"""A realistic, reproducible book for demos, screenshots and load tests.

`plan_demo` decides everything from `random.Random(seed)` alone (branches, people, loans and
the story of each loan's payments), so the same seed gives the same account numbers and
amounts on any machine and database. `seed_demo` then writes the plan through the real paths:
loans through `create_loans_bulk`, every payment through `record_payment` on the day it was
made (the collector's business date then, so no backdating rule is bent), and finally the
day-end for yesterday fills DPD, buckets, asset classes, late charges and legal escalation.

A loan's history is told in at most three payments: one catch-up transfer for its older paid
installments, then the last one or two EMIs paid individually. That keeps 100,000 loans within
reach (the cost is the payments, each a full posting with its audit entry) while every bucket
comes out of real postings rather than figures written into `loan_state`.
"""

from __future__ import annotations

import random
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session
from uuid6 import uuid7

from loancore.allocation import amount_to_close
from loancore.contract import PaymentPayload
from loancore.dates import IST, add_months
from loancore.delinquency import bucket_for
from loancore.roles import Role
from loancore.schedule import Installment, build_schedule
from sync_server.audit import service as audit
from sync_server.auth.principal import SYSTEM, Principal
from sync_server.auth.service import create_user
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import (
    Branch,
    ChangeLogEntry,
    ContactLog,
    Dispute,
    LegalCase,
    LegalNote,
    Loan,
    LoanState,
    Product,
    Promise,
)
from sync_server.errors import Conflict
from sync_server.jobs.tasks import run_day_end
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loans_bulk, loan_dues
from sync_server.payments.service import record_payment
from sync_server.payments.views import payment_content_hash

DEMO_PASSWORD = "LoanDesk-demo-2026"  # noqa: S105 (published on purpose: demo only)
"""Every demo user's password; the demo command prints it with the usernames."""

BRANCHES = (
    ("PNC", "Pune Camp", "Pune", "4110"),
    ("NSK", "Nashik Road", "Nashik", "4221"),
    ("KOP", "Kolhapur", "Kolhapur", "4160"),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(word.strip() for word in text.replace("|", ",").split(","))


# code, name, strategy, principal range (rupees), rate range (bp), tenures (months)
PRODUCTS = (
    ("TW", "Two-wheeler loan", "installments_first", (45_000, 1_40_000), (1100, 1800), (12, 24)),
    ("MSME", "MSME business loan", "charges_first", (2_00_000, 15_00_000), (1400, 2200), (24, 36)),
    ("GOLD", "Gold loan", "installments_first", (30_000, 3_00_000), (900, 1500), (6, 12)),
    ("PL", "Personal loan", "installments_first", (50_000, 5_00_000), (1300, 2400), (12, 24, 36)),
)
FIRST = _words(
    "Aarav, Vihaan, Rohan, Sanjay, Prakash, Mahesh, Ganesh, Sachin, Amit, Rajesh, Suresh, Anil, "
    "Vijay, Nitin, Priya, Sunita, Anjali, Pooja, Kavita, Meena, Swati, Asha, Rekha, Lata, Farhan, "
    "Imran, Joseph, Gurpreet, Harish, Deepak"
)
LAST = _words(
    "Patil, Jadhav, Deshmukh, Kulkarni, Shinde, Pawar, More, Joshi, Chavan, Gaikwad, Kale, "
    "Bhosale, Sawant, Shaikh, Pathan, D'Souza, Wagh, Salunkhe, Mane, Kadam"
)
STREETS = _words(
    "MG Road|Station Road|Shivaji Nagar|Gandhi Chowk|Tilak Road|Laxmi Road|Market Yard|"
    "Rajarampuri|College Road|Ambedkar Nagar"
)
CONTACT_OUTCOMES = _words(
    "promised to pay|not reachable|will pay after salary|asked to call later|"
    "paid part and the rest next week|out of town"
)
# profile -> weight; the first loans take each profile in turn so every bucket is present.
PROFILES = {"current": 48, "fresh": 8, "1-30": 14, "31-60": 8, "61-90": 6, "90+": 10, "closed": 6}
DPD_RANGE = {"1-30": (1, 30), "31-60": (31, 60), "61-90": (61, 90), "90+": (91, 400)}
MAX_AGE_MONTHS = 24


@dataclass(frozen=True)
class PlannedPayment:
    day: date
    amount_paise: int  # 0: whatever then closes the loan (a foreclosure)
    mode: str
    reference: str


@dataclass(frozen=True)
class PlannedLoan:
    new: NewLoan
    branch_code: str
    collector_no: int
    profile: str
    payments: tuple[PlannedPayment, ...]
    oldest_unpaid_due: date | None


@dataclass(frozen=True)
class DemoUser:
    username: str
    role: str
    branch_code: str | None
    full_name: str
    password: str = DEMO_PASSWORD


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
    day_end_ran: bool = False
    seconds: float = 0.0


def demo_users() -> tuple[DemoUser, ...]:
    users = [DemoUser("admin", Role.ADMIN.value, None, "Anita Rao (Admin)")]
    for code, name, _, _ in BRANCHES:
        low = code.lower()
        users.append(DemoUser(f"bm.{low}", Role.BRANCH_MANAGER.value, code, f"{name} Manager"))
        users += [
            DemoUser(f"col.{low}{n}", Role.COLLECTOR.value, code, f"{name} Collector {n}")
            for n in (1, 2)
        ]
    users += [
        DemoUser("finance", Role.FINANCE.value, None, "Farida Mistry (Finance)"),
        DemoUser("legal", Role.LEGAL.value, None, "Vikram Desai (Legal)"),
        DemoUser("auditor", Role.AUDITOR.value, None, "Rahul Iyer (Audit)"),
    ]
    return tuple(users)


class _Refs:
    """References in each mode's real shape, unique across the demo."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self, mode: str, branch: str) -> str:
        self.n += 1
        n = self.n
        return {
            "cash": f"RB{branch}{n:07d}",
            "cheque": f"{(n * 7919) % 1_000_000:06d}",
            "upi": f"{400_000_000_000 + n:012d}",
            "imps": f"{300_000_000_000 + n:012d}",
            "neft": f"HDFCN{52_000_000_000 + n:011d}",
            "rtgs": f"SBINR{52_000_000_000 + n:011d}",
            "nach": f"NACH{branch}{n:010d}",
        }[mode]


def _mode_for(rng: random.Random, amount: int, catch_up: bool) -> str:
    if catch_up:
        return "rtgs" if amount >= 2_00_000_00 else "neft"
    if amount < 40_000_00 and rng.random() < 0.3:
        return "cash"
    return rng.choice(("upi", "upi", "nach", "nach", "imps", "cheque", "neft"))


def _profile(rng: random.Random, i: int) -> str:
    names = list(PROFILES)
    return names[i] if i < len(names) else rng.choices(names, weights=list(PROFILES.values()))[0]


def _shape(rng: random.Random, profile: str, day_end: date, tenure: int) -> tuple[date, int]:
    """(first due date, installments to pay) so that the loan lands in its profile."""
    if profile == "fresh":
        return day_end + timedelta(days=rng.randint(1, 28)), 0
    if profile in DPD_RANGE:
        low, high = DPD_RANGE[profile]
        candidates = list(range(low, high + 1))
        rng.shuffle(candidates)
        dpd = next(d for d in candidates if (day_end - timedelta(days=d - 1)).day <= 28)
        oldest = day_end - timedelta(days=dpd - 1)
        paid = rng.randint(0, max(0, min(tenure - 1, MAX_AGE_MONTHS - 1 - dpd // 30)))
        return add_months(oldest, -paid), paid
    top = tenure if profile == "closed" else tenure - 1
    age = rng.randint(1, max(1, min(MAX_AGE_MONTHS, top)))
    first_due = add_months(day_end, -age + 1, day=rng.randint(1, 28))
    if first_due > day_end:
        first_due = add_months(first_due, -1)
    rows_due = sum(1 for k in range(tenure) if add_months(first_due, k) <= day_end)
    return first_due, rows_due


def _payments(
    rng: random.Random,
    rows: tuple[Installment, ...],
    paid: int,
    profile: str,
    day_end: date,
    refs: _Refs,
    branch: str,
) -> list[PlannedPayment]:
    def on(due: date) -> date:
        return min(due + timedelta(days=rng.choice((0, 0, 0, 1, 2, 4))), day_end)

    out: list[PlannedPayment] = []
    single = min(paid, 1 if paid < 3 else 2)
    if paid - single > 0:
        amount = sum(row.amount_due for row in rows[: paid - single])
        out.append(
            PlannedPayment(
                on(rows[paid - single - 1].due_date),
                amount,
                mode := _mode_for(rng, amount, True),
                refs(mode, branch),
            )
        )
    for row in rows[paid - single : paid]:
        mode = _mode_for(rng, row.amount_due, False)
        out.append(PlannedPayment(on(row.due_date), row.amount_due, mode, refs(mode, branch)))
    if profile == "closed":
        last = out[-1].day if out else rows[0].due_date
        close_on = min(last + timedelta(days=rng.randint(3, 40)), day_end)
        out.append(PlannedPayment(close_on, 0, "neft", refs("neft", branch)))
    elif profile in DPD_RANGE and paid < len(rows) and rng.random() < 0.35:
        part = rows[paid].amount_due * rng.randint(2, 6) // 10
        mode = _mode_for(rng, part, False)
        out.append(
            PlannedPayment(
                min(rows[paid].due_date + timedelta(days=3), day_end),
                part,
                mode,
                refs(mode, branch),
            )
        )
    return out


def plan_demo(loans: int, seed: int, today: date) -> list[PlannedLoan]:
    """The whole book, decided before anything is written: deterministic by `seed`."""
    rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not security)
    day_end = today - timedelta(days=1)
    refs = _Refs()
    planned: list[PlannedLoan] = []
    customers: list[tuple[int, BorrowerDetails]] = []
    for i in range(loans):
        code, _, strategy_, (low, high), (rate_lo, rate_hi), tenures = rng.choice(PRODUCTS)
        del strategy_
        branch_index = rng.randrange(len(BRANCHES))
        branch_code, _, city, pin = BRANCHES[branch_index]
        same_branch = [c for c in customers if c[0] == branch_index]
        if same_branch and rng.random() < 0.1:
            borrower = rng.choice(same_branch)[1]
        else:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            borrower = BorrowerDetails(
                customer_no=f"C{len(customers) + 1:07d}",
                name=name,
                phone=f"+91 {rng.choice('6789')}{rng.randrange(10**8, 10**9)}",
                address=f"{rng.randint(1, 250)}, {rng.choice(STREETS)}, {city} "
                f"{pin}{rng.randint(10, 99)}",
            )
            customers.append((branch_index, borrower))
        profile = _profile(rng, i)
        tenure = rng.choice(tenures)
        principal = rng.randrange(low, high, 500) * 100
        rate = rng.randrange(rate_lo, rate_hi + 1, 25)
        first_due, paid = _shape(rng, profile, day_end, tenure)
        tenure = max(tenure, paid + 1) if profile in DPD_RANGE else max(tenure, paid)
        rows = build_schedule(principal, rate, tenure, first_due)
        paid = min(paid, len(rows))
        new = NewLoan(
            account_no=f"LD{branch_code}{code}{i + 1:06d}",
            borrower=borrower,
            branch_id=0,  # the branch's id is known only once it is written
            product_code=code,
            principal_paise=principal,
            annual_rate_bp=rate,
            tenure_months=tenure,
            disbursement_date=add_months(first_due, -1) - timedelta(days=rng.randint(0, 5)),
            first_due_date=first_due,
        )
        payments = _payments(rng, rows, paid, profile, day_end, refs, branch_code)
        oldest = (
            rows[paid].due_date if paid < len(rows) and rows[paid].due_date <= day_end else None
        )
        planned.append(
            PlannedLoan(
                new,
                branch_code,
                rng.randint(1, 2),
                profile,
                tuple(sorted(payments, key=lambda p: p.day)),
                oldest,
            )
        )
    return planned


# -- writing the plan ----------------------------------------------------------------------------

LOAN_CHUNK = 2000
PAYMENT_CHUNK = 500


def _instant(day: date, minutes_after_nine: int) -> datetime:
    local = datetime.combine(day, clock_time(9, 0), IST) + timedelta(minutes=minutes_after_nine)
    return local.astimezone(UTC)


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


def _record_payments(
    db: Database, batch: list[tuple[uuid.UUID, PlannedLoan]], principals: dict[str, Principal]
) -> int:
    count = 0
    with db.unit_of_work() as session:
        for loan_id, planned in batch:
            low = planned.branch_code.lower()
            collector = principals[f"col.{low}{planned.collector_no}"]
            manager = principals[f"bm.{low}"]
            for n, pay in enumerate(planned.payments):
                amount = pay.amount_paise or amount_to_close(*loan_dues(session, loan_id))
                if amount == 0:
                    continue  # the loan closed with its last EMI; nothing left to foreclose
                payload = PaymentPayload(
                    loan_id=loan_id,
                    amount_paise=amount,
                    mode=pay.mode,
                    reference=pay.reference,
                    payment_date=pay.day,
                    foreclosure=pay.amount_paise == 0,
                )
                actor = collector if pay.mode in ("cash", "upi", "cheque") else manager
                record_payment(
                    session,
                    db,
                    actor,
                    payment_id=uuid7(),
                    payload=payload,
                    business_date=pay.day,
                    now=_instant(pay.day, 60 + 37 * n),
                    device_id="demo",
                    content_hash=payment_content_hash(payload),
                )
                count += 1
            session.flush()
            session.expunge_all()  # one loan's objects at a time: flushes stay cheap
    return count


def _dpd_on(day: date, oldest: date | None) -> int:
    return 0 if oldest is None or day < oldest else (day - oldest).days + 1


def _collections_work(
    rng: random.Random,
    loans: list[tuple[uuid.UUID, PlannedLoan]],
    principals: dict[str, Principal],
    collectors: dict[uuid.UUID, uuid.UUID],
    branch_ids: dict[str, int],
    today: date,
) -> dict[str, list[dict[str, Any]]]:
    """Promises, disputes, legal cases and contact logs on the overdue loans."""
    day_end = today - timedelta(days=1)
    rows: dict[str, list[dict[str, Any]]] = {
        "promise": [],
        "dispute": [],
        "legal_case": [],
        "legal_note": [],
        "contact_log": [],
    }
    legal = principals["legal"].user_id
    for loan_id, planned in loans:
        if planned.oldest_unpaid_due is None:
            continue
        collector = collectors[loan_id]
        manager = principals[f"bm.{planned.branch_code.lower()}"].user_id
        city = next(b[2] for b in BRANCHES if b[0] == planned.branch_code)
        dpd = _dpd_on(day_end, planned.oldest_unpaid_due)
        emi = build_schedule(
            planned.new.principal_paise,
            planned.new.annual_rate_bp,
            planned.new.tenure_months,
            planned.new.first_due_date,
        )[0].amount_due
        for _ in range(rng.randint(1, 3)):
            rows["contact_log"].append(
                {
                    "id": uuid7(),
                    "loan_id": loan_id,
                    "user_id": collector,
                    "kind": rng.choice(("call", "call", "visit")),
                    "contacted_at": _instant(
                        today - timedelta(days=rng.randint(0, 9)), rng.randint(0, 9 * 60)
                    ),
                    "outcome": rng.choice(CONTACT_OUTCOMES),
                    "note": "",
                    "outside_hours": False,
                }
            )
        if rng.random() < 0.5:
            promised = today + timedelta(days=rng.randint(-3, 5))
            rows["promise"].append(
                {
                    "id": uuid7(),
                    "loan_id": loan_id,
                    "collector_id": collector,
                    "amount_paise": emi,
                    "promised_date": promised,
                    "made_on": min(today, promised) - timedelta(days=rng.randint(1, 4)),
                    "note": rng.choice(("salary on 1st", "crop sale", "business receivable", "")),
                    "outcome": "pending",
                    "paid_toward": 0,
                }
            )
        if rng.random() < 0.05:
            opened = today - timedelta(days=rng.randint(3, 25))
            at_open = _dpd_on(opened, planned.oldest_unpaid_due)
            rows["dispute"].append(
                {
                    "id": uuid7(),
                    "loan_id": loan_id,
                    "opened_by": manager,
                    "opened_on": opened,
                    "reason": "Borrower says an EMI was paid in cash and no receipt was issued",
                    "status": "open",
                    "dpd_at_open": at_open,
                    "bucket_at_open": bucket_for(at_open).value,
                }
            )
        if dpd > 90 and rng.random() < 0.6:
            case_id = uuid7()
            status = rng.choice(("open", "notice_sent", "filed", "hearing"))
            rows["legal_case"].append(
                {
                    "id": case_id,
                    "loan_id": loan_id,
                    "status": status,
                    "opened_by": legal,
                    "opened_on": planned.oldest_unpaid_due + timedelta(days=89),
                    "dpd_at_open": 90,
                    "court": f"Civil Court (Senior Division), {city}"
                    if status in ("filed", "hearing")
                    else None,
                    "case_number": f"SCS/{rng.randint(100, 2999)}/{today.year}"
                    if status in ("filed", "hearing")
                    else None,
                    "next_hearing": today + timedelta(days=rng.randint(5, 45))
                    if status == "hearing"
                    else None,
                }
            )
            rows["legal_note"].append(
                {
                    "id": uuid7(),
                    "case_id": case_id,
                    "written_by": legal,
                    "written_at": _instant(today - timedelta(days=rng.randint(1, 30)), 120),
                    "note": "Legal notice sent by registered post to the address on record",
                }
            )
    return rows


def _write_collections(
    session: Session,
    rows: dict[str, list[dict[str, Any]]],
    owners: dict[uuid.UUID, tuple[int, uuid.UUID]],
) -> None:
    models = {
        "promise": Promise,
        "dispute": Dispute,
        "legal_case": LegalCase,
        "legal_note": LegalNote,
        "contact_log": ContactLog,
    }
    case_loans = {row["id"]: row["loan_id"] for row in rows["legal_case"]}
    changes = []
    for entity, model in models.items():
        if rows[entity]:
            session.execute(insert(model), rows[entity])
        for row in rows[entity]:
            loan_id = row.get("loan_id") or case_loans[row["case_id"]]
            branch_id, collector = owners[loan_id]
            changes.append(
                {
                    "entity": entity,
                    "entity_id": str(row["id"]),
                    "op": "upsert",
                    "loan_id": loan_id,
                    "branch_id": branch_id,
                    "collector_id": collector,
                    "at": datetime.now(UTC),
                }
            )
    if changes:
        session.execute(insert(ChangeLogEntry), changes)
    if rows["dispute"]:
        disputed = [row["loan_id"] for row in rows["dispute"]]
        session.execute(
            update(LoanState).where(LoanState.loan_id.in_(disputed)).values(dispute_open=True)
        )


def seed_demo(db: Database, *, loans: int = 300, seed: int = 7, today: date) -> DemoSummary:
    """Write the demo book into an empty, migrated database and run yesterday's day-end."""
    started = time.perf_counter()
    plan = plan_demo(loans, seed, today)
    users = demo_users()
    with db.unit_of_work() as session:
        branch_ids, principals = _write_org(session, users)
    written: list[tuple[uuid.UUID, PlannedLoan]] = []
    owners: dict[uuid.UUID, tuple[int, uuid.UUID]] = {}
    for start in range(0, len(plan), LOAN_CHUNK):
        chunk = plan[start : start + LOAN_CHUNK]
        news = []
        for p in chunk:
            collector = principals[f"col.{p.branch_code.lower()}{p.collector_no}"].user_id
            news.append(replace(p.new, branch_id=branch_ids[p.branch_code], collector_id=collector))
        with db.unit_of_work() as session:
            ids = create_loans_bulk(session, SYSTEM, news)
        for loan_id, p, new in zip(ids, chunk, news, strict=True):
            written.append((loan_id, p))
            owners[loan_id] = (new.branch_id, new.collector_id or uuid.UUID(int=0))
    summary = DemoSummary(loans=len(written), users=users)
    for start in range(0, len(written), PAYMENT_CHUNK):
        summary.payments += _record_payments(db, written[start : start + PAYMENT_CHUNK], principals)
    rng = random.Random(seed + 1)  # noqa: S311 (reproducible demo data, not security)
    work = _collections_work(
        rng,
        written,
        principals,
        {loan_id: owner[1] for loan_id, owner in owners.items()},
        branch_ids,
        today,
    )
    with db.unit_of_work() as session:
        _write_collections(session, work, owners)
    clock = FixedClock(_instant(today, 3 * 60))
    run_day_end(db, today - timedelta(days=1), clock)
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
        name: sum(1 for _, p in written if p.profile == name) for name in PROFILES
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
        "Loans by bucket: " + ", ".join(f"{k} {v}" for k, v in sorted(summary.buckets.items())),
        f"Users (password for every one: {DEMO_PASSWORD}):",
    ]
    lines += [
        f"  {u.username:<12} {u.role:<15} {u.branch_code or 'head office'}" for u in summary.users
    ]
    return "\n".join(lines)
