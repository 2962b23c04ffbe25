"""Bounds every route's parameters share, so no query string can reach the database as a value
it cannot hold.

PostgreSQL and SQLite both keep integers in 64 bits: `?cursor=9223372036854775808` used to get
past FastAPI (Python ints have no bound) and fail in the driver (500 on SQLite, 503 on
PostgreSQL). Every integer parameter is one of the types here, which say 422 first. Text in a
query or a path is checked once for every route by `refuse_control_characters` (an app-wide
dependency): no route can forget it, and the answer reads the same everywhere.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from fastapi import Query, Request
from pydantic import BeforeValidator, Field

from loancore.text import refuse_controls
from sync_server.errors import ValidationFailed

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1

RowId = Annotated[int, Field(ge=1, le=INT64_MAX)]
"""The id of a row numbered in 64 bits (an audit entry)."""
BranchId = Annotated[int, Field(ge=1, le=INT32_MAX)]
"""A branch's id: branches are numbered in 32 bits (PostgreSQL refuses a larger value compared
with the column as soon as it binds it)."""
Cursor = Annotated[int, Query(ge=0, le=INT64_MAX)]
"""A position in the change feed (64-bit sequence numbers)."""
Days = Annotated[int, Field(ge=0, le=INT64_MAX)]
"""A number of days (days past due): a bound past any date is no bound, within 64 bits."""
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    """Pydantic reads a number as seconds since 1970, so `?date_to=0` was 01-01-1970 and
    answered 200; the document says `format: date`, and only that spelling is a date here."""
    if isinstance(value, str) and not ISO_DAY.fullmatch(value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


QueryDate = Annotated[
    date, BeforeValidator(_iso_day), Field(ge=date(1900, 1, 1), le=date(9999, 12, 30))
]
"""A business date asked about, written YYYY-MM-DD: 0001-01-01 at midnight IST is not an
instant Python can hold in UTC, and 9999-12-31 has no next day to end a range with."""


async def refuse_control_characters(request: Request) -> None:
    """No query value and no path segment may carry a control character (a `%00` in `?q=`
    used to match every loan on SQLite and fail the transaction on PostgreSQL). A check of a
    few strings: answered on the event loop, not queued for a worker thread."""
    texts = [
        *((f"query parameter '{k}'", f"{k}{v}") for k, v in request.query_params.multi_items()),
        *((f"path parameter '{k}'", str(v)) for k, v in request.path_params.items()),
    ]
    for where, value in texts:
        try:
            refuse_controls(value)
        except ValueError as exc:
            raise ValidationFailed(f"{where}: {exc}") from None
