"""How screens show money, dates and delinquency to people: one place, so every screen
writes ₹12,34,567.89, 31-03-2026 and "31 days overdue" the same way. The rules themselves
are loancore's; this only picks the words."""

from __future__ import annotations

from datetime import date, datetime

from loancore.dates import IST, format_date
from loancore.delinquency import AssetClass, Bucket, bucket_for
from loancore.money import Paise, format_rupees, format_rupees_compact
from loancore.roles import Role

NOTHING = "—"

_ROLE_LABELS = {
    Role.ADMIN: "Administrator",
    Role.BRANCH_MANAGER: "Branch manager",
    Role.COLLECTOR: "Collector",
    Role.FINANCE: "Finance",
    Role.LEGAL: "Legal",
    Role.AUDITOR: "Auditor",
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


def rupees_short(paise: Paise | None) -> str:
    """For tiles and headlines only; tables and receipts show the exact figure."""
    return NOTHING if paise is None else format_rupees_compact(paise)


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


def count(n: int, singular: str, plural: str | None = None) -> str:
    """'1 payment', '3 payments', with Indian grouping for big counts ('1,20,000 loans')."""
    word = singular if n == 1 else (plural or f"{singular}s")
    return f"{_indian_grouping(n)} {word}"


def _indian_grouping(n: int) -> str:
    sign, digits = ("-", str(-n)) if n < 0 else ("", str(n))
    if len(digits) <= 3:
        return sign + digits
    head, tail = digits[:-3], digits[-3:]
    groups: list[str] = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    if head:
        groups.insert(0, head)
    return sign + ",".join([*groups, tail])
