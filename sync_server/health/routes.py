"""`/healthz` and `/readyz`, open to anyone (a probe has no token) and saying nothing of the
book. Liveness is `async` and touches no database, so it answers even when the thread pool
or the database is saturated: a busy process is alive and must not be restarted for it.
Both are meant to be exempt from load shedding (see HEALTH_PATHS)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from sync_server.deps import ClockDep, DbDep
from sync_server.health.service import readiness

router = APIRouter(tags=["system"])

HEALTH_PATHS = ("/healthz", "/readyz")
"""Under the API prefix; admission control lets these through, or a loaded server would
look dead to its load balancer and be restarted exactly when it is busiest."""


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "alive"}


class ReadyOut(BaseModel):
    """Ready: every check passed; `checks` says what each one found."""

    model_config = ConfigDict(extra="forbid")
    status: str
    checks: dict[str, str]


class NotReadyOut(BaseModel):
    """Not ready (503): the error body every route sends, plus each reason and each check's
    finding, so an operator reading the probe sees what to fix."""

    model_config = ConfigDict(extra="forbid")
    error: str
    detail: str
    reasons: list[str]
    checks: dict[str, str]


@router.get(
    "/readyz",
    response_model=None,
    responses={
        200: {"model": ReadyOut, "description": "Ready to take the desk's work"},
        503: {"model": NotReadyOut, "description": "Not ready, with the reasons"},
    },
)
def readyz(db: DbDep, clock: ClockDep) -> JSONResponse:
    found = readiness(db, clock)
    if found.ready:
        return JSONResponse({"status": "ready", "checks": found.checks})
    return JSONResponse(
        {
            "error": "not_ready",
            "detail": "; ".join(found.reasons),
            "reasons": found.reasons,
            "checks": found.checks,
        },
        status_code=503,
    )
