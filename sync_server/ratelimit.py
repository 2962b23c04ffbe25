"""Rate limits that hold across every server process on one database, and the caller's address
as seen behind a proxy.

Why the database, and not Redis (or slowapi/limits, whose shared storages are Redis, Memcached
and MongoDB): a LoanDesk installation is one database and one server process or a few (SQLite
in a small office, PostgreSQL when several processes share the load). The database is already
installed, backed up and watched, and every process already holds a pool of connections to it;
Redis would be one more service to install, secure and keep running on a branch server for the
sake of a few counters, and a limit that lives in one process's memory (what this replaces) is
multiplied by the number of processes and forgotten on every restart.

The counters are fixed windows: one row per (scope, window, key) holding the hits counted so
far, raised by one atomic upsert (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`), which both
SQLite and PostgreSQL run as a single statement, so two processes never both take the last
place. Rows of windows that have passed are deleted by the first claim of each new window.

A write for every request would put every read behind SQLite's one writer, so a process claims
places in batches (`Limit.batch`, a twentieth of the limit) and serves them from memory until
they run out; a key the database has refused is refused from memory for the rest of the
window, so a flood costs one write, not one per request. The price is that places claimed by
one process and not used there are not used elsewhere: another process may refuse up to
`batch` requests a process early, never let through more than the limit. Limits that must be
exact (failed sign-ins per account) use a batch of one and ask the database every time.

A request limit's claim waits for the database only briefly (`CLAIM_WAIT_SECONDS`): behind a
long write on SQLite the process counts on its own for a moment and settles up afterwards
(`RateLimiter`), so reads never queue behind the writers' lock for the sake of a counter.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from sync_server.db.engine import BRIEF_WAIT, Database, DatabaseBusy
from sync_server.db.models import RateLimitWindow

_REFUSED = -1
"""A key's lease when the database said its window is used up."""
CLAIM_WAIT_SECONDS = 0.1
"""How long a request limit's claim waits for the database (a queued request waits 0.25 s)."""
MOST_CLAIMED = 50
"""The most places of one key a process holds unused; see `Limit.batch`."""
_ALONE_SECONDS = 1.0
"""How long a process counts on its own after the database could not take a claim in time."""


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `hits` per key in each window of `window_seconds`, counted under `scope`."""

    scope: str
    hits: int
    window_seconds: int

    def __post_init__(self) -> None:
        if self.hits < 1 or self.window_seconds < 1:
            raise ValueError("a limit needs at least one hit in a window of at least a second")

    @property
    def batch(self) -> int:
        """Places one process claims at a time: a twentieth of the limit, at least one and at
        most `MOST_CLAIMED`. A process that dies (or restarts) takes its unused places with
        it for the rest of the window: uncapped, a limit raised to a million a minute for a
        load test claimed 50,000 at a time, and ten restarts in a minute refused the user."""
        return min(MOST_CLAIMED, max(1, self.hits // 20))

    def window_at(self, instant: float) -> int:
        """The start (Unix seconds) of the window that `instant` falls in."""
        return int(instant) // self.window_seconds * self.window_seconds


class RateLimiter:
    """One limit, counted in the database (rate_limit_windows) for every process alike.

    A claim waits at most `brief_wait` seconds for the database (SQLite's one writer may be busy
    with a long batch; a request limit must not make reads queue behind it). When the database
    cannot answer that soon, the process counts on its own for a second, at most the limit per
    key, as if it were the only process, and adds what it let through to the shared count on
    its next claim, so a busy database neither stalls the door nor loses the count. (So does a
    database that cannot be reached: the liveness probe still answers, and the requests that
    need the database fail there, with their own message.)"""

    def __init__(
        self,
        db: Database,
        limit: Limit,
        *,
        clock: Callable[[], float] = time.time,
        brief_wait: float | None = None,
    ) -> None:
        self.db = db
        self.limit = limit
        self.clock = clock
        self.brief_wait = brief_wait
        self._window = -1
        self._leases: dict[str, int] = {}
        self._owed: dict[str, int] = {}
        self._alone: dict[str, int] = {}
        self._alone_until = 0.0
        self._lock = threading.Lock()

    def allow_locally(self, key: str) -> bool | None:
        """True or False when this process's claimed places decide; None when the database
        must be asked (`allow`). Never blocks, so the event loop may call it."""
        window = self.limit.window_at(self.clock())
        with self._lock:
            self._enter(window)
            left = self._leases.get(key, 0)
            if left == _REFUSED:
                return False
            if left > 0:
                self._leases[key] = left - 1
                return True
            return None

    def allow(self, key: str) -> bool:
        """Counts one hit for `key`; False once the window's limit is reached in any process.
        May write to the database: call it from a worker thread."""
        decided = self.allow_locally(key)
        if decided is not None:
            return decided
        window = self.limit.window_at(self.clock())
        with self._lock:
            if time.monotonic() < self._alone_until:
                return self._count_alone(key)
            owed = self._owed.pop(key, 0)
        try:
            granted = self._claim(key, window, self.limit.batch, owed=owed)
        except (DatabaseBusy, PoolTimeout, DBAPIError):
            with self._lock:
                self._alone_until = time.monotonic() + _ALONE_SECONDS
                if window == self._window:
                    self._owed[key] = self._owed.get(key, 0) + owed
                return self._count_alone(key)
        with self._lock:
            self._enter(window)
            if granted == 0:
                self._leases[key] = _REFUSED
                return False
            if window == self._window:
                self._leases[key] = max(self._leases.get(key, 0), 0) + granted - 1
            return True

    def take(self, key: str, instant: float) -> bool:
        """One place for `key` in the window of `instant`, claimed in the database now (no
        batch, nothing remembered): for limits that must be exact across processes."""
        return self._claim(key, self.limit.window_at(instant), 1) == 1

    def give_back(self, session: Session, key: str, instant: float) -> None:
        """Returns a place `take` claimed, in the caller's transaction (a sign-in that
        succeeded is not a failure): it is given back only if that transaction commits."""
        row = RateLimitWindow
        session.execute(
            update(row)
            .where(
                row.scope == self.limit.scope,
                row.window_start == self.limit.window_at(instant),
                row.key == key[:128],
                row.hits > 0,
            )
            .values(hits=row.hits - 1)
        )

    def _enter(self, window: int) -> None:
        """A new window forgets every lease of the old one (they are worth nothing now); what
        was let through uncounted in it no longer matters either."""
        if window > self._window:
            self._window = window
            self._leases.clear()
            self._owed.clear()
            self._alone.clear()

    def _count_alone(self, key: str) -> bool:
        """The database is busy: this process alone keeps the key under the limit (caller
        holds the lock), and owes each hit to the shared count."""
        served = self._alone.get(key, 0)
        if served >= self.limit.hits:
            return False
        self._alone[key] = served + 1
        self._owed[key] = self._owed.get(key, 0) + 1
        return True

    def _claim(self, key: str, window: int, wanted: int, *, owed: int = 0) -> int:
        """Adds `owed` hits already let through and `wanted` more to the key's row, and
        answers how many of the wanted fit the limit."""
        row = RateLimitWindow
        dialect = postgresql if self.db.engine.dialect.name == "postgresql" else sqlite
        insert: Any = dialect.insert(row)
        added = owed + wanted
        statement = (
            insert.values(scope=self.limit.scope, window_start=window, key=key[:128], hits=added)
            .on_conflict_do_update(
                index_elements=["scope", "window_start", "key"],
                set_={"hits": row.hits + added},
            )
            .returning(row.hits)
        )
        with self._unit_of_work() as session:
            hits = int(session.execute(statement).scalar_one())
            if hits == added:  # the first claim of this key in this window: sweep the old ones
                session.execute(
                    delete(row).where(row.scope == self.limit.scope, row.window_start < window)
                )
        before = hits - wanted
        return max(0, min(wanted, self.limit.hits - before))

    @contextmanager
    def _unit_of_work(self) -> Iterator[Session]:
        """The database's unit of work, waiting only `brief_wait` for a write lock if set."""
        if self.brief_wait is None:
            with self.db.unit_of_work() as session:
                yield session
            return
        engine = self.db.engine.execution_options(**{BRIEF_WAIT: self.brief_wait})
        with Session(engine) as session, session.begin():
            if engine.dialect.name == "postgresql":
                session.execute(text(f"SET LOCAL lock_timeout = {int(self.brief_wait * 1000)}"))
            yield session


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(proxies: Iterable[str]) -> tuple[Network, ...]:
    """The proxies' addresses or networks ("10.0.0.5", "10.0.0.0/24"); a typo is refused at
    start-up rather than trusted or ignored."""
    networks = []
    for entry in proxies:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(f"'{entry}' is not an address or network of a trusted proxy") from None
    return tuple(networks)


def _is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in trusted)


def caller_address(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """Who is calling. Only a trusted proxy's X-Forwarded-For is believed, and only as far
    back as trusted proxies reach: read from the right, the first address that is not one of
    ours is the caller, since everything left of it was written by the caller and proves
    nothing. Anyone else's header is ignored; the connection's own address is the caller."""
    address = peer or "unknown"
    if not forwarded_for or not _is_trusted(address, trusted):
        return address
    for hop in reversed([part.strip() for part in forwarded_for.split(",")]):
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # a proxy of ours wrote something unreadable: trust it no further
        if not _is_trusted(hop, trusted):
            return hop
        address = hop
    return address
