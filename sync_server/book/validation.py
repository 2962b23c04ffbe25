"""Checking the whole workbook against itself and against the book, before anything is written.

Every problem is collected (not just the first), each naming its sheet, row and column, so the
lender fixes the file in one round. What passes becomes a `BookPlan`: the loans to add, each
with its schedule (or none: LoanDesk's EMI schedule) and its payments in date order, and the
loans already on the book that a "new loans only" import leaves as they are.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.acceptance import PaymentMode, normalise_reference
from loancore.allocation import Strategy
from loancore.money import format_rupees
from loancore.schedule import Installment, ScheduleError, check_schedule, emi_amount
from sync_server.book.plan import BookPlan, PaymentLine, PlannedLoan
from sync_server.book.reader import Problem, Progress, Row
from sync_server.book.template import LOANS, PAYMENTS, SCHEDULE
from sync_server.db.models import Branch, Loan, Product, User

LOOKUP_CHUNK = 900
"""Values per IN (...) list: below SQLite's older limit of 999 bound parameters."""
CHECK_EVERY = 1000
"""Loans' schedules checked between two progress reports."""


def _col(spec_name: str, key: str) -> str:
    from sync_server.book.template import SHEETS

    spec = next(s for s in SHEETS if s.name == spec_name)
    index = [c.key for c in spec.columns].index(key)
    return f"{chr(ord('A') + index)} ({spec.columns[index].header})"


def _on_book(session: Session, accounts: Sequence[str]) -> dict[str, tuple[object, ...]]:
    """The terms of the loans already on the book among `accounts`, by account number."""
    out: dict[str, tuple[object, ...]] = {}
    for start in range(0, len(accounts), LOOKUP_CHUNK):
        part = accounts[start : start + LOOKUP_CHUNK]
        rows = session.execute(
            select(
                Loan.account_no,
                Loan.principal_paise,
                Loan.annual_rate_bp,
                Loan.tenure_months,
                Loan.disbursement_date,
                Loan.first_due_date,
            ).where(Loan.account_no.in_(part))
        )
        out.update({str(r[0]): tuple(r) for r in rows})
    return out


@dataclass
class Checker:
    session: Session
    business_date: date
    new_only: bool
    problems: list[Problem]
    plan: BookPlan = field(default_factory=BookPlan)
    listed: set[str] = field(default_factory=set)
    """Every account number of the loans sheet: a schedule or payment row of a loan refused
    for its own reasons is not reported again as belonging to no loan."""
    schedule_lines: defaultdict[str, list[tuple[int, Installment]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    """The schedule sheet's installments by account, with their row numbers, until checked."""

    def add(self, sheet: str, row: int, column: str, value: object, problem: str) -> None:
        shown = "" if value is None else str(value)
        self.problems.append(Problem(sheet, row, column, shown, problem))

    # -- reference sheets ---------------------------------------------------------------------

    def branches(self, rows: list[Row]) -> None:
        known = dict(self.session.execute(select(Branch.code, Branch.id)).all())
        self.plan.branch_ids = {str(k): int(v) for k, v in known.items()}
        seen: set[str] = set()
        for row in rows:
            code = str(row["branch_code"])
            if code in seen:
                self.add(
                    "branches", row.number, "A (Branch code)", code, "branch code appears twice"
                )
            seen.add(code)
            if code not in known:
                self.plan.branches_new.append((code, str(row["branch_name"])))

    def products(self, rows: list[Row]) -> None:
        known = dict(self.session.execute(select(Product.code, Product.allocation_strategy)).all())
        self.plan.strategies = {str(k): Strategy(v) for k, v in known.items()}
        for row in rows:
            code = str(row["product_code"])
            strategy = row["allocation_strategy"] or Strategy.INSTALLMENTS_FIRST.value
            if strategy not in {s.value for s in Strategy}:
                self.add(
                    "products",
                    row.number,
                    _col("products", "allocation_strategy"),
                    strategy,
                    "allocation order is installments_first or charges_first",
                )
                continue
            if code not in known and code not in self.plan.strategies:
                self.plan.products_new.append((code, str(row["product_name"]), strategy))
                self.plan.strategies[code] = Strategy(strategy)

    def collectors(self, rows: list[Row]) -> None:
        users = self.session.execute(
            select(User.username, User.id, User.branch_id).where(
                User.role == "collector", User.active.is_(True)
            )
        ).all()
        by_name = {str(u[0]): (u[1], u[2]) for u in users}
        codes = {v: k for k, v in self.plan.branch_ids.items()}
        self.plan.collector_ids = {name: uid for name, (uid, _) in by_name.items()}
        for row in rows:
            name = str(row["username"])
            found = by_name.get(name)
            if found is None:
                self.add(
                    "collectors",
                    row.number,
                    _col("collectors", "username"),
                    name,
                    "no active LoanDesk collector has this username (an admin creates "
                    "users first: main.py admin create-user --role collector)",
                )
            elif row["branch_code"] and codes.get(found[1] or 0) != row["branch_code"]:
                self.add(
                    "collectors",
                    row.number,
                    _col("collectors", "branch_code"),
                    row["branch_code"],
                    f"collector {name} belongs to branch "
                    f"{codes.get(found[1] or 0, '(none)')} in LoanDesk",
                )

    # -- loans ----------------------------------------------------------------------------------

    def _terms(self, row: Row) -> bool:
        good = True
        branch = row["branch_code"]
        new_codes = {code for code, _ in self.plan.branches_new}
        if branch not in self.plan.branch_ids and branch not in new_codes:
            self.add(
                "loans",
                row.number,
                _col("loans", "branch_code"),
                branch,
                f"unknown branch {branch}: not in the branches sheet nor in LoanDesk",
            )
            good = False
        if row["product_code"] not in self.plan.strategies:
            self.add(
                "loans",
                row.number,
                _col("loans", "product_code"),
                row["product_code"],
                f"unknown product {row['product_code']}: not in the products sheet nor in LoanDesk",
            )
            good = False
        collector = row["collector"]
        if collector and collector not in self.plan.collector_ids:
            self.add(
                "loans",
                row.number,
                _col("loans", "collector"),
                collector,
                f"unknown collector {collector}: no active LoanDesk collector has this username",
            )
            good = False
        if row["first_due_date"] <= row["disbursement_date"]:
            self.add(
                "loans",
                row.number,
                _col("loans", "first_due_date"),
                f"{row['first_due_date']:%d-%m-%Y}",
                "first due date must fall after the "
                f"disbursement date ({row['disbursement_date']:%d-%m-%Y})",
            )
            good = False
        if row["disbursement_date"] > self.business_date:
            self.add(
                "loans",
                row.number,
                _col("loans", "disbursement_date"),
                f"{row['disbursement_date']:%d-%m-%Y}",
                "disbursement date is in the future",
            )
            good = False
        try:
            emi_amount(row["principal"], row["annual_rate"], row["tenure_months"])
        except ScheduleError as exc:
            self.add("loans", row.number, _col("loans", "principal"), row["principal"], str(exc))
            good = False
        return good

    def loans(self, rows: list[Row]) -> dict[str, PlannedLoan]:
        first_row: dict[str, int] = {}
        planned: dict[str, PlannedLoan] = {}
        for row in rows:
            account = str(row["account_no"])
            if account in first_row:
                self.add(
                    "loans",
                    row.number,
                    _col("loans", "account_no"),
                    account,
                    f"account number appears twice in the file (also row {first_row[account]})",
                )
                continue
            first_row[account] = row.number
            self.listed.add(account)
            if self._terms(row):
                planned[account] = PlannedLoan(row, None)
        on_book = _on_book(self.session, list(first_row))
        for account, facts in on_book.items():
            number = first_row[account]
            if not self.new_only:
                self.add(
                    "loans",
                    number,
                    _col("loans", "account_no"),
                    account,
                    "account number is already on the book (use --new-only to add only "
                    "the loans not yet in LoanDesk)",
                )
            elif account in planned:
                self.plan.existing[account] = _differences(planned[account].row, facts)
            planned.pop(account, None)
        return planned

    def schedules(
        self, rows: Iterable[Row], planned: dict[str, PlannedLoan], skipped: set[str]
    ) -> None:
        """Each schedule row of a planned loan kept as its installment (and its row number), not
        as the row read: the sheet streams through, the installments stay for `check_schedules`."""
        for row in rows:
            account = str(row["account_no"])
            if account in skipped or (account in self.listed and account not in planned):
                continue
            if account not in planned:
                self.add(
                    "schedule",
                    row.number,
                    _col("schedule", "account_no"),
                    account,
                    "no loan with this account number in the loans sheet",
                )
                continue
            self.schedule_lines[account].append(
                (
                    row.number,
                    Installment(
                        row["installment_no"],
                        row["due_date"],
                        row["principal_due"],
                        row["interest_due"],
                    ),
                )
            )

    def check_schedules(
        self, planned: dict[str, PlannedLoan], tick: Callable[[int], None] | None
    ) -> None:
        """Each loan's own schedule checked whole (it may be spread over the sheet): it sums
        to the principal, starts on the first due date, has a row a month of the tenure."""
        lines_of, self.schedule_lines = self.schedule_lines, defaultdict(list)
        for done, (account, lines) in enumerate(lines_of.items(), start=1):
            if tick and done % CHECK_EVERY == 0:
                tick(done)
            loan = planned[account]
            lines.sort(key=lambda line: (line[1].seq, line[0]))
            schedule = tuple(installment for _, installment in lines)
            errors = check_schedule(loan.row["principal"], schedule)
            if schedule[0].due_date != loan.row["first_due_date"]:
                errors.append(
                    "the first installment is not due on the loan's first due date "
                    f"({loan.row['first_due_date']:%d-%m-%Y})"
                )
            if len(schedule) != loan.row["tenure_months"]:
                errors.append(
                    f"{len(schedule)} installments for a tenure of "
                    f"{loan.row['tenure_months']} months"
                )
            for error in errors:
                column = "principal_due" if "principal parts" in error else "installment_no"
                self.add(
                    "schedule",
                    lines[-1][0],
                    _col("schedule", column),
                    account,
                    f"schedule of {account}: {error}",
                )
            if errors:
                planned.pop(account)
            else:
                loan.schedule = schedule

    def payments(
        self, rows: Iterable[Row], planned: dict[str, PlannedLoan], skipped: set[str]
    ) -> None:
        references: dict[tuple[str, str, str], int] = {}
        for row in rows:
            account = str(row["account_no"])
            if account in skipped or (account in self.listed and account not in planned):
                continue
            loan = planned.get(account)
            if loan is None:
                self.add(
                    "payments",
                    row.number,
                    _col("payments", "account_no"),
                    account,
                    "no loan with this account number in the loans sheet",
                )
                continue
            try:
                mode = PaymentMode(str(row["mode"]).strip().lower())
            except ValueError:
                self.add(
                    "payments",
                    row.number,
                    _col("payments", "mode"),
                    row["mode"],
                    "mode is cash, cheque, neft, rtgs, imps, upi or nach",
                )
                continue
            day: date = row["payment_date"]
            if day < loan.row["disbursement_date"]:
                self.add(
                    "payments",
                    row.number,
                    _col("payments", "payment_date"),
                    f"{day:%d-%m-%Y}",
                    "payment before the loan's disbursement "
                    f"({loan.row['disbursement_date']:%d-%m-%Y})",
                )
                continue
            if day > self.business_date:
                self.add(
                    "payments",
                    row.number,
                    _col("payments", "payment_date"),
                    f"{day:%d-%m-%Y}",
                    "payment date is in the future",
                )
                continue
            if row["amount"] <= 0:
                self.add(
                    "payments",
                    row.number,
                    _col("payments", "amount"),
                    row["amount"],
                    "amount must be more than zero",
                )
                continue
            reference = normalise_reference(mode, row["reference"] or f"XL{row.number}")
            key = (account, mode.value, reference)
            if key in references:
                self.add(
                    "payments",
                    row.number,
                    _col("payments", "reference"),
                    reference,
                    f"the same {mode.label} reference on this loan as row {references[key]}",
                )
                continue
            references[key] = row.number
            loan.payments.append(
                PaymentLine(
                    row.number, day, row["amount"], mode, reference, bool(row["foreclosure"])
                )
            )
        for loan in planned.values():
            loan.payments.sort(key=lambda p: (p.payment_date, p.row))


def _differences(row: Row, facts: Sequence[object]) -> list[str]:
    """What the sheet says of a loan already on the book that the book does not."""
    pairs = [
        ("principal", row["principal"], facts[1], True),
        ("annual rate (bp)", row["annual_rate"], facts[2], False),
        ("tenure", row["tenure_months"], facts[3], False),
        ("disbursement date", row["disbursement_date"], facts[4], False),
        ("first due date", row["first_due_date"], facts[5], False),
    ]
    out = []
    for name, sheet, book, money in pairs:
        if sheet != book:
            if money and isinstance(sheet, int) and isinstance(book, int):
                sheet, book = format_rupees(sheet), format_rupees(book)
            out.append(f"{name}: sheet {sheet}, book {book}")
    return out


def check_book(
    session: Session,
    sheets: Iterable[tuple[str, Iterable[Row]]],
    *,
    business_date: date,
    new_only: bool,
    problems: list[Problem],
    progress: Progress | None = None,
) -> BookPlan:
    """The plan of a workbook whose sheets come in the template's order (`stream_sheets`).
    The reference sheets and the loans sheet are held whole (every later row is checked
    against them); the schedule and payments sheets, the bulk of a book, are checked row by
    row as they stream and only what the plan needs of each row is kept. The schedules are
    checked loan by loan once the sheets are read (the "checking" phase)."""
    checker = Checker(session, business_date, new_only, problems)
    planned: dict[str, PlannedLoan] = {}
    skipped: set[str] = set()
    for name, rows in sheets:
        if name == "branches":
            checker.branches(list(rows))
        elif name == "products":
            checker.products(list(rows))
        elif name == "collectors":
            checker.collectors(list(rows))
        elif name == LOANS.name:
            planned = checker.loans(list(rows))
            skipped = set(checker.plan.existing)
        elif name == SCHEDULE.name:
            checker.schedules(rows, planned, skipped)
        elif name == PAYMENTS.name:
            checker.payments(rows, planned, skipped)
    total = len(planned)

    def tick(done: int) -> None:
        if progress:
            progress("checking", done, total)

    checker.check_schedules(planned, tick)
    tick(total)
    checker.plan.loans = list(planned.values())
    return checker.plan
