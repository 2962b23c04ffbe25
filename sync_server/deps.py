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
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager, asynccontextmanager
from datetime import date
from types import TracebackType
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from sync_server.clock import Clock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.ratelimit import caller_address


def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# The dependencies that only look something up on the app are coroutines: FastAPI runs a plain
# function dependency in a worker thread, and a read that queued for the thread pool once per
# lookup (ten times per request) crowded the pool the database pool is sized against.


async def get_db(request: Request) -> Database:
    return database_of(request)


_COMMITS = "loandesk_commits_at_end"


# A session is made on the event loop (a Session object takes no connection until its first
# statement) and, as a request's sessions are ended in the endpoint's own thread, its exit
# finds nothing left to do there; only a session still in a transaction (an endpoint that
# never ran to its end) is ended in a worker thread. Two fewer hand-offs per request.


@asynccontextmanager
async def _ended(manager: AbstractContextManager[Session], session: Session) -> AsyncIterator[None]:
    try:
        yield
    except BaseException as exc:
        await _leave(manager, session, (type(exc), exc, exc.__traceback__))
        raise
    await _leave(manager, session, (None, None, None))


async def _leave(
    manager: AbstractContextManager[Session],
    session: Session,
    failure: tuple[type[BaseException] | None, BaseException | None, TracebackType | None],
) -> None:
    if session.in_transaction():
        await anyio.to_thread.run_sync(lambda: manager.__exit__(*failure))
    else:
        manager.__exit__(*failure)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One unit of work per request: commit once as the endpoint returns (before the answer
    is serialised), or roll back on any error."""
    manager = database_of(request).unit_of_work()
    session = manager.__enter__()
    session.info[_COMMITS] = True
    async with _ended(manager, session):
        yield session


async def get_read_session(request: Request) -> AsyncIterator[Session]:
    """Reads for one request; on PostgreSQL each statement is bounded by the read timeout."""
    settings = settings_of(request)
    manager = database_of(request).read_only(
        statement_timeout_seconds=settings.capacity.read_statement_timeout_seconds
    )
    session = manager.__enter__()
    async with _ended(manager, session):
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


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_settings(request: Request) -> Settings:
    return settings_of(request)


async def get_business_date(clock: Annotated[Clock, Depends(get_clock)]) -> date:
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
