"""POST /loans: new disbursements from the loan origination system (integration role); the
loan-book upload (check or import) and the parallel run's comparison, for the desk's wizard."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from loancore.roles import Action
from sync_server.auth.deps import require
from sync_server.book.convergence import compare
from sync_server.book.intake import create_loans
from sync_server.book.reader import Unreadable
from sync_server.book.schemas import ConvergenceOut, ImportOut, NewLoansIn, NewLoansOut
from sync_server.book.service import import_book
from sync_server.deps import BusinessDateDep, ClockDep, DbDep, ReadSessionDep, SessionDep
from sync_server.errors import ValidationFailed
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


@router.post("/book/imports", response_model=ImportOut, openapi_extra=UPLOAD_BODY)
def post_import(
    principal: ImportPrincipal,
    workbook: Upload,
    db: DbDep,
    clock: ClockDep,
    dry_run: bool = True,
    new_only: bool = False,
    name: Annotated[str, Query(max_length=120)] = "book.xlsx",
) -> ImportOut:
    """Check (the default: a dry run) or import the loan book sent as the body; the import is
    all or nothing in one transaction, so a client that gives up waiting leaves either the
    whole book or none of it."""
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


@router.post("/book/convergence", response_model=ConvergenceOut, openapi_extra=UPLOAD_BODY)
def post_convergence(
    principal: ImportPrincipal,
    workbook: Upload,
    session: ReadSessionDep,
    as_of: date,
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
