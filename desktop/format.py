"""How screens show money, dates and delinquency to people: one place, so every screen
writes ₹12,34,567.89, 31-03-2026 and "31 days overdue" the same way. The rules themselves
are loancore's; this only picks the words."""

from __future__ import annotations

from datetime import date, datetime

from loancore.dates import IST, format_date
from loancore.delinquency import AssetClass, Bucket, bucket_for
from loancore.money import Paise, divide_half_up, format_rupees, indian_grouping
from loancore.roles import Role

NOTHING = "—"

_ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.BRANCH_MANAGER: "Branch manager",
    Role.COLLECTOR: "Collector",
    Role.FINANCE: "Finance",
    Role.LEGAL: "Legal",
    Role.AUDITOR: "Auditor",
    Role.INTEGRATION: "Integration (loan origination)",
}

_ASSET_CLASS_LABELS = {
    AssetClass.STANDARD: "Standard",
    AssetClass.SMA_0: "SMA-0",
    AssetClass.SMA_1: "SMA-1",
    AssetClass.SMA_2: "SMA-2",
    AssetClass.NPA: "NPA",
}


def rupees(paise: Paise | None, *, symbol: bool = True) -> str:
    return NOTHING if paise is None else format_rupees(paise, symbol=symbol)


_PAISE_PER_LAKH = 1_00_000_00
_PAISE_PER_CRORE = 1_00_00_000_00


def rupees_short(paise: Paise | None) -> str:
    """For tiles and headlines only; tables and receipts show the exact figure.

    Below a lakh, whole rupees ("₹45,600"); from a lakh, lakhs with two decimals ("₹1.28 L",
    "₹1.30 L"), from a crore, crores ("₹12.35 Cr"). Always two decimals: "₹1.3 L" for
    ₹1,28,000 read as a different figure. Rounded half up here, in integers: babel rounds half
    to even. The unit is chosen after rounding (₹99,999.50 is "₹1.00 L", never "₹1,00,000")."""
    if paise is None:
        return NOTHING
    sign = "-" if paise < 0 else ""
    magnitude = abs(paise)
    rupees_ = divide_half_up(magnitude, 100)
    if rupees_ * 100 < _PAISE_PER_LAKH:
        return f"{sign if rupees_ else ''}₹{indian_grouping(rupees_)}"
    hundredths = divide_half_up(magnitude * 100, _PAISE_PER_LAKH)
    unit = "L"
    if hundredths >= 100 * 100:  # 100.00 L is a crore
        hundredths, unit = divide_half_up(magnitude * 100, _PAISE_PER_CRORE), "Cr"
    whole, cents = divmod(hundredths, 100)
    return f"{sign}₹{indian_grouping(whole)}.{cents:02d} {unit}"


def day(value: date | str | None) -> str:
    """DD-MM-YYYY; accepts the ISO text the cache and the wire carry."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value)


def instant(value: datetime | str | None) -> str:
    """DD-MM-YYYY HH:MM IST for a stored UTC instant, whatever the PC's own time zone is."""
    if value is None or value == "":
        return NOTHING
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        raise ValueError("an instant without a time zone cannot be shown in IST")
    local = value.astimezone(IST)
    return f"{format_date(local.date())} {local:%H:%M} IST"


def dpd_text(dpd: int | None) -> str:
    if dpd is None:
        return NOTHING
    if dpd < 0:
        raise ValueError(f"DPD is never negative (got {dpd})")
    if dpd == 0:
        return "Current"
    return "1 day overdue" if dpd == 1 else f"{dpd} days overdue"


def bucket_label(bucket: Bucket | str | None) -> str:
    """Accepts the wire value ("31-60") and answers the printed one ("31–60")."""
    return NOTHING if bucket is None else Bucket(bucket).label


def bucket_of(dpd: int) -> str:
    return bucket_for(dpd).label


def asset_class_label(value: AssetClass | str | None) -> str:
    return NOTHING if value is None else _ASSET_CLASS_LABELS[AssetClass(value)]


def role_label(role: Role | str) -> str:
    return _ROLE_LABELS[Role(role)]


def person_with_role(full_name: str, role: Role | str) -> str:
    """ "Farida Mistry (Finance)": the role once, even when the name as entered already ends
    with it or a short form of it ("Anita Rao (Admin)" for an administrator)."""
    label = role_label(role)
    name = full_name.strip()
    if name.endswith(")") and "(" in name:
        base, _, suffix = name[:-1].rpartition("(")
        said = suffix.strip().lower()
        if said and (label.lower().startswith(said) or said.startswith(label.lower()[:4])):
            name = base.strip()
    return f"{name} ({label})"


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 payment', '3 payments', with Indian grouping for big counts ('1,20,000 loans')."""
    word = singular if n == 1 else (plural or f"{singular}s")
    return f"{indian_grouping(n)} {word}"


PROMISE_OUTCOMES = {
    "pending": "Pending",
    "kept": "Kept",
    "partly_kept": "Partly kept",
    "broken": "Broken",
}
PROMISE_DUE_TODAY = "Due today"
PROMISE_PAST_DATE = "Past date, not yet marked"


def promise_outcome(outcome: str, promised: date, business_date: date) -> str:
    """The word for a promise as of the desk's business date. The day-end marks a promise kept,
    partly kept or broken only after its date (plus a day's grace); until then a promise whose
    date has come or gone is not simply "Pending", or a collector would tell a borrower who
    missed it that it still stands."""
    if outcome == "pending":
        if promised == business_date:
            return PROMISE_DUE_TODAY
        if promised < business_date:
            return PROMISE_PAST_DATE
    return PROMISE_OUTCOMES.get(outcome, outcome.replace("_", " ").capitalize())
