"""Request-scoped dependencies shared by every feature's routes.

A request's session gives its connection back in the endpoint's own thread, as the endpoint
returns (`end_sessions_in_endpoints`), not when FastAPI closes the dependency: FastAPI
validates a sync endpoint's answer in a worker thread and closes the dependency only after
that, so a request would otherwise hold a connection while it waits for a thread, while the
threads wait for connections (every request hung for the 30 s pool timeout at 100 clients).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Iterator
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from sync_server.clock import Clock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.ratelimit import caller_address


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


_COMMITS = "loandesk_commits_at_end"


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit once as the endpoint returns (before the answer
    is serialised), or roll back on any error."""
    with get_db(request).unit_of_work() as session:
        session.info[_COMMITS] = True
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    """Reads for one request; on PostgreSQL each statement is bounded by the read timeout."""
    settings = get_settings(request)
    with get_db(request).read_only(
        statement_timeout_seconds=settings.capacity.read_statement_timeout_seconds
    ) as session:
        yield session


def _end(session: Session, *, succeeded: bool) -> None:
    """Commit (a unit of work whose endpoint succeeded) or roll back, then give the
    connection back; the dependency's own exit later finds nothing left to do."""
    try:
        if succeeded and session.info.get(_COMMITS):
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


def _ending_sessions(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> Any:
        sessions = [value for value in kwargs.values() if isinstance(value, Session)]
        try:
            answer = endpoint(*args, **kwargs)
        except BaseException:
            for session in sessions:
                _end(session, succeeded=False)
            raise
        for session in sessions:
            _end(session, succeeded=True)
        return answer

    run._ends_sessions = True  # type: ignore[attr-defined]  # wrapped once only
    return run


def end_sessions_in_endpoints(router: APIRouter) -> None:
    """Every sync endpoint of `router` ends its sessions in its own thread as it returns (see
    the module docstring). The app factory calls it on each feature's router before mounting
    it; FastAPI builds a mounted route from `route.endpoint`, which is wrapped here once."""
    for route in router.routes:
        if not isinstance(route, APIRoute):
            continue
        call = route.endpoint
        if inspect.iscoroutinefunction(call) or getattr(call, "_ends_sessions", False):
            continue
        route.endpoint = _ending_sessions(call)
        route.dependant.call = route.endpoint


def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_business_date(clock: Annotated[Clock, Depends(get_clock)]) -> date:
    return clock.business_date()


DbDep = Annotated[Database, Depends(get_db)]
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BusinessDateDep = Annotated[date, Depends(get_business_date)]


def client_address(request: Request) -> str:
    """The caller's address; behind a trusted proxy, the one its X-Forwarded-For names."""
    return caller_address(
        request.client.host if request.client else None,
        request.headers.get("x-forwarded-for"),
        request.app.state.trusted_proxies,
    )
