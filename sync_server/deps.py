"""Request-scoped dependencies shared by every feature's routes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from sync_server.clock import Clock
from sync_server.config import Settings
from sync_server.db.engine import Database


def get_db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def get_session(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit once after the endpoint returns (before the
    response is sent: scope="function" below), or roll back on any error."""
    with get_db(request).unit_of_work() as session:
        yield session


def get_read_session(request: Request) -> Iterator[Session]:
    with get_db(request).read_only() as session:
        yield session


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
    return request.client.host if request.client else "unknown"
