"""The MIS figures as values: integers of paise and exact ratios, nothing a borrower could be
recognised by (branch, product, bucket, class and collector id only).

The figures are frozen so that the PDF, the XLSX and the footer's SHA-256 are all made from one
set of numbers; `canonical` is the one text those numbers hash to, so two printed copies can be
compared by their footers alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from datetime import date

from loancore.money import divide_half_up

BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")
"""Buckets by actual DPD, in order (loancore.delinquency.Bucket's values)."""
CLASSES = ("standard", "SMA-0", "SMA-1", "SMA-2", "NPA")
"""RBI classes (loancore.delinquency.AssetClass's values); standard is the rest of the book."""
LEFT_BOOK = "left the book"
"""The roll matrix's last column: loans closed, written off or otherwise gone since."""
PAR_DAYS = (30, 60, 90)


@dataclass(frozen=True)
class Ratio:
    """An exact fraction; `bp` is it in basis points rounded half up, None when nothing was
    there to measure (a zero denominator is "not applicable", never 0 %)."""

    numerator: int
    denominator: int

    @property
    def bp(self) -> int | None:
        if self.denominator == 0:
            return None
        return divide_half_up(self.numerator * 10_000, self.denominator)


@dataclass(frozen=True)
class PortfolioLine:
    branch: str
    product: str
    loans: int
    outstanding: int


@dataclass(frozen=True)
class BandLine:
    """One bucket or one RBI class: loans, principal outstanding and its share of the book."""

    name: str
    loans: int
    outstanding: int
    share: Ratio


@dataclass(frozen=True)
class Collections:
    """Demand falling due in the period, what was applied to it by the as-of date, and the
    prepayments (interest and principal of later installments, foreclosure principal) paid in
    the month, which are shown beside efficiency and never inside it."""

    demand: int
    collected: int
    prepaid: int
    efficiency: Ratio
    efficiency_with_prepayments: Ratio


@dataclass(frozen=True)
class ParLine:
    days: int
    loans: int
    outstanding: int
    ratio: Ratio


@dataclass(frozen=True)
class RollRow:
    """Loans in `from_bucket` at the previous month's end, by where they stand now: one count
    per bucket in BUCKETS, then LEFT_BOOK. The row sums to the previous month's count."""

    from_bucket: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class LegalMonth:
    opened: int
    moved: int
    closed: int


@dataclass(frozen=True)
class CollectorLine:
    collector_id: str
    week_start: date
    accounts: int
    due: int
    collected: int
    promises_due: int
    promises_kept: int
    score_bp: int | None


@dataclass(frozen=True)
class TrendPoint:
    """A month: its collection efficiency (collected by `day`) and PAR 30 at `day`."""

    day: date
    efficiency: Ratio
    par30: Ratio


@dataclass(frozen=True)
class ReconciliationStatus:
    """Bank credit lines by the as-of date and how many the book has matched (whole lender
    only; see reports.reconciliation)."""

    credit_lines: int
    credit_amount: int
    matched_lines: int
    matched_amount: int
    unmatched_lines: int
    unmatched_amount: int
    matched_share: Ratio
    oldest_unmatched: date | None


@dataclass(frozen=True)
class QueueLine:
    """One reconciliation queue as it stood at the as-of date's close (see
    reports.reconciliation): the entries late by then, their amount, and the oldest one's age
    in calendar days (None when the queue is empty). `window` is the lender's setting in force
    that day, in bank working days, after which an entry counts as late."""

    window: int
    entries: int
    amount: int
    oldest_age_days: int | None


@dataclass(frozen=True)
class MisFigures:
    as_of: date
    month_start: date
    branch: str | None
    loans: int
    outstanding: int
    portfolio: tuple[PortfolioLine, ...]
    disbursed_loans: int
    disbursed: int
    month: Collections
    month_to_date: Collections
    buckets: tuple[BandLine, ...]
    par: tuple[ParLine, ...]
    classes: tuple[BandLine, ...]
    disputed_loans: int
    disputed_outstanding: int
    roll_from: date
    roll: tuple[RollRow, ...]
    legal: LegalMonth
    promises_decided: int
    promises_kept: int
    promise_rate: Ratio
    collector_week: date | None
    collectors: tuple[CollectorLine, ...]
    trend: tuple[TrendPoint, ...]
    reconciliation: ReconciliationStatus | None
    missing_in_bank: QueueLine
    cash_in_hand: QueueLine

    def canonical(self) -> str:
        """The figures as one JSON text with sorted keys, dates in ISO form and no spaces."""
        return json.dumps(
            dataclasses.asdict(self), sort_keys=True, separators=(",", ":"), default=_iso
        )

    def digest(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


def _iso(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not a figure: {value!r}")
