"""The demo book, decided before anything is written.

`plan_demo` decides everything from `random.Random(seed)` alone (branches, people, loans and
the story of each loan's payments), so the same seed gives the same account numbers and
amounts on any machine and database.

A loan's history is told in at most three payments: one catch-up transfer for its older paid
installments, then the last one or two EMIs paid individually, so that every bucket comes out
of real postings rather than figures written into `loan_state`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from loancore.dates import IST, add_months
from loancore.roles import Role
from loancore.schedule import Installment, build_schedule
from sync_server.loans.book import BorrowerDetails, NewLoan

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


def instant(day: date, minutes_after_nine: int) -> datetime:
    """A moment of a business day in IST, as the UTC instant it is stored as."""
    local = datetime.combine(day, clock_time(9, 0), IST) + timedelta(minutes=minutes_after_nine)
    return local.astimezone(UTC)
