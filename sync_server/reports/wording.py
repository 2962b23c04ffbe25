"""How the MIS figures read to people: rupees in Indian grouping with ₹, percentages from
exact ratios, DD-MM-YYYY dates. Shared by the PDF and the XLSX so both say the same."""

from __future__ import annotations

from datetime import date

from loancore.money import format_rupees, indian_grouping
from sync_server.reports.figures import Ratio

NOT_APPLICABLE = "n/a"


def rupees(paise: int) -> str:
    return format_rupees(paise)


def percent(ratio: Ratio) -> str:
    """ "12.34%" from basis points rounded half up; "n/a" when nothing was there to measure."""
    bp = ratio.bp
    if bp is None:
        return NOT_APPLICABLE
    sign = "-" if bp < 0 else ""
    whole, hundredths = divmod(abs(bp), 100)
    return f"{sign}{whole}.{hundredths:02d}%"


def day(value: date) -> str:
    return value.strftime("%d-%m-%Y")


def count(value: int) -> str:
    """Counts in Indian grouping too (1,23,456)."""
    return indian_grouping(value)
