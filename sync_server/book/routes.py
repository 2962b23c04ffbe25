"""POST /loans: new disbursements from the loan origination system (integration role); the
loan-book upload (check or import) and the parallel run's comparison, for the desk's wizard."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi import Path as Path_

from loancore.roles import Action
from sync_server.auth.deps import require
from sync_server.book.convergence import compare
from sync_server.book.intake import create_loans
from sync_server.book.jobs import ImportJobs
from sync_server.book.reader import Unreadable
from sync_server.book.schemas import (
    ConvergenceOut,
    ImportJobOut,
    ImportOut,
    NewLoansIn,
    NewLoansOut,
)
from sync_server.book.service import import_book
from sync_server.deps import BusinessDateDep, ClockDep, DbDep, ReadSessionDep, SessionDep
from sync_server.errors import ValidationFailed
from sync_server.params import QueryDate
from sync_server.principal import Principal

router = APIRouter(tags=["loans"])


@router.post("/loans", response_model=NewLoansOut)
def post_loans(
    batch: NewLoansIn,
    session: SessionDep,
    today: BusinessDateDep,
    principal: Annotated[Principal, Depends(require(Action.CREATE_LOANS))],
) -> NewLoansOut:
    """Book each loan once per client id: a resend answers `already_created` and changes
    nothing; the same client id with other content is a `conflict`; a bad loan is `refused`
    with its reason and the others of the batch still go in."""
    return NewLoansOut(results=create_loans(session, principal, batch, today))


MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""A workbook of 50,000 loans with their schedules and payments is about 60 MB."""

ImportPrincipal = Annotated[Principal, Depends(require(Action.IMPORT_LOANS))]


async def _upload(request: Request) -> bytes:
    """The workbook as the request body, bounded before it is held whole."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPLOAD_BYTES:
            raise ValidationFailed(
                f"The workbook is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB",
                code="upload_too_large",
            )
    if not body:
        raise ValidationFailed("Send the workbook (.xlsx) as the request body", code="no_file")
    return bytes(body)


Upload = Annotated[bytes, Depends(_upload)]
UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The .xlsx workbook, as it is on disk",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _jobs(request: Request) -> ImportJobs:
    """This process's background imports, made on first use."""
    jobs = getattr(request.app.state, "book_imports", None)
    if jobs is None:
        jobs = request.app.state.book_imports = ImportJobs()
    assert isinstance(jobs, ImportJobs)
    return jobs


JobsDep = Annotated[ImportJobs, Depends(_jobs)]


@router.post(
    "/book/imports",
    response_model=ImportOut | ImportJobOut,
    openapi_extra=UPLOAD_BODY,
    responses={202: {"model": ImportJobOut}},
)
def post_import(
    principal: ImportPrincipal,
    workbook: Upload,
    db: DbDep,
    clock: ClockDep,
    jobs: JobsDep,
    response: Response,
    dry_run: bool = True,
    new_only: bool = False,
    background: bool = False,
    name: Annotated[str, Query(max_length=120)] = "book.xlsx",
) -> ImportOut | ImportJobOut:
    """Check (the default: a dry run) or import the loan book sent as the body; the import is
    all or nothing in one transaction, so a client that gives up waiting leaves either the
    whole book or none of it. With `background=true` the answer is at once (202) a job to
    poll (GET /book/imports/{id}) and cancel (POST /book/imports/{id}/cancel)."""
    if background:
        response.status_code = 202
        job = jobs.start(db, clock, principal, workbook, name, dry_run=dry_run, new_only=new_only)
        return ImportJobOut.of(job)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / (Path(name).name or "book.xlsx")
        path.write_bytes(workbook)
        try:
            outcome = import_book(
                db, path, actor=principal, clock=clock, dry_run=dry_run, new_only=new_only
            )
        except Unreadable as exc:
            raise ValidationFailed(str(exc), code="not_a_workbook") from exc
    return ImportOut.of(outcome)


JobId = Annotated[str, Path_(max_length=64)]


@router.get("/book/imports/{job_id}", response_model=ImportJobOut)
def get_import(principal: ImportPrincipal, jobs: JobsDep, job_id: JobId) -> ImportJobOut:
    """How far the background check or import has got; its answer once it has ended."""
    return ImportJobOut.of(jobs.get(job_id, principal))


@router.post("/book/imports/{job_id}/cancel", response_model=ImportJobOut)
def cancel_import(principal: ImportPrincipal, jobs: JobsDep, job_id: JobId) -> ImportJobOut:
    """Ask the import to stop: it rolls back at its next step, writing nothing. Poll until
    the state is no longer running: `cancelled`, or `finished` with `cancel_too_late` when the
    commit came first."""
    return ImportJobOut.of(jobs.cancel(job_id, principal))


@router.post("/book/convergence", response_model=ConvergenceOut, openapi_extra=UPLOAD_BODY)
def post_convergence(
    principal: ImportPrincipal,
    workbook: Upload,
    session: ReadSessionDep,
    as_of: QueryDate,
) -> ConvergenceOut:
    """The parallel run's comparison of the sheet sent as the body with LoanDesk at `as_of`."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "positions.xlsx"
        path.write_bytes(workbook)
        try:
            result = compare(session, path, as_of)
        except Unreadable as exc:
            raise ValidationFailed(str(exc), code="not_a_workbook") from exc
    return ConvergenceOut.of(result)
