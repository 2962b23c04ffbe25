"""Delinquency: days past due, buckets, RBI asset classes, disputes, escalation, promises.

These functions are the reference the server's set-based day-end SQL is tested against, loan by
loan, so each states its rule once and refuses inputs that cannot describe a real loan rather
than guessing. Amounts are integer paise; dates are Asia/Kolkata business dates.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import TypeVar

K = TypeVar("K", bound=Hashable)

_SMA_0_MAX_DPD = 30
_SMA_1_MAX_DPD = 60
_BUCKET_61_90_MAX_DPD = 90


class Bucket(StrEnum):
    """Collections bucket of a loan's DPD.

    Current is DPD 0, then 1–30, 31–60, 61–90, and 90+ which means DPD *above* 90 (91 or more):
    DPD 90 itself belongs to 61–90, so the five buckets never overlap. Collectors are allotted
    work by bucket, and the MIS reconciles because every DPD falls in exactly one bucket.
    """

    CURRENT = "current"
    DPD_1_30 = "1-30"
    DPD_31_60 = "31-60"
    DPD_61_90 = "61-90"
    DPD_90_PLUS = "90+"

    @property
    def label(self) -> str:
        """The name people read on screens and reports (en dash, as printed by the lender)."""
        return _BUCKET_LABELS[self]


_BUCKET_LABELS = {
    Bucket.CURRENT: "Current",
    Bucket.DPD_1_30: "1–30",
    Bucket.DPD_31_60: "31–60",
    Bucket.DPD_61_90: "61–90",
    Bucket.DPD_90_PLUS: "90+",
}


class AssetClass(StrEnum):
    """RBI classification: SMA-0 (DPD 1–30), SMA-1 (31–60), SMA-2 (61–90), NPA (above 90)."""

    STANDARD = "standard"
    SMA_0 = "SMA-0"
    SMA_1 = "SMA-1"
    SMA_2 = "SMA-2"
    NPA = "NPA"


@dataclass(frozen=True, slots=True)
class DelinquencySettings:
    """Admin-visible parameters of the delinquency rules, defaulting to DOMAIN.md.

    Checked on construction so that a mistyped setting fails when an admin saves it, not in the
    middle of a night's day-end run.
    """

    legal_escalation_dpd: int = 90
    npa_dpd: int = 90
    late_charge_dpd: int = 5
    late_charge_paise: int = 500_00
    bounce_charge_paise: int = 590_00
    promise_grace_days: int = 1

    def __post_init__(self) -> None:
        for name in ("legal_escalation_dpd", "npa_dpd", "late_charge_dpd"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1 day")
        for name in ("late_charge_paise", "bounce_charge_paise", "promise_grace_days"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")


DEFAULT_SETTINGS = DelinquencySettings()


@dataclass(frozen=True, slots=True)
class DueState:
    """One installment's interest + principal due, and how much of it was paid by the day-end.

    Charges are deliberately absent: penal charges never make a loan overdue.
    """

    due_date: date
    amount_due: int
    paid: int

    def __post_init__(self) -> None:
        if self.amount_due < 0:
            raise ValueError("an installment cannot be due a negative amount")
        if not 0 <= self.paid <= self.amount_due:
            raise ValueError("paid must lie between zero and the amount due")

    @property
    def unpaid(self) -> int:
        return self.amount_due - self.paid


def _days_past_due(day_end: date, due_date: date) -> int:
    """Counting the due date itself as day 1: unpaid at its own day-end is already overdue."""
    return (day_end - due_date).days + 1


def oldest_overdue_due_date(day_end: date, dues: Iterable[DueState]) -> date | None:
    """The due date DPD is counted from: the oldest installment still not fully paid."""
    overdue = [d.due_date for d in dues if d.due_date <= day_end and d.paid < d.amount_due]
    return min(overdue, default=None)


def dpd(day_end: date, dues: Iterable[DueState]) -> int:
    """Days past due at the day-end of `day_end`: 1 on the due date itself, 0 when nothing is
    overdue. Due 31-03 and unpaid gives 1 on 31-03, 31 on 30-04, 61 on 30-05, 91 on 29-06."""
    oldest = oldest_overdue_due_date(day_end, dues)
    return 0 if oldest is None else _days_past_due(day_end, oldest)


def dpd_on(overdue_since: date | None, day: date | None) -> int:
    """DPD at the day-end of `day` for a loan overdue since `overdue_since` (the due date of
    its oldest unpaid installment), with its dues standing still in between.

    The book stores that date, not the number: an overdue loan whose dues do not move keeps
    one stored value while its DPD grows by a day each night, so a day-end writes only the
    loans whose position changed, and every reader (server list, MIS history, the desk's
    cache) gets the same DPD from the date and the day-end it is read at."""
    if overdue_since is None or day is None or overdue_since > day:
        return 0
    return _days_past_due(day, overdue_since)


def overdue_since_for(day: date, dpd_value: int) -> date | None:
    """The inverse of `dpd_on`: the date a loan with `dpd_value` at `day` counts from (a
    frozen DPD is stored this way, moved forward each night so it reads the same)."""
    _require_dpd(dpd_value)
    return None if dpd_value == 0 else day - timedelta(days=dpd_value - 1)


def arrears(day_end: date, dues: Iterable[DueState]) -> int:
    """Unpaid interest + principal already due: what an NPA must clear to be upgraded."""
    return sum(d.unpaid for d in dues if d.due_date <= day_end)


def _require_dpd(value: int) -> None:
    if value < 0:
        raise ValueError("DPD cannot be negative")


def bucket_for(dpd: int) -> Bucket:
    """The collections bucket; 90 is in 61–90 and 90+ starts at 91 (see `Bucket`)."""
    _require_dpd(dpd)
    if dpd == 0:
        return Bucket.CURRENT
    if dpd <= _SMA_0_MAX_DPD:
        return Bucket.DPD_1_30
    if dpd <= _SMA_1_MAX_DPD:
        return Bucket.DPD_31_60
    if dpd <= _BUCKET_61_90_MAX_DPD:
        return Bucket.DPD_61_90
    return Bucket.DPD_90_PLUS


def class_for_dpd(dpd: int, settings: DelinquencySettings = DEFAULT_SETTINGS) -> AssetClass:
    """The class a DPD alone gives, ignoring NPA stickiness.

    NPA is above `settings.npa_dpd` and wins over the SMA bands; SMA-2 runs from 61 up to that
    threshold, so if an admin sets a longer NPA period SMA-2 stretches rather than leaving a gap.
    """
    _require_dpd(dpd)
    if dpd > settings.npa_dpd:
        return AssetClass.NPA
    if dpd == 0:
        return AssetClass.STANDARD
    if dpd <= _SMA_0_MAX_DPD:
        return AssetClass.SMA_0
    if dpd <= _SMA_1_MAX_DPD:
        return AssetClass.SMA_1
    return AssetClass.SMA_2


DpdBand = tuple[int, int | None]
"""The DPDs a bucket or class holds, both ends included; None for no upper end."""

BUCKET_DPD_BANDS: dict[Bucket, DpdBand] = {
    Bucket.CURRENT: (0, 0),
    Bucket.DPD_1_30: (1, _SMA_0_MAX_DPD),
    Bucket.DPD_31_60: (_SMA_0_MAX_DPD + 1, _SMA_1_MAX_DPD),
    Bucket.DPD_61_90: (_SMA_1_MAX_DPD + 1, _BUCKET_61_90_MAX_DPD),
    Bucket.DPD_90_PLUS: (_BUCKET_61_90_MAX_DPD + 1, None),
}
"""`bucket_for` as ranges, for code that must find or filter loans by DPD without computing it
row by row (the day-end's threshold crossings, a DPD filter as a date range)."""


def class_dpd_bands(settings: DelinquencySettings = DEFAULT_SETTINGS) -> dict[AssetClass, DpdBand]:
    """`class_for_dpd` as ranges under these settings: NPA above `npa_dpd` cuts the SMA bands
    short, so a band can be empty (its upper end below its lower)."""
    npa = settings.npa_dpd
    return {
        AssetClass.STANDARD: (0, 0),
        AssetClass.SMA_0: (1, min(_SMA_0_MAX_DPD, npa)),
        AssetClass.SMA_1: (_SMA_0_MAX_DPD + 1, min(_SMA_1_MAX_DPD, npa)),
        AssetClass.SMA_2: (_SMA_1_MAX_DPD + 1, npa),
        AssetClass.NPA: (npa + 1, None),
    }


def classify(
    dpd: int,
    arrears: int,
    previous: AssetClass,
    settings: DelinquencySettings = DEFAULT_SETTINGS,
) -> AssetClass:
    """The regulatory class at a day-end.

    RBI does not let an NPA be upgraded by paying just enough to bring DPD under 90: it stays
    NPA while any arrears of interest or principal remain, and only then takes the class its
    DPD gives. `previous` must be the loan's last *borrower-wise* class (the output of
    `borrower_wise`), so a loan pulled into NPA by a sibling also stays there until its own
    arrears are cleared.

    DPD and arrears describe the same unpaid dues, so exactly one of them being zero is a caller
    bug (for example arrears that include charges) and is refused rather than classified.
    """
    _require_dpd(dpd)
    if arrears < 0:
        raise ValueError("arrears cannot be negative")
    if (dpd == 0) != (arrears == 0):
        raise ValueError("DPD and arrears disagree: both must be zero or both positive")
    if previous is AssetClass.NPA and arrears > 0:
        return AssetClass.NPA
    return class_for_dpd(dpd, settings)


def borrower_wise(classes: Mapping[K, AssetClass], arrears: Mapping[K, int]) -> dict[K, AssetClass]:
    """Apply borrower-wise NPA to all loans of one borrower.

    Rule: if any loan is NPA and the borrower still owes arrears on any loan, every loan is NPA;
    if any loan is NPA but no loan has arrears, every loan is upgraded together to STANDARD (no
    arrears means DPD 0 everywhere); if no loan is NPA, the classes are returned unchanged.

    Why: RBI classifies NPAs borrower-wise, and an upgrade needs the entire arrears of the
    borrower paid, not just those of the loan that tipped over. Deciding on the borrower's total
    arrears here, as well as through `classify`'s stickiness, keeps the rule right even if a
    caller hands in classes from before today's payments.
    """
    if classes.keys() != arrears.keys():
        raise ValueError("classes and arrears must cover the same loans")
    if any(amount < 0 for amount in arrears.values()):
        raise ValueError("arrears cannot be negative")
    if AssetClass.NPA not in classes.values():
        return dict(classes)
    upgraded = sum(arrears.values()) == 0
    together = AssetClass.STANDARD if upgraded else AssetClass.NPA
    return dict.fromkeys(classes, together)


@dataclass(frozen=True, slots=True)
class DisputeFreeze:
    """Collections DPD and bucket held while a dispute is open.

    Collectors must not chase, nor escalate, an amount the borrower disputes; so what they see
    stays at the value on the day it opened. The regulator still sees the actual class.
    """

    opened_on: date
    dpd_at_open: int
    bucket_at_open: Bucket

    def __post_init__(self) -> None:
        _require_dpd(self.dpd_at_open)
        if bucket_for(self.dpd_at_open) is not self.bucket_at_open:
            raise ValueError("the frozen bucket must be the bucket of the frozen DPD")

    @classmethod
    def opening(cls, opened_on: date, collections_dpd: int) -> DisputeFreeze:
        """Freeze at a DPD, deriving the bucket so the two can never disagree."""
        return cls(opened_on, collections_dpd, bucket_for(collections_dpd))


def collections_view(actual_dpd: int, freeze: DisputeFreeze | None) -> tuple[int, Bucket]:
    """The DPD and bucket collections work from: the frozen ones while a dispute is open."""
    _require_dpd(actual_dpd)
    if freeze is None:
        return actual_dpd, bucket_for(actual_dpd)
    return freeze.dpd_at_open, freeze.bucket_at_open


def needs_legal_escalation(
    collections_dpd: int,
    has_open_case: bool,
    settings: DelinquencySettings = DEFAULT_SETTINGS,
) -> bool:
    """Whether the day-end opens a legal case: at DPD >= 90, one day before NPA, so the case is
    ready when the loan tips over; never a second one while a case is open. Takes the
    collections DPD so that a dispute freezes escalation too."""
    _require_dpd(collections_dpd)
    return collections_dpd >= settings.legal_escalation_dpd and not has_open_case


def late_charge_due(
    day_end: date,
    due: DueState,
    already_levied: bool,
    settings: DelinquencySettings = DEFAULT_SETTINGS,
) -> bool:
    """Whether this installment gets its one late-payment charge at this day-end.

    Counted on the installment's own DPD, not the loan's. ">=" rather than "==" so that a
    day-end run that missed the exact day still levies it, and `already_levied` keeps it to one.
    `due.paid` must be as of this day-end: an installment paid before DPD 5 is never charged.
    """
    if already_levied or due.paid >= due.amount_due:
        return False
    return _days_past_due(day_end, due.due_date) >= settings.late_charge_dpd


class PromiseOutcome(StrEnum):
    PENDING = "pending"
    KEPT = "kept"
    PARTLY_KEPT = "partly_kept"
    BROKEN = "broken"


def promise_decision_date(
    promised_date: date, settings: DelinquencySettings = DEFAULT_SETTINGS
) -> date:
    """The day whose day-end settles a promise: the grace lets a payment made late on the
    promised day, or posted the next morning, still count."""
    return promised_date + timedelta(days=settings.promise_grace_days)


def promise_outcome(
    day_end: date,
    promised_date: date,
    promised: int,
    paid_since_made: int,
    settings: DelinquencySettings = DEFAULT_SETTINGS,
) -> PromiseOutcome:
    """A promise's outcome at a day-end.

    It stays PENDING until the day-end of the decision date, even if already paid in full, so
    that the outcome (and the collector's promise rate) is settled once, at one fixed time.
    `paid_since_made` is everything paid on the loan from the promise up to this day-end.
    """
    if promised <= 0:
        raise ValueError("a promise must be for a positive amount")
    if paid_since_made < 0:
        raise ValueError("paid since the promise cannot be negative")
    if day_end < promise_decision_date(promised_date, settings):
        return PromiseOutcome.PENDING
    if paid_since_made >= promised:
        return PromiseOutcome.KEPT
    if paid_since_made > 0:
        return PromiseOutcome.PARTLY_KEPT
    return PromiseOutcome.BROKEN


def reminder_dates(promised_date: date) -> tuple[date, date]:
    """The collector is reminded the day before the promised date and on the day itself."""
    return promised_date - timedelta(days=1), promised_date


@dataclass(frozen=True, slots=True)
class LoanDayEnd:
    """A loan's delinquency state after one day-end; fold `day_end` over the days in order.

    `dpd` and `asset_class` follow the actual dues (regulatory); `collections_dpd` and `bucket`
    are what collections work from, frozen during a dispute.
    """

    dpd: int
    collections_dpd: int
    bucket: Bucket
    asset_class: AssetClass
    arrears: int

    @property
    def actual_bucket(self) -> Bucket:
        """The bucket of the actual DPD, for reports that must ignore dispute freezes."""
        return bucket_for(self.dpd)


def day_end(
    day_end: date,
    dues: Iterable[DueState],
    previous_class: AssetClass,
    freeze: DisputeFreeze | None,
    settings: DelinquencySettings = DEFAULT_SETTINGS,
) -> LoanDayEnd:
    """One loan's state at the day-end of `day_end`: the step the day-end job folds over days.

    `dues` carry what was paid by this day-end; `previous_class` is the loan's borrower-wise
    class from the previous day-end (STANDARD for a new loan); apply `borrower_wise` to the
    results of all of a borrower's loans before storing them. A freeze applies only from the
    day its dispute opened, so a catch-up run for an earlier missed date is not frozen.
    """
    states = tuple(dues)
    actual_dpd = dpd(day_end, states)
    owed = arrears(day_end, states)
    active = freeze if freeze is not None and freeze.opened_on <= day_end else None
    collections_dpd, bucket = collections_view(actual_dpd, active)
    return LoanDayEnd(
        dpd=actual_dpd,
        collections_dpd=collections_dpd,
        bucket=bucket,
        asset_class=classify(actual_dpd, owed, previous_class, settings),
        arrears=owed,
    )
