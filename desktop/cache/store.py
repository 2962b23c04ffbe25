"""Opening the cache and every read and write the sync engine and the screens make on it.

The cache is a SQLite file in the user's data directory (the path is injected). It is upgraded
to the latest schema each time it is opened, so an updated client never meets an old file.
Each method is one local transaction: entering a payment writes the pending payment and its
outbox row together, or neither.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, delete, event, func, select
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement

from desktop.cache.apply import CHILD_TABLES, apply_page, landing
from desktop.cache.models import (
    CacheBase,
    CachedInstallment,
    CachedLoan,
    CachedPayment,
    CachedSetting,
    CommandResultRow,
    LoanSearchTerm,
    OutboxRow,
    SyncMeta,
    refusal_clause,
    utcnow,
)
from loancore.settings import DEFAULTS, LenderSettings, SettingsRefused, settings_from_wire

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
BUSINESS_DATE_KEY = "business_date"
"""The server's business date as its last pull answer gave it (`desktop.viewmodels` reads it)."""
DPD_AS_OF_KEY = "dpd_as_of"
"""The day-end the cached loans' `collections_since` dates are read at, as the last pull
answer named it: a loan's DPD is `CachedLoan.dpd_at(dpd_as_of)`."""


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _analyze(connection: Connection) -> None:
    connection.exec_driver_sql("PRAGMA analysis_limit=1000")
    connection.exec_driver_sql("ANALYZE")


def upgrade_cache(engine: Engine) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def dpd_as_of_in(session: Session) -> date | None:
    """`Cache.dpd_as_of` inside a caller's session, read back to back with the loans whose
    DPD it counts to (a list's page, a loan lookup)."""
    row = session.get(SyncMeta, DPD_AS_OF_KEY)
    return date.fromisoformat(row.value) if row is not None else None


def paused_by_office() -> ColumnElement[bool]:
    """Entries answered `deferred` because a kill switch is off (codes `<switch>_disabled`).

    Other "not now" answers (the server's database was unavailable, a fault on the server)
    keep the entry queued too, but nobody in the office paused anything: the desk must not
    say so."""
    return OutboxRow.paused_code.like("%\\_disabled", escape="\\")


class Cache:
    """The local store. Thread-safe in the SQLite sense: each call has its own session."""

    def __init__(self, path: Path, *, device_id: str | None = None) -> None:
        """`device_id` is the client's (its settings file's), kept as this cache's id the
        first time anyone asks for it (`device_id()`) unless the cache already has one:
        opening the cache reads nothing for it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._offered_device_id = device_id
        self.engine = create_engine(
            f"sqlite:///{path}", connect_args={"check_same_thread": False, "timeout": 10}
        )
        event.listen(self.engine, "connect", _pragmas)
        upgrade_cache(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    # -- small facts ------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        with self.transaction() as session:
            row = session.get(SyncMeta, key)
            return None if row is None else row.value

    def set_meta(self, key: str, value: str) -> None:
        with self.transaction() as session:
            session.merge(SyncMeta(key=key, value=value))

    def device_id(self) -> str:
        """Minted once per cache: the server keys nothing on it, but it names the device in
        the audit trail and tells two devices of one user apart. The client's id, when the
        cache was opened with one, is the one kept; otherwise one is minted."""
        offered = self._offered_device_id or f"dev-{uuid.uuid4().hex[:16]}"
        # Two threads may ask first at once (the sync worker and a screen): the first insert
        # wins, the other keeps what was kept.
        with self.transaction() as session:
            session.execute(
                sqlite_insert(SyncMeta)
                .values(key="device_id", value=offered)
                .on_conflict_do_nothing(index_elements=["key"])
            )
            kept = session.get(SyncMeta, "device_id")
            assert kept is not None
            return kept.value

    def cursor(self) -> int:
        value = self.meta("cursor")
        return int(value) if value else 0

    # -- the outbox ------------------------------------------------------------------------

    def enqueue(
        self, command_json: dict[str, Any], *, also: Callable[[Session], None] | None = None
    ) -> None:
        """Queue a command; `also` writes its local effect (a pending payment) in the same
        transaction, so the screen never shows work that is not queued, nor the reverse."""
        with self.transaction() as session:
            session.add(
                OutboxRow(
                    command_id=str(command_json["id"]),
                    type=str(command_json["type"]),
                    command=command_json,
                    attempts=0,
                )
            )
            if also is not None:
                also(session)

    def outbox(self, limit: int | None = None, *, after: int = 0) -> list[OutboxRow]:
        """Queued commands in entry order, from just after `after` (a position)."""
        with self.transaction() as session:
            stmt = select(OutboxRow).where(OutboxRow.position > after).order_by(OutboxRow.position)
            if limit is not None:
                stmt = stmt.limit(limit)
            return list(session.execute(stmt).scalars())

    def outbox_size(self) -> int:
        with self.transaction() as session:
            return int(session.execute(select(func.count()).select_from(OutboxRow)).scalar_one())

    def note_attempt(self, command_ids: Sequence[str], error: str) -> None:
        with self.transaction() as session:
            for row in session.execute(
                select(OutboxRow).where(OutboxRow.command_id.in_(command_ids))
            ).scalars():
                row.attempts += 1
                row.last_error = error[:400]

    def defer(self, answers: Iterable[dict[str, Any]]) -> int:
        """Keep each command the server answered "not now" (`deferred`: the office has
        switched that work off) queued, under its id, with the answer's code and reason: it
        is sent again on the next rounds, and the status bar says what is paused."""
        deferred = 0
        with self.transaction() as session:
            for answer in answers:
                row = session.execute(
                    select(OutboxRow).where(OutboxRow.command_id == str(answer["id"]))
                ).scalar_one_or_none()
                if row is None:
                    continue
                row.attempts += 1
                row.paused_code = str(answer.get("code") or "paused")[:64]
                row.last_error = str(answer.get("reason") or "")[:400] or None
                deferred += 1
        return deferred

    def paused(self) -> dict[str, int]:
        """Queued entries the office has paused, counted by kind (payment, promise ...)."""
        with self.transaction() as session:
            rows = session.execute(
                select(OutboxRow.type, func.count())
                .where(paused_by_office())
                .group_by(OutboxRow.type)
            ).all()
        return {str(kind): int(n) for kind, n in rows}

    def settle(self, answers: Iterable[dict[str, Any]]) -> int:
        """Retire each answered command and keep its answer, in one transaction. A refused
        payment stays in the payments list, marked, until the user deals with it; a refused
        command of any kind keeps what was sent beside its answer, because the answer does
        not carry it and the outbox row that did is deleted here."""
        settled = 0
        with self.transaction() as session:
            for answer in answers:
                command_id = str(answer["id"])
                row = session.execute(
                    select(OutboxRow).where(OutboxRow.command_id == command_id)
                ).scalar_one_or_none()
                if row is None:
                    continue
                status = str(answer["status"])
                # A duplicate repeats the first answer; a code means that answer was a refusal.
                original = status
                if status == "duplicate":
                    original = "rejected" if answer.get("code") else "applied"
                session.merge(
                    CommandResultRow(
                        command_id=command_id,
                        type=row.type,
                        status=status,
                        code=answer.get("code"),
                        reason=answer.get("reason"),
                        result=answer.get("result"),
                        command=row.command if original != "applied" else None,
                        answered_at=utcnow(),
                        seen=original == "applied",
                    )
                )
                if row.type == "payment":
                    payment = session.get(CachedPayment, command_id)
                    if payment is not None and payment.sync_state == "pending":
                        payment.sync_state = {
                            "applied": "sent",
                            "rejected": "rejected",
                            "conflict": "conflict",
                        }[original]
                session.delete(row)
                settled += 1
        return settled

    def results(self, *, unseen_only: bool = False) -> list[CommandResultRow]:
        with self.transaction() as session:
            stmt = select(CommandResultRow).order_by(CommandResultRow.answered_at)
            if unseen_only:
                stmt = stmt.where(CommandResultRow.seen.is_(False))
            return list(session.execute(stmt).scalars())

    def refused_count(self) -> int:
        """Entries the server refused (or found conflicting) that are still on this computer:
        the Sync problems list, counted for the status bar and the navigation badge."""
        with self.transaction() as session:
            return int(
                session.execute(
                    select(func.count()).select_from(CommandResultRow).where(refusal_clause())
                ).scalar_one()
            )

    def mark_seen(self, command_id: str) -> None:
        with self.transaction() as session:
            row = session.get(CommandResultRow, command_id)
            if row is not None:
                row.seen = True

    # -- pulled changes ----------------------------------------------------------------------

    def apply_changes(
        self,
        changes: Sequence[dict[str, Any]],
        next_cursor: int,
        *,
        business_date: date | str | None = None,
        dpd_as_of: date | str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> None:
        """Upsert or remove each change and move the cursor, in one transaction: a crash
        between pages repeats a page (upserts are idempotent) but never skips one. The
        server's business date, when the page carries it, is kept too: offline, the desk
        dates and checks work against the server's day, not the device's clock.

        So is the day-end the page's delinquency dates describe (`dpd_as_of`), in the same
        transaction as the loans: after a day-end that changed nothing but the date, only
        this moves, and every cached overdue loan reads one day more. The server sends None
        before its first day-end (every loan is then undated, DPD 0); the last date heard is
        kept rather than forgotten.

        The lender's settings in force on the server's business date (`settings`, sent with
        every page) land in the same transaction; an older server sends none and the last
        known (or DOMAIN.md's defaults) stay.

        The page commits without waiting for the disk (`apply.landing` says why that is safe)."""
        with landing(self.engine) as session:
            apply_page(session, changes)
            for key, value in (settings or {}).items():
                session.merge(CachedSetting(key=str(key)[:64], value=value))
            session.merge(SyncMeta(key="cursor", value=str(next_cursor)))
            if any(change.get("entity") == "loan" for change in changes):
                _analyze(session.connection())
            for key, told in ((BUSINESS_DATE_KEY, business_date), (DPD_AS_OF_KEY, dpd_as_of)):
                if told is not None:
                    day = date.fromisoformat(str(told)[:10]).isoformat()
                    session.merge(SyncMeta(key=key, value=day))

    def optimize(self) -> None:
        """Refresh SQLite's statistics (sampled, so a few milliseconds even at 100,000 loans).
        Without them the planner guesses that "collector = me" is selective and sorts a
        collector's whole book instead of walking the list's sort index."""
        with self.engine.begin() as connection:
            _analyze(connection)

    def business_date(self) -> date | None:
        """The server's business date as last heard, or None before the first pull."""
        value = self.meta(BUSINESS_DATE_KEY)
        return date.fromisoformat(value) if value else None

    def dpd_as_of(self) -> date | None:
        """The day-end the cached delinquency is read at, or None before the server's first
        day-end reached this desk (every loan then reads DPD 0). It is the server's, never the
        device clock's: an offline desk keeps showing the DPD of the last day-end it heard
        of, as the server would, rather than counting days on its own (a payment made at the
        branch since may already have cured the loan)."""
        with self.transaction() as session:
            return dpd_as_of_in(session)

    def lender_settings(self) -> LenderSettings:
        """The settings the server last sent, for the desk's own checks. Keys this desk does
        not know (a newer server) are left out; a set its rules refuse (it never should: the
        server validated it) gives way to DOMAIN.md's defaults, logged, rather than stop the
        desk: the server still judges every payment with its own."""
        with self.transaction() as session:
            rows = session.execute(select(CachedSetting.key, CachedSetting.value)).all()
        try:
            return settings_from_wire(dict(rows))
        except SettingsRefused as refused:
            log.warning("cached settings refused, using the defaults: %s", refused.message)
            return DEFAULTS

    def reset(self) -> None:
        """Forget everything pulled (a different user signs in); queued work is kept."""
        with self.transaction() as session:
            tables: list[type[CacheBase]] = [
                CachedLoan,
                CachedInstallment,
                LoanSearchTerm,
                *CHILD_TABLES.values(),
            ]
            for table in tables:
                session.execute(delete(table))
            session.execute(delete(CachedPayment).where(CachedPayment.sync_state != "pending"))
            session.execute(delete(SyncMeta).where(SyncMeta.key == "cursor"))

    # -- what screens and tests read -------------------------------------------------------

    def loans(self) -> list[CachedLoan]:
        with self.transaction() as session:
            return list(
                session.execute(select(CachedLoan).order_by(CachedLoan.account_no)).scalars()
            )

    def payments(self, loan_id: str | None = None) -> list[CachedPayment]:
        with self.transaction() as session:
            stmt = select(CachedPayment).order_by(CachedPayment.payment_date, CachedPayment.id)
            if loan_id is not None:
                stmt = stmt.where(CachedPayment.loan_id == loan_id)
            return list(session.execute(stmt).scalars())

    def server_view(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Everything this cache holds as the server's view, keyed by (entity, id): what a
        fresh pull from cursor 0 must reproduce. Work not yet confirmed is left out."""
        view: dict[tuple[str, str], dict[str, Any]] = {}
        with self.transaction() as session:
            for loan in session.execute(select(CachedLoan)).scalars():
                view[("loan", loan.id)] = loan.data
            for payment in session.execute(
                select(CachedPayment).where(CachedPayment.sync_state == "synced")
            ).scalars():
                view[("payment", payment.id)] = payment.data
            for entity, table in CHILD_TABLES.items():
                for row in session.execute(select(table)).scalars():
                    view[(entity, row.id)] = row.data  # type: ignore[attr-defined]
        return view
