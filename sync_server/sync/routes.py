"""Sync endpoints: devices push their queued commands and pull what changed since their cursor.

Push opens its own transactions (a run of payments in one, other commands each in their own:
see batch.py), so it takes the database, not the request's unit of work. An outdated client is
told to upgrade (426) before its body is read, whatever shape that body has; but only once
its token is checked (the principal is each route's first dependency): without a valid token
the answer is 401, and the protocol versions this server speaks are not told to a stranger.
"""

from __future__ import annotations

import gzip
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError

from loancore.contract import (
    MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    SETTINGS_PROTOCOL,
    PullResponse,
    PushRequest,
    PushResponse,
)
from loancore.roles import Action
from sync_server.auth.deps import require
from sync_server.deps import ClockDep, DbDep, ReadSessionDep, SettingsDep
from sync_server.errors import NESTED_TOO_DEEPLY, UpgradeRequired, ValidationFailed
from sync_server.ops.metrics import observe_push
from sync_server.params import Cursor
from sync_server.principal import Principal
from sync_server.sync import batch, service
from sync_server.sync import pull as pull_service

router = APIRouter(tags=["sync"])

PROTOCOL_HEADER = "X-LoanDesk-Protocol"
PULL_REMAINING_HEADER = "X-LoanDesk-Pull-Remaining"
"""On a pull answer: the user's changes still to come after it (0 on the last page)."""
GZIP_FROM_BYTES = 1024
GZIP_LEVEL = 1
"""The fastest level: a pull's JSON repeats its keys, so level 1 already takes it to about a
tenth, at several times the speed of the default level (bench/bench_pull.py)."""


def _outdated(version: int) -> UpgradeRequired:
    if version > PROTOCOL_VERSION:
        # A desk updated before its server (a rolling upgrade done the wrong way round): this
        # server cannot know what the newer protocol means, so it applies nothing.
        return UpgradeRequired(
            f"This LoanDesk client speaks sync protocol {version}, newer than this office "
            f"server's {PROTOCOL_VERSION}. The server must be upgraded before this client can "
            "sync; your queued work is kept on this computer and will be sent after that."
        )
    return UpgradeRequired(
        f"This LoanDesk client speaks sync protocol {version}; the server needs "
        f"{MIN_PROTOCOL_VERSION} or later. Update the desktop client; your queued work is kept "
        "on this computer and will be sent after the update."
    )


def _unspoken(version: int) -> bool:
    return version < MIN_PROTOCOL_VERSION or version > PROTOCOL_VERSION


def protocol_header(
    x_loandesk_protocol: Annotated[int | None, Header(alias=PROTOCOL_HEADER)] = None,
) -> int | None:
    if x_loandesk_protocol is not None and _unspoken(x_loandesk_protocol):
        raise _outdated(x_loandesk_protocol)
    return x_loandesk_protocol


ProtocolDep = Annotated[int | None, Depends(protocol_header)]
SyncPrincipal = Annotated[Principal, Depends(require(Action.SYNC))]


async def push_request(request: Request, _: ProtocolDep) -> PushRequest:
    """The body is read here rather than by FastAPI, so that an old client is told to upgrade
    (its version is looked at first) instead of being told its body is malformed."""
    raw = await request.body()
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed("The request body is not JSON") from exc
    except RecursionError:
        raise ValidationFailed(NESTED_TOO_DEEPLY) from None
    version = data.get("protocol_version") if isinstance(data, dict) else None
    if isinstance(version, int) and _unspoken(version):
        raise _outdated(version)
    try:
        return PushRequest.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_url=False, include_input=False)) from exc


@router.post(
    "/sync/push",
    response_model=PushResponse,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": PushRequest.model_json_schema()}},
        }
    },
)
def push(
    principal: SyncPrincipal,
    _: ProtocolDep,
    body: Annotated[PushRequest, Depends(push_request)],
    db: DbDep,
    clock: ClockDep,
    settings: SettingsDep,
) -> PushResponse:
    business_date, now = clock.business_date(), clock.now()
    apply = service.push_one_by_one if settings.push_one_by_one else batch.push
    results = apply(db, principal, list(body.commands), business_date=business_date, now=now)
    observe_push(body.commands, results)
    return PushResponse(results=results, business_date=business_date, server_time=now)


@router.get("/sync/pull", response_model=PullResponse)
def pull(
    request: Request,
    principal: SyncPrincipal,
    protocol: ProtocolDep,
    session: ReadSessionDep,
    clock: ClockDep,
    cursor: Cursor = 0,
    limit: Annotated[int, Query(ge=1, le=pull_service.MAX_PAGE)] = 1000,
) -> Response:
    """The page as `pull_service.pull_json` writes it, gzipped for a client that accepts it
    (a branch's first pull is some 200 MB of JSON, a tenth of that compressed), with the
    rows still to come in `PULL_REMAINING_HEADER` (a header, so a desk of any protocol may
    ignore it). A desk older than `SETTINGS_PROTOCOL` gets the answer without `settings`."""
    with_settings = protocol is not None and protocol >= SETTINGS_PROTOCOL
    page = pull_service.pull_json(
        session, principal, cursor, limit, clock.business_date(), with_settings=with_settings
    )
    headers = {PULL_REMAINING_HEADER: str(page.remaining), "Vary": "Accept-Encoding"}
    body = page.body
    if len(body) >= GZIP_FROM_BYTES and accepts_gzip(request.headers.get("accept-encoding", "")):
        body = gzip.compress(body, compresslevel=GZIP_LEVEL, mtime=0)
        headers["Content-Encoding"] = "gzip"
    return Response(body, media_type="application/json", headers=headers)


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header allows gzip: named (or `*`) without `q=0`."""
    for item in accept_encoding.split(","):
        coding, _, params = item.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = params.strip().lower().removeprefix("q=").strip() if params else "1"
        try:
            return float(quality or "1") > 0
        except ValueError:
            return False
    return False
