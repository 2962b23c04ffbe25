"""Rate-limit counters shared by every server process (sync_server/ratelimit.py says why they
live in the database)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from sync_server.db.models.base import Base


class RateLimitWindow(Base):
    """Hits counted for one key (an address, a user, an account being signed in to) in one
    fixed window of one limit ("scope"). Rows of past windows are deleted as windows pass."""

    __tablename__ = "rate_limit_windows"

    scope: Mapped[str] = mapped_column(String(16), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """Unix seconds at which the window began (a multiple of the scope's window length)."""
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
