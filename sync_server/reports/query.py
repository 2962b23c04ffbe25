"""What every MIS query shares: typed binding on both databases, the branch scope, and the
month and IST-day arithmetic of a business date."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, String, bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from sync_server.db.types import UTCDateTime
from sync_server.errors import NotFound

IST = ZoneInfo("Asia/Kolkata")


class UnknownBranch(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"No branch has the code {code!r}.", code="unknown_branch")


def bound_sql(statement: str, **params: Any) -> TextClause:
    """Dates, instants and numbers bound through their column types on both databases; a
    shared set of parameters binds only those the statement names."""

    def typed(value: Any) -> Any:
        if isinstance(value, datetime):
            return UTCDateTime()
        if isinstance(value, date):
            return Date()
        if isinstance(value, int):
            return Integer()
        return String()

    binds = [bindparam(k, v, type_=typed(v)) for k, v in params.items() if f":{k}" in statement]
    return text(statement).bindparams(*binds)


def month_start(day: date) -> date:
    return day.replace(day=1)


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def ist_midnight_after(day: date) -> datetime:
    """The instant (UTC) the business date `day` ends in Asia/Kolkata."""
    return datetime.combine(day + timedelta(days=1), time(), IST).astimezone(UTC)


class Scope:
    """The branch the report covers (None: the whole lender) as SQL fragments."""

    def __init__(self, session: Session, code: str | None) -> None:
        self.code = code
        self.branch_id: int | None = None
        if code is not None:
            found = session.execute(bound_sql("SELECT id FROM branches WHERE code = :c", c=code))
            row = found.first()
            if row is None:
                raise UnknownBranch(code)
            self.branch_id = int(row[0])

    def where(self, column: str) -> str:
        return "" if self.branch_id is None else f" AND {column} = :branch_id"

    def params(self) -> dict[str, Any]:
        return {} if self.branch_id is None else {"branch_id": self.branch_id}


def rows(session: Session, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in session.execute(bound_sql(statement, **params))]
