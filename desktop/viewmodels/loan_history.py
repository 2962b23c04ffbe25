"""A loan's day-end figures over time (DPD, bucket, RBI class, arrears), for the loan detail's
History tab. The history is kept on the server (GET /loans/{id}/history), so this is an online
view: the screen fetches it in a background op and says so when the server cannot answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from desktop.sync.api import ApiClient
from loancore.dates import format_date
from loancore.delinquency import Bucket
from loancore.money import format_rupees

HISTORY_DAYS = 30
"""What the tab shows: the last month of day-ends, newest first."""
OFFLINE_HISTORY_NOTE = "The loan's history is kept on the server and shown only when connected."
NOTHING = "—"


@dataclass(frozen=True, slots=True)
class HistoryLine:
    day: date
    in_book: bool
    dpd: int
    collections_dpd: int
    bucket: str | None
    asset_class: str | None
    arrears_paise: int

    def cells(self) -> tuple[str, str, str, str, str, str]:
        """Date (DD-MM-YYYY), DPD, collections DPD, bucket, class, arrears; dashes for a day
        the loan was not in the book (before its first day-end, or closed)."""
        if not self.in_book:
            return (format_date(self.day), NOTHING, NOTHING, NOTHING, "not in the book", NOTHING)
        try:
            bucket = Bucket(self.bucket).label if self.bucket else NOTHING
        except ValueError:
            bucket = str(self.bucket)
        klass = "Standard" if self.asset_class == "standard" else str(self.asset_class)
        return (
            format_date(self.day),
            str(self.dpd),
            str(self.collections_dpd),
            bucket,
            klass,
            format_rupees(self.arrears_paise),
        )


def fetch_history(
    api: ApiClient, loan_id: str, through: date | None = None, days: int = HISTORY_DAYS
) -> list[HistoryLine]:
    """The loan's last `days` day-ends (through `through`, or the server's last day-end),
    newest first; runs off the UI thread (it may block)."""
    params = {}
    if through is not None:
        params = {
            "from": (through - timedelta(days=days - 1)).isoformat(),
            "to": through.isoformat(),
        }
    answer = api.request("GET", f"/loans/{loan_id}/history", params=params)
    lines = [
        HistoryLine(
            day=date.fromisoformat(str(row["day"])),
            in_book=bool(row["in_book"]),
            dpd=int(row["dpd"]),
            collections_dpd=int(row["collections_dpd"]),
            bucket=row.get("bucket"),
            asset_class=row.get("asset_class"),
            arrears_paise=int(row["arrears_paise"]),
        )
        for row in answer.get("days") or ()
    ]
    return sorted(lines, key=lambda line: line.day, reverse=True)
