"""The MIS over HTTP: a PDF or an XLSX as of a business date, for finance, auditors and
administrators (the lender or one branch) and branch managers (their own branch only).

Served under /reports/, which the admission middleware gives its own lane (config.Capacity:
one report at a time, a second one shed with Retry-After), so a report's seconds of reading
never take a place from the desk's quick reads.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from loancore.roles import Action
from sync_server.auth.deps import require
from sync_server.deps import ClockDep, DbDep, SettingsDep
from sync_server.params import QueryDate
from sync_server.principal import Principal
from sync_server.reports.generate import MEDIA_TYPES, MisFormat, generate_mis

router = APIRouter(tags=["reports"])

DIGEST_HEADER = "X-Figures-SHA256"


@router.get(
    "/reports/mis",
    response_class=Response,
    responses={
        200: {
            "description": "The MIS document; its figures' SHA-256 in X-Figures-SHA256",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media in MEDIA_TYPES.values()
            },
        },
        404: {
            "description": "No branch has the code named in `branch`",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
        },
    },
)
def get_mis(
    principal: Annotated[Principal, Depends(require(Action.VIEW_REPORTS))],
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
    as_of: Annotated[QueryDate, Query(description="The business date (its day-end has run)")],
    kind: Annotated[MisFormat, Query(alias="format", description="pdf or xlsx")] = MisFormat.PDF,
    branch: Annotated[
        str | None,
        Query(min_length=1, max_length=16, description="A branch code; a manager's own by default"),
    ] = None,
) -> Response:
    """The MIS as of `as_of`: 422 for a date in the future, before the first disbursement or
    whose day-end has not run; 403 for a branch manager naming another branch. Audited."""
    document = generate_mis(
        db,
        principal,
        as_of,
        kind,
        branch,
        clock,
        statement_timeout_seconds=settings.capacity.report_statement_timeout_seconds,
    )
    return Response(
        content=document.content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{document.filename}"',
            DIGEST_HEADER: document.digest,
        },
    )
