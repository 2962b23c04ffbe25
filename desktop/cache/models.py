"""The desktop's local cache: what the user may see, as the server last told it, plus the work
entered here that the server has not answered yet.

Each pulled entity keeps the server's view whole in `data` (the wire model's JSON), so a new
field on the wire needs no cache migration; the columns beside it are the ones screens filter
and sort on. Pending payments live in the same `payments` table as synced ones, marked by
`sync_state`, so a loan's payment list shows both without a union.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    or_,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from loancore.delinquency import dpd_on


class UTCInstant(TypeDecorator[datetime]):
    """SQLite forgets the zone of a stored instant; it is put back on read."""

    impl = DateTime()
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored: instants are UTC-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class CacheBase(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


NO_DUE_DATE = "9999-12-31"
"""`next_due` of a loan with nothing left to fall due: it sorts after every real date."""

COLLECTIONS_SINCE_KEY_SQL = f"coalesce(collections_since, '{NO_DUE_DATE}')"
"""The loans list's DPD sort key. DPD is the distance from `collections_since` to the day-end
it is read at, so DPD descending is this date ascending, and a loan not overdue (no date)
sorts last; one date per loan also keeps the index still when only the day-end moves. The
list's queries spell it the same way (`desktop.viewmodels.loans`): SQLite uses an index on
an expression only for that very expression."""


def _sort_index(name: str, *keys: Any, also: tuple[str, ...] = ()) -> Index:
    """The loans list pages `status = 'active'` in one of its orders; an index whose columns
    are the status, then that order, then the id (the keyset tiebreaker) lets SQLite walk it
    and stop after a page, with no sort of the whole book first. `also` makes it cover a
    filter's column, so counting a bucket never reads the loans themselves."""
    return Index(name, "status", *keys, "account_no", "id", *also)


class CachedLoan(CacheBase):
    """`borrower_key` (the name lower-cased), `outstanding_paise`, `next_due` and
    `collections_since` are copied out of `data` when a loan lands, so the list can sort and
    seek on them through indexes.

    Delinquency is kept as the date the loan's collections DPD counts from, never as the DPD
    itself: the server names the day-end it describes (`dpd_as_of`, kept in `sync_meta`), and
    a loan whose dues stand still is not sent again each night just because its DPD grew by
    one. Read DPD with `dpd_at`."""

    __tablename__ = "loans"
    __table_args__ = (
        _sort_index(
            "ix_loans_by_collections_since", text(COLLECTIONS_SINCE_KEY_SQL), also=("bucket",)
        ),
        _sort_index("ix_loans_by_borrower", "borrower_key"),
        _sort_index("ix_loans_by_outstanding", text("outstanding_paise DESC")),
        _sort_index("ix_loans_by_next_due", "next_due"),
        _sort_index("ix_loans_by_collector", "collector_id", text(COLLECTIONS_SINCE_KEY_SQL)),
        _sort_index("ix_loans_by_branch", "branch_id", text(COLLECTIONS_SINCE_KEY_SQL)),
        Index("ix_loans_by_account", "status", "account_no", "id"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_no: Mapped[str] = mapped_column(String(32), index=True)
    branch_id: Mapped[int | None] = mapped_column(Integer)
    collector_id: Mapped[str | None] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(16))
    collections_since: Mapped[str | None] = mapped_column(String(10))
    """ISO date the collections DPD counts from (frozen while a dispute is open); None when
    the loan is not overdue."""
    bucket: Mapped[str] = mapped_column(String(16), default="current")
    borrower_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    outstanding_paise: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    next_due: Mapped[str] = mapped_column(
        String(10), default=NO_DUE_DATE, server_default=NO_DUE_DATE
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

    def dpd_at(self, dpd_as_of: date | None) -> int:
        """The loan's collections DPD at the day-end `dpd_as_of` (the server's, as last
        pulled: `desktop.cache.store.Cache.dpd_as_of`)."""
        since = self.collections_since
        return dpd_on(date.fromisoformat(since) if since else None, dpd_as_of)


class LoanSearchTerm(CacheBase):
    """The words a loan is found by: each word of the borrower's name and the account number
    (whole, and its digits), lower-cased. Searching is then a prefix seek on this primary key
    rather than a LIKE '%...%' scan of every loan's JSON."""

    __tablename__ = "loan_search_terms"
    __table_args__ = ({"sqlite_with_rowid": False},)

    term: Mapped[str] = mapped_column(String(200), primary_key=True)
    loan_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class CachedInstallment(CacheBase):
    __tablename__ = "installments"

    loan_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    due_date: Mapped[str] = mapped_column(String(10))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class CachedPayment(CacheBase):
    """`sync_state`: pending (entered here, not yet answered), synced (the server's record),
    rejected or conflict (the server refused it; the user must see why)."""

    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_loan_state", "loan_id", "sync_state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    loan_id: Mapped[str] = mapped_column(String(36))
    amount_paise: Mapped[int] = mapped_column(BigInteger)
    payment_date: Mapped[str] = mapped_column(String(10))
    sync_state: Mapped[str] = mapped_column(String(16))
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class _LoanChild:
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    loan_id: Mapped[str] = mapped_column(String(36), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class CachedPromise(_LoanChild, CacheBase):
    __tablename__ = "promises"


class CachedDispute(_LoanChild, CacheBase):
    __tablename__ = "disputes"


class CachedLegalCase(_LoanChild, CacheBase):
    __tablename__ = "legal_cases"


class CachedReminder(_LoanChild, CacheBase):
    __tablename__ = "reminders"


class CachedContact(_LoanChild, CacheBase):
    __tablename__ = "contact_logs"


class CachedLegalNote(_LoanChild, CacheBase):
    __tablename__ = "legal_notes"


class OutboxRow(CacheBase):
    """A command waiting for a final answer (`loancore.contract.FINAL_STATUSES`). `position` keeps entry order, which the
    server relies on only loosely (each command stands alone) but people expect."""

    __tablename__ = "outbox"

    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    command_id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(32))
    command: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCInstant, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(400))
    paused_code: Mapped[str | None] = mapped_column(String(64))
    """The server's last "not now" (`deferred`: the office switched this work off), e.g.
    `payments_intake_disabled`; None when it has not said so. The entry stays queued."""


class CommandResultRow(CacheBase):
    """The server's definitive answer to a command; refusals stay until the user has seen them.
    `command` is the refused command itself (as it sat in the outbox): the answer does not
    repeat it, and nothing else on this computer keeps a closed dispute, a call or visit log
    or a legal note once its outbox row is retired. Applied answers leave it empty."""

    __tablename__ = "command_results"

    command_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    code: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(400))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    command: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    answered_at: Mapped[datetime] = mapped_column(UTCInstant, default=utcnow)
    seen: Mapped[bool] = mapped_column(default=False)


REFUSED_STATUSES = ("rejected", "conflict")


def refusal_clause() -> ColumnElement[bool]:
    """A result is a refusal if the server said so, or repeated a refusal as a duplicate."""
    return or_(
        CommandResultRow.status.in_(REFUSED_STATUSES),
        (CommandResultRow.status == "duplicate") & CommandResultRow.code.is_not(None),
    )


class CachedSetting(CacheBase):
    """One of the lender's settings as the last pull answer gave it (loancore.settings)."""

    __tablename__ = "lender_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)


class SyncMeta(CacheBase):
    """Small key/value facts: the pull cursor, this device's id, who the cache belongs to."""

    __tablename__ = "sync_meta"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
