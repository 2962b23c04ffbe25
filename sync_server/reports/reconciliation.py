"""The reconciliation status in the MIS, from what the bank statements already say.

Reported now, as of the end of the business date (IST), over the whole lender:
- credit lines booked in the bank by the date (money in), their count and amount;
- of those, the lines matched to a payment or a deposit at that instant (a match made by then
  and not undone by then: unmatching stamps `unmatched_at`, it never deletes);
- the rest, unmatched: money the bank holds that the book has not yet explained (the
  candidates for unidentified receipts), with the oldest one's booking date;
- the matched share, by amount.

Bank accounts belong to the lender, not to a branch, so a branch's MIS carries no
reconciliation status (None), rather than the lender's under the branch's name.

Not reported yet, by design: "missing in bank" (receipts the book holds that no statement has
shown) and "cash in hand" (cash collected and not yet deposited) need the deposit and
queue records of the reconciliation release; they join `ReconciliationStatus` there, computed
by `reconciliation_status` beside these, and `PENDING` then loses their names.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants only; every value
# a person or the book supplies is a bound parameter.

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from sync_server.reports.figures import Ratio, ReconciliationStatus
from sync_server.reports.query import Scope, ist_midnight_after, rows

PENDING = ("missing in bank", "cash in hand")
"""Reconciliation figures the MIS names as not yet reported (see the module docstring)."""

_LIVE_MATCH = """EXISTS (SELECT 1 FROM bank_matches m WHERE m.bank_line_id = b.id
    AND m.matched_at < :until AND (m.unmatched_at IS NULL OR m.unmatched_at >= :until))"""


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
    oldest = row[4]
    if oldest is not None and not isinstance(oldest, date):
        oldest = date.fromisoformat(str(oldest))
    return ReconciliationStatus(
        credit_lines=lines,
        credit_amount=amount,
        matched_lines=matched_lines,
        matched_amount=matched_amount,
        unmatched_lines=lines - matched_lines,
        unmatched_amount=amount - matched_amount,
        matched_share=Ratio(matched_amount, amount),
        oldest_unmatched=oldest,
        not_yet_reported=PENDING,
    )
