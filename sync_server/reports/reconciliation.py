"""The reconciliation status in the MIS, as the book and the bank statements stood at the close
of the business date (IST).

The bank side, over the whole lender:
- credit lines booked in the bank by the date (money in), their count and amount;
- of those, the lines matched to a payment or a deposit at that instant (a match made by then
  and not undone by then: unmatching stamps `unmatched_at`, it never deletes);
- the rest, unmatched: money the bank holds that the book has not yet explained (the
  candidates for unidentified receipts), with the oldest one's booking date;
- the matched share, by amount.
Bank accounts belong to the lender, not to a branch, so a branch's MIS carries no bank side
(None), rather than the lender's under the branch's name.

The book side, scoped like every other figure (a branch's MIS: its own receipts and deposits),
the reconciliation queues' rules (reconciliation.queues, restated here since the two
packages stay apart) read at the date instead of now:
- missing in bank: digital receipts and cash deposits dated on or before the last date whose
  `missing_in_bank_working_days`-th bank working day is behind the as-of date, that no bank
  line was matched to at the close;
- cash in hand: cash receipts dated on or before the last date whose
  `cash_in_hand_working_days`-th working day is behind the as-of date, in no deposit made by
  the close.
Each with its count, amount and the oldest entry's age in days at the as-of date; the windows
are the lender's settings in force on the date (effective-dated, so a later change does not
reach back).

Re-run later for the same date, these give the same figures: a receipt counts once it was
posted by the close (`posted_at`; `recorded_at` for a row that has none) and not reversed by
then (an approval's `decided_at`), a deposit once made by the close (`made_at`), a match while
live at the close (`matched_at`, `unmatched_at`). What a re-run cannot reproduce: a row written
straight into the database with back-dated stamps, or deleted (the application deletes none of
these); and a change of the bank working-day rule itself (Sundays, second and fourth
Saturdays) in a later release. Those later facts that are recorded are left out on purpose: a
receipt entered after the date with a back date, a deposit or a match made later, all belong
to the re-run of a later date.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants only; every value
# a person or the book supplies is a bound parameter.

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from loancore.acceptance import PaymentMode
from loancore.dates import add_working_days
from sync_server.reports.figures import QueueLine, Ratio, ReconciliationStatus
from sync_server.reports.query import Scope, ist_midnight_after, rows
from sync_server.settings.service import settings_on

_LIVE_MATCH = """EXISTS (SELECT 1 FROM bank_matches m WHERE m.bank_line_id = b.id
    AND m.matched_at < :until AND (m.unmatched_at IS NULL OR m.unmatched_at >= :until))"""


def _live_match_of(column: str, entry: str) -> str:
    return f"""EXISTS (SELECT 1 FROM bank_matches m WHERE m.{column} = {entry}
    AND m.matched_at < :until AND (m.unmatched_at IS NULL OR m.unmatched_at >= :until))"""


_IN_BOOK = """p.status = 'posted' AND COALESCE(p.posted_at, p.recorded_at) < :until
    AND NOT EXISTS (SELECT 1 FROM payment_reversals v WHERE v.payment_id = p.id
        AND v.status = 'approved' AND v.decided_at < :until)"""
"""A receipt in the book at the close: posted by then and not reversed by then."""


def reconciliation_status(session: Session, scope: Scope, day: date) -> ReconciliationStatus | None:
    if scope.branch_id is not None:
        return None
    row = rows(
        session,
        f"""SELECT count(*), COALESCE(sum(b.amount_paise), 0),
          COALESCE(sum(CASE WHEN {_LIVE_MATCH} THEN 1 ELSE 0 END), 0),
          COALESCE(sum(CASE WHEN {_LIVE_MATCH} THEN b.amount_paise ELSE 0 END), 0),
          min(CASE WHEN {_LIVE_MATCH} THEN NULL ELSE b.booked_on END)
        FROM bank_lines b WHERE b.amount_paise > 0 AND b.booked_on <= :as_of""",
        as_of=day,
        until=ist_midnight_after(day),
    )[0]
    lines, amount, matched_lines, matched_amount = (int(v) for v in row[:4])
    return ReconciliationStatus(
        credit_lines=lines,
        credit_amount=amount,
        matched_lines=matched_lines,
        matched_amount=matched_amount,
        unmatched_lines=lines - matched_lines,
        unmatched_amount=amount - matched_amount,
        matched_share=Ratio(matched_amount, amount),
        oldest_unmatched=_date(row[4]),
    )


def missing_in_bank(session: Session, scope: Scope, day: date) -> QueueLine:
    window = settings_on(session, day).missing_in_bank_working_days
    return _queue(
        session,
        window,
        day,
        f"""SELECT count(*), COALESCE(sum(e.amount), 0), min(e.on_date) FROM (
            SELECT p.payment_date AS on_date, p.amount_paise AS amount FROM payments p
            WHERE p.mode <> :cash AND p.payment_date <= :through AND {_IN_BOOK}
              AND NOT {_live_match_of("payment_id", "p.id")}{scope.where("p.branch_id")}
            UNION ALL
            SELECT d.deposit_date, d.total_paise FROM cash_deposits d
            WHERE d.deposit_date <= :through AND d.made_at < :until
              AND NOT {_live_match_of("deposit_id", "d.id")}{scope.where("d.branch_id")}
        ) e""",
        **scope.params(),
    )


def cash_in_hand(session: Session, scope: Scope, day: date) -> QueueLine:
    window = settings_on(session, day).cash_in_hand_working_days
    return _queue(
        session,
        window,
        day,
        f"""SELECT count(*), COALESCE(sum(p.amount_paise), 0), min(p.payment_date) FROM payments p
        WHERE p.mode = :cash AND p.payment_date <= :through AND {_IN_BOOK}
          AND NOT EXISTS (SELECT 1 FROM cash_deposit_receipts c
              JOIN cash_deposits d ON d.id = c.deposit_id
              WHERE c.payment_id = p.id AND d.made_at < :until){scope.where("p.branch_id")}""",
        **scope.params(),
    )


def _queue(session: Session, window: int, day: date, statement: str, **params: Any) -> QueueLine:
    row = rows(
        session,
        statement,
        through=_late_through(day, window),
        until=ist_midnight_after(day),
        cash=PaymentMode.CASH.value,
        **params,
    )[0]
    oldest = _date(row[2])
    return QueueLine(
        window=window,
        entries=int(row[0]),
        amount=int(row[1]),
        oldest_age_days=None if oldest is None else (day - oldest).days,
    )


_LONGEST_WALK_DAYS = 120


def _late_through(day: date, working_days: int) -> date:
    """The latest date whose `working_days`-th bank working day is behind `day`: an entry
    dated then or earlier is late on `day` (the queues' rule; reports and reconciliation do
    not import one another). Working days are at least five a week, so a settings window
    (at most 30) is found well within the walk's bound."""
    through = day - timedelta(days=1)
    for _ in range(_LONGEST_WALK_DAYS):
        if add_working_days(through, working_days) < day:
            break
        through -= timedelta(days=1)
    return through


def _date(value: object) -> date | None:
    """A date column's value (SQLite gives its ISO text back from an aggregate)."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
