"""Importing the lender's Excel loan book: read, check, then write all of it or none of it.

`import_book` streams the workbook (reader.py) through the checks of every row against the file
and the book (validation.py), keeping of the schedule and payments rows only what the plan
needs, and, unless it is a dry run, writes the loans in chunks inside ONE transaction:
facts and schedules through `create_loans_bulk`, each loan's payment history replayed with the
loancore waterfall (replay.py) and written set-wise (writer.py). The imported loans then land
settled: the day-end's own delinquency, legal-escalation and snapshot steps run for the book's
day-end date inside the same transaction, so their DPD, bucket and class are what a night
would give (NPA memory from the whole history included, jobs/first_night.py) and the next night
finds them settled, not a backlog. A problem anywhere, a cancel, or a failure rolls back the
lot; the audit entry of the import commits with it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import insert
from sqlalchemy.orm import Session

from loancore.roles import Action, can
from loancore.schedule import build_schedule
from sync_server.audit import service as audit
from sync_server.book.plan import BookPlan, PlannedLoan
from sync_server.book.reader import Problem, Progress, stream_sheets
from sync_server.book.replay import Ledger, NotBookable, replay
from sync_server.book.template import LOANS, PAYMENTS, SCHEDULE
from sync_server.book.validation import check_book
from sync_server.book.writer import Written, mark_old_late_charges, write_histories
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.db.models import Branch, Loan, Product
from sync_server.errors import Forbidden, LoanDeskError
from sync_server.flags.service import require_enabled
from sync_server.jobs.dayend import DayEnd, delinquency_settings
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loans_bulk
from sync_server.loans.dpd import dpd_as_of
from sync_server.principal import Principal

CHUNK = 1000
"""Loans booked and replayed per round of statements (one transaction for the whole file)."""
IMPORTED_SHEETS = ("branches", "products", "collectors", LOANS.name, SCHEDULE.name, PAYMENTS.name)


class ImportCancelled(LoanDeskError):
    status = 409
    code = "import_cancelled"


def _stop_if(cancelled: Callable[[], bool] | None) -> None:
    if cancelled is not None and cancelled():
        raise ImportCancelled("The import was cancelled; nothing was written")


class _Refused(Exception):
    """Raised inside the transaction to roll it back when replaying found problems."""


@dataclass
class ImportOutcome:
    file: str
    sha256: str
    dry_run: bool
    new_only: bool
    as_of: date | None = None
    problems: list[Problem] = field(default_factory=list)
    loans: int = 0
    schedule_rows: int = 0
    payments: int = 0
    allocations: int = 0
    closed: int = 0
    existing: dict[str, list[str]] = field(default_factory=dict)
    written: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        what = (
            "checked (dry run, nothing written)"
            if self.dry_run
            else ("imported" if self.written else "refused: nothing written")
        )
        lines = [
            f"{self.file}: {what}",
            f"  loans {self.loans}, schedule rows {self.schedule_rows}, payments {self.payments}, "
            f"allocation lines {self.allocations}, closed by their payments {self.closed}",
        ]
        if self.as_of and self.written:
            lines.append(f"  delinquency settled as of the day-end of {self.as_of:%d-%m-%Y}")
        if self.existing:
            differ = sum(1 for d in self.existing.values() if d)
            lines.append(
                f"  {len(self.existing)} loans already on the book left unchanged "
                f"({differ} with differences in the sheet)"
            )
        if self.problems:
            by_sheet: dict[str, int] = {}
            for p in self.problems:
                by_sheet[p.sheet] = by_sheet.get(p.sheet, 0) + 1
            lines.append(
                f"  {len(self.problems)} problems: "
                + ", ".join(f"{n} in {s}" for s, n in sorted(by_sheet.items()))
            )
            lines += [
                f"    {p.sheet} row {p.row} {p.column}: {p.problem}" for p in self.problems[:10]
            ]
        lines.append(f"  {self.seconds:.1f} s")
        return "\n".join(lines)


def _file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _new_loan(plan: BookPlan, loan: PlannedLoan) -> NewLoan:
    r = loan.row
    return NewLoan(
        account_no=r["account_no"],
        borrower=BorrowerDetails(
            r["customer_no"], r["borrower_name"], r["phone"] or "", r["address"] or ""
        ),
        branch_id=plan.branch_ids[r["branch_code"]],
        product_code=r["product_code"],
        principal_paise=r["principal"],
        annual_rate_bp=r["annual_rate"],
        tenure_months=r["tenure_months"],
        disbursement_date=r["disbursement_date"],
        first_due_date=r["first_due_date"],
        collector_id=plan.collector_ids[r["collector"]] if r["collector"] else None,
        schedule=loan.schedule,
    )


def _ledger(plan: BookPlan, loan: PlannedLoan) -> tuple[Ledger, int]:
    r = loan.row
    schedule = loan.schedule or build_schedule(
        r["principal"], r["annual_rate"], r["tenure_months"], r["first_due_date"]
    )
    return replay(
        loan.account_no,
        r["principal"],
        r["annual_rate"],
        r["disbursement_date"],
        schedule,
        plan.strategies[r["product_code"]],
        loan.payments,
    ), len(schedule)


def _settle_day(session: Session, clock: Clock) -> date:
    """The day-end the imported loans are settled as of: the book's last one, so they join
    it in step; on a book with none yet, yesterday (the last day that is over)."""
    return dpd_as_of(session) or clock.business_date() - timedelta(days=1)


def import_book(
    db: Database,
    path: Path,
    *,
    actor: Principal,
    clock: Clock,
    dry_run: bool = False,
    new_only: bool = False,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> ImportOutcome:
    """Check the workbook and, unless `dry_run` or a problem, import all of it in one
    transaction. Refusals are in `problems`; the database is untouched unless `written`."""
    if not can(actor.role, Action.IMPORT_LOANS):
        raise Forbidden(f"A {actor.role.value} cannot import loan books")
    started = time.perf_counter()
    out = ImportOutcome(path.name, _file_hash(path), dry_run, new_only)
    with db.read_only() as session:
        require_enabled(session, "loan_import")
        plan = check_book(
            session,
            stream_sheets(path, IMPORTED_SHEETS, out.problems, progress),
            business_date=clock.business_date(),
            new_only=new_only,
            problems=out.problems,
            progress=progress,
        )
        out.as_of = _settle_day(session, clock)
    _stop_if(cancelled)
    out.existing = plan.existing
    if out.problems:
        out.seconds = time.perf_counter() - started
        return out
    if dry_run:
        for index, loan in enumerate(plan.loans):
            try:
                ledger, rows = _ledger(plan, loan)
            except NotBookable as exc:
                out.problems.append(Problem(PAYMENTS.name, exc.row, "C (Amount (₹))", "", str(exc)))
                continue
            _count(out, ledger, rows)
            if progress and (index % CHUNK == CHUNK - 1 or index == len(plan.loans) - 1):
                progress("allocating", index + 1, len(plan.loans))
        out.seconds = time.perf_counter() - started
        return out
    try:
        with db.unit_of_work() as session:
            _write(session, plan, out, actor, clock, progress, cancelled)
            if out.problems:
                raise _Refused
            _stop_if(cancelled)  # the last moment before the commit
            out.written = True
    except _Refused:
        out.loans = out.schedule_rows = out.payments = out.allocations = out.closed = 0
    out.seconds = time.perf_counter() - started
    return out


def _count(out: ImportOutcome, ledger: Ledger, rows: int) -> None:
    out.loans += 1
    out.schedule_rows += rows
    out.payments += len(ledger.booked)
    out.allocations += sum(len(b.lines) for b in ledger.booked)
    out.closed += ledger.closed_on is not None


def _write(
    session: Session,
    plan: BookPlan,
    out: ImportOutcome,
    actor: Principal,
    clock: Clock,
    progress: Progress | None,
    cancelled: Callable[[], bool] | None,
) -> None:
    require_enabled(session, "loan_import")
    if plan.branches_new:
        session.execute(insert(Branch), [{"code": c, "name": n} for c, n in plan.branches_new])
        session.flush()
        plan.branch_ids = {
            str(code): int(bid) for code, bid in session.query(Branch.code, Branch.id).all()
        }
    if plan.products_new:
        session.execute(
            insert(Product),
            [{"code": c, "name": n, "allocation_strategy": s} for c, n, s in plan.products_new],
        )
    day = out.as_of or _settle_day(session, clock)
    settings = delinquency_settings(session, day)
    cutoff = day - timedelta(days=settings.late_charge_dpd - 1)
    written = Written()
    for start in range(0, len(plan.loans), CHUNK):
        _stop_if(cancelled)
        chunk = plan.loans[start : start + CHUNK]
        news = [_new_loan(plan, loan) for loan in chunk]
        ids = create_loans_bulk(session, actor, news)
        borrowers = dict(session.query(Loan.id, Loan.borrower_id).filter(Loan.id.in_(ids)).all())
        booked = []
        for loan_id, new, loan in zip(ids, news, chunk, strict=True):
            try:
                ledger, rows = _ledger(plan, loan)
            except NotBookable as exc:
                out.problems.append(Problem(PAYMENTS.name, exc.row, "C (Amount (₹))", "", str(exc)))
                continue
            _count(out, ledger, rows)
            booked.append((loan_id, borrowers[loan_id], new, ledger))
        if out.problems:
            continue
        done = write_histories(session, actor, booked, device="import")
        written.closed += done.closed
        mark_old_late_charges(session, ids, cutoff, day)
        if progress:
            progress("writing", start + len(chunk), len(plan.loans))
    if out.problems:
        return
    if out.loans:
        if progress:
            progress("settling", 0, 1)
        job = DayEnd(day=day, settings=settings, now=clock.now())
        job.delinquency(session)
        job.legal_escalation(session)
        job.snapshot(session)
        if progress:
            progress("settling", 1, 1)
    audit.record(
        session,
        actor=actor,
        action="book.import",
        entity="loan_book",
        entity_id=out.sha256[:16],
        after={
            "file": out.file,
            "sha256": out.sha256,
            "new_only": out.new_only,
            "loans": out.loans,
            "schedule_rows": out.schedule_rows,
            "payments": out.payments,
            "principal_paise": sum(int(loan.row["principal"]) for loan in plan.loans),
            "settled_as_of": day.isoformat(),
            "left_unchanged": sorted(plan.existing),
        },
    )
