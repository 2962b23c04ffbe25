"""The book on a date as the MIS reads it: the loan history where the day-ends recorded that
date, the ledger where they did not.

The history is the ledger's cache, written night by night from the first day-end on. A book
bulk-built or imported with its past (DOMAIN.md, "Delinquency") has no history before its first
day-end, nor does a loan imported since for the weeks before it came in; for those dates the
figures come from the ledger (`jobs.history.book_as_of_sql`: schedules and dated allocation
lines, what a day-end run every night would have recorded). Reading the ledger costs far more
than reading the history, so a date every loan of whose book has a record of its own keeps the
history's plain read, and only a date some loan lacks one for pays for the ledger.

A MIS wants one date's book for many figures (the total, the portfolio, the buckets, the
classes, PAR, disputes, the roll matrix, the trend), so a date read from the ledger is read
once: its book is written to a temporary table of this connection, which every figure of that
MIS then reads, and which is dropped when the MIS is done (a failed MIS leaves it to the
transaction's rollback, which takes it with it on both databases).
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import BigInteger, Column, Integer, MetaData, String, Table, Uuid, text
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable, DropTable

from sync_server.jobs import sql as q
from sync_server.jobs.dayend import delinquency_settings
from sync_server.jobs.history import BEFORE_FIRST_NIGHT, as_of_sql, book_as_of_sql
from sync_server.reports.query import rows

_WITHOUT_HISTORY = f"""
    SELECT 1 FROM loans l
    WHERE l.disbursement_date <= :as_of AND l.status <> 'written_off'
      AND (l.status = 'active' OR l.closed_on > :as_of) AND {BEFORE_FIRST_NIGHT}
    LIMIT 1
"""
"""A loan in the book at `:as_of` with no day-end record on or before it (as book_as_of_sql
decides which loans it reads from the ledger)."""

_NPA = re.compile(r":npa\b")

_COLUMNS = (
    "loan_id, branch_id, dpd, collections_dpd, bucket, asset_class, principal_outstanding, "
    "arrears_paise"
)
"""`jobs.history.LoanOnDate`'s columns, in the order the book's SELECTs give them."""


def _book_table(day: date) -> Table:
    """The temporary table one date's book is kept in for one MIS, typed as the loan history
    is (so a loan id compares with `loans.id` as the history's does on both databases). A
    loan is in a book once: its key says so, and serves the roll matrix's join of two dates."""
    return Table(
        f"mis_book_{day:%Y%m%d}",
        MetaData(),
        Column("loan_id", Uuid, primary_key=True),
        Column("branch_id", Integer),
        Column("dpd", Integer),
        Column("collections_dpd", Integer),
        Column("bucket", String(16)),
        Column("asset_class", String(16)),
        Column("principal_outstanding", BigInteger),
        Column("arrears_paise", BigInteger),
        prefixes=["TEMPORARY"],
    )


class BookOnDate:
    """The SELECT of every loan in the book on a date (the columns of `jobs.history.LoanOnDate`),
    for one MIS: which source each date needs is asked once, and a date read from the ledger
    is read once (`books_on_dates` makes one and drops what it kept)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._from_ledger: dict[date, bool] = {}
        self._prepared = False
        self._kept: dict[date, Table] = {}

    def from_ledger(self, day: date) -> bool:
        """Whether some loan in the book on `day` has no day-end record of that date."""
        if day not in self._from_ledger:
            self._from_ledger[day] = bool(rows(self.session, _WITHOUT_HISTORY, as_of=day))
        return self._from_ledger[day]

    def sql(self, placeholder: str, day: date) -> str:
        """The book on `day`, whose date the statement binds as `placeholder` (":as_of"): the
        history's versions, or the table this MIS keeps the ledger's reading of that date in
        (which binds nothing)."""
        if not self.from_ledger(day):
            return as_of_sql(self.session, placeholder)
        table = self._kept[day] if day in self._kept else self._keep(day)
        return f"SELECT {_COLUMNS} FROM {table.name}"

    def _keep(self, day: date) -> Table:
        """Read the book on `day` from the ledger into a temporary table of this connection."""
        if not self._prepared:
            q.prepare(self.session)
            self._prepared = True
        settings = delinquency_settings(self.session, day)
        # The settings' NPA threshold of that night, written in as a number (an int of the
        # lender's settings, never text), as the book's other readings of it are.
        ledger = _NPA.sub(
            str(int(settings.npa_dpd)), book_as_of_sql(self.session, settings, ":as_of")
        )
        table = _book_table(day)
        self.session.execute(DropTable(table, if_exists=True))
        self.session.execute(CreateTable(table))
        self._kept[day] = table
        self.session.execute(
            q.sql(
                f"INSERT INTO {table.name} ({_COLUMNS}) SELECT {_COLUMNS} FROM ({ledger}) b",
                as_of=day,
            )
        )
        if self.session.get_bind().dialect.name == "postgresql":
            # A temporary table has no statistics until analysed (autovacuum never sees it),
            # and the figures join it to the loans and the roll matrix joins two of them.
            self.session.execute(text(f"ANALYZE {table.name}"))
        return table

    def drop(self) -> None:
        """Drop the tables this MIS kept (each created in the current transaction)."""
        for table in self._kept.values():
            self.session.execute(DropTable(table, if_exists=True))
        self._kept.clear()


@contextmanager
def books_on_dates(session: Session) -> Iterator[BookOnDate]:
    """A `BookOnDate` for one MIS; its tables are dropped when the MIS is done. On an error
    the session's transaction, which created them, is rolled back and takes them with it (a
    PostgreSQL transaction that failed could not drop them itself)."""
    book = BookOnDate(session)
    yield book
    book.drop()
