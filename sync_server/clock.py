"""The server's clock decides the business date, never the device's.

It is injected (app.state.clock) so tests and the demo can stand on any day, e.g. the RBI
worked example in 2021, while production uses the system clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from loancore.dates import business_date


class Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def business_date(self) -> date:
        return business_date(self.now())


class FixedClock(Clock):
    """A clock that stands still until moved; for tests and reproducible demos."""

    def __init__(self, instant: datetime) -> None:
        if instant.tzinfo is None:
            raise ValueError("the clock needs an aware instant")
        self.instant = instant

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant += delta

    def set(self, instant: datetime) -> None:
        self.instant = instant
