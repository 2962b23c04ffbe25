"""The book on a date as the MIS reads it: the loan history where the day-ends recorded that
date, the ledger where they did not.

The history is the ledger's cache, written night by night from the first day-end on. A book
bulk-built or imported with its past (DOMAIN.md, "Delinquency") has no history before its first
day-end, nor does a loan imported since for the weeks before it came in; for those dates the
figures come from the ledger (`jobs.history.book_as_of_sql`: schedules and dated allocation
lines, what a day-end run every night would have recorded). Reading the ledger costs far more
than reading the history, so a date every loan of whose book has a record of its own keeps the
history's plain read, and only a date some loan lacks one for pays for the ledger.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.orm import Session

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


class BookOnDate:
    """The SELECT of every loan in the book on a date (the columns of `jobs.history.LoanOnDate`),
    for one MIS: which source each date needs is asked once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._from_ledger: dict[date, bool] = {}
        self._prepared = False

    def from_ledger(self, day: date) -> bool:
        """Whether some loan in the book on `day` has no day-end record of that date."""
        if day not in self._from_ledger:
            self._from_ledger[day] = bool(rows(self.session, _WITHOUT_HISTORY, as_of=day))
        return self._from_ledger[day]

    def sql(self, placeholder: str, day: date) -> str:
        """The book on `day`, whose date the statement binds as `placeholder` (":as_of")."""
        if not self.from_ledger(day):
            return as_of_sql(self.session, placeholder)
        if not self._prepared:
            q.prepare(self.session)
            self._prepared = True
        settings = delinquency_settings(self.session, day)
        # The settings' NPA threshold of that night, written in as a number (an int of the
        # lender's settings, never text), so that one statement can read two dates each under
        # its own settings.
        return _NPA.sub(
            str(int(settings.npa_dpd)), book_as_of_sql(self.session, settings, placeholder)
        )
