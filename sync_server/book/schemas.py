"""The wire form of new disbursements sent by the loan origination system (POST /loans)."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from loancore.contract import BusinessDate, PositivePaise
from loancore.text import NO_CONTROLS
from sync_server.book.convergence import Convergence, Mismatch
from sync_server.book.jobs import ImportJob
from sync_server.book.service import ImportOutcome

MAX_BATCH = 500

Code = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32), NO_CONTROLS
]
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), NO_CONTROLS
]
Optional = Annotated[str, StringConstraints(strip_whitespace=True, max_length=400), NO_CONTROLS]


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class InstallmentIn(_Wire):
    seq: Annotated[StrictInt, Field(ge=1, le=600)]
    due_date: BusinessDate
    principal_paise: Annotated[StrictInt, Field(ge=0, le=10**13)]
    interest_paise: Annotated[StrictInt, Field(ge=0, le=10**13)]


class NewLoanIn(_Wire):
    """One disbursement. `client_id` is minted by the sender once per loan and kept for every
    resend; `schedule` is the lender's own (else LoanDesk's EMI schedule)."""

    client_id: uuid.UUID
    account_no: Code
    customer_no: Code
    borrower_name: Name
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), NO_CONTROLS] = ""
    address: Optional = ""
    branch_code: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16), NO_CONTROLS
    ]
    product_code: Code
    principal_paise: PositivePaise
    annual_rate_bp: Annotated[StrictInt, Field(ge=0, le=10_000)]
    tenure_months: Annotated[StrictInt, Field(ge=1, le=600)]
    disbursement_date: BusinessDate
    first_due_date: BusinessDate
    collector: (
        Annotated[
            str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), NO_CONTROLS
        ]
        | None
    ) = None
    schedule: Annotated[list[InstallmentIn], Field(max_length=600)] | None = None


class NewLoansIn(_Wire):
    loans: Annotated[list[NewLoanIn], Field(min_length=1, max_length=MAX_BATCH)]


class LoanResult(BaseModel):
    client_id: uuid.UUID
    account_no: str
    status: Literal["created", "already_created", "conflict", "refused"]
    """created now; already_created by an earlier send of the same content (nothing changed);
    conflict: this client id was used for other content; refused: see `detail`."""
    loan_id: uuid.UUID | None = None
    code: str | None = None
    detail: str | None = None


class NewLoansOut(BaseModel):
    results: list[LoanResult]


MAX_LISTED = 1000
"""Problems or mismatches sent back in one answer; the counts say how many there were."""


class ProblemOut(BaseModel):
    sheet: str
    row: int
    column: str
    value: str
    problem: str


class ImportOut(BaseModel):
    file: str
    dry_run: bool
    new_only: bool
    written: bool
    as_of: date | None
    loans: int
    schedule_rows: int
    payments: int
    allocations: int
    closed: int
    problem_count: int
    problems: list[ProblemOut]
    left_unchanged: int
    seconds: float

    @classmethod
    def of(cls, o: ImportOutcome) -> ImportOut:
        return cls(
            file=o.file,
            dry_run=o.dry_run,
            new_only=o.new_only,
            written=o.written,
            as_of=o.as_of,
            loans=o.loans,
            schedule_rows=o.schedule_rows,
            payments=o.payments,
            allocations=o.allocations,
            closed=o.closed,
            problem_count=len(o.problems),
            problems=[ProblemOut(**asdict(p)) for p in o.problems[:MAX_LISTED]],
            left_unchanged=len(o.existing),
            seconds=round(o.seconds, 2),
        )


class ImportJobOut(BaseModel):
    """A check or import running in the background (POST /book/imports?background=true) as
    the desk polls it. `percent` never goes back and is 100 only when `state` is finished;
    `phase` with `done` of `total` is the step under way (rows read, rows checked, loans
    allocated or written); `words` says it for a person."""

    id: str
    state: Literal["running", "finished", "cancelled", "failed"]
    phase: str
    done: int
    total: int
    percent: int
    words: str
    cancel_asked: bool
    cancel_too_late: bool
    """A cancel was asked but the import had already committed: the loans are on the book."""
    error: str | None
    error_code: str | None
    result: ImportOut | None

    @classmethod
    def of(cls, job: ImportJob) -> ImportJobOut:
        with job.lock:
            state = job.state
            return cls(
                id=job.id,
                state=state,
                phase=job.phase,
                done=job.done,
                total=job.total,
                percent=job.percent,
                words=job.words(),
                cancel_asked=job.cancel_asked,
                cancel_too_late=job.cancel_asked and state == "finished",
                error=job.error,
                error_code=job.error_code,
                result=ImportOut.of(job.outcome) if job.outcome is not None else None,
            )


class MismatchOut(BaseModel):
    account_no: str
    sheet_outstanding_paise: int | None
    loandesk_outstanding_paise: int | None
    sheet_overdue_paise: int | None
    loandesk_overdue_paise: int | None
    sheet_dpd: int | None
    loandesk_dpd: int | None
    reason: str


class ConvergenceOut(BaseModel):
    as_of: date
    compared: int
    converged: int
    converged_bp: int
    mismatch_count: int
    mismatches: list[MismatchOut]
    problem_count: int

    @classmethod
    def of(cls, c: Convergence) -> ConvergenceOut:
        def row(m: Mismatch) -> MismatchOut:
            s, o = m.sheet, m.loandesk
            return MismatchOut(
                account_no=m.account_no,
                sheet_outstanding_paise=s.outstanding if s else None,
                loandesk_outstanding_paise=o.outstanding if o else None,
                sheet_overdue_paise=s.overdue if s else None,
                loandesk_overdue_paise=o.overdue if o else None,
                sheet_dpd=s.dpd if s else None,
                loandesk_dpd=o.dpd if o else None,
                reason=m.reason,
            )

        return cls(
            as_of=c.as_of,
            compared=c.compared,
            converged=c.converged,
            converged_bp=c.share_bp,
            mismatch_count=len(c.mismatches),
            mismatches=[row(m) for m in c.mismatches[:MAX_LISTED]],
            problem_count=len(c.problems),
        )
