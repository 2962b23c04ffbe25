"""Which loans a night's delinquency step must look at, each part read off an index.

A loan's stored delinquency (`overdue_since`, `collections_since`, bucket, class, arrears) still
holds at the next day-end unless one of these happened, and each has its own index (migration
0005), so the night costs in proportion to what changed rather than to the size of the book:

- its position moved: posting, reversal, import or a levied charge moved `updated_at` away from
  the `arrears_settled_at` the last day-end left (partial index of exactly those loans);
- a due date arrived: `arrears_next_due` (the first due date after the last sum of arrears, or
  the oldest unpaid one of a loan not overdue) is on or before tonight;
- a dispute is open on it, or was until today (its frozen DPD is held by moving
  `collections_since` each night; partial index on `dispute_open`, and the disputes table);
- a payment dated after D stands on it (a catch-up, or a payment entered after midnight): it
  is read as of D, and stays in the set until the night of that payment;
- its DPD, growing with the date alone, left the band of its stored bucket or class: for each
  band, two index ranges on (bucket, collections_since) or (class, overdue_since).

An NPA loan is not looked at for a class crossing (NPA is sticky until its arrears are paid,
which takes a payment); a borrower's other loans join the set later, for borrower-wise NPA.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants; dates and codes
# are bound parameters.

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from loancore.delinquency import (
    BUCKET_DPD_BANDS,
    AssetClass,
    DelinquencySettings,
    DpdBand,
    class_dpd_bands,
)
from sync_server.db.models.loans import NO_DUE_DATE_SQL, TOUCHED_SQL


def _band_probes(
    column: str, since: str, bands: Mapping[str, DpdBand], day: date, tag: str
) -> tuple[list[str], dict[str, Any]]:
    """SELECTs of the loans whose DPD on `day` (counted from `since`) lies outside the band of
    their stored `column` value. DPD < lo is a since after day - lo + 1 (or none); DPD > hi is
    a since on or before day - hi. Spelled as the index expression so each is one range."""
    key = f"coalesce({since}, {NO_DUE_DATE_SQL})"
    probes: list[str] = []
    params: dict[str, Any] = {}
    for n, (value, (lo, hi)) in enumerate(bands.items()):
        name = f"{tag}{n}"
        params[name] = value
        if lo >= 1:
            params[f"{name}_lo"] = day - timedelta(days=lo - 1)
            probes.append(
                f"SELECT loan_id FROM loan_state WHERE {column} = :{name} AND {key} > :{name}_lo"
            )
        if hi is not None:
            params[f"{name}_hi"] = day - timedelta(days=hi)
            probes.append(
                f"SELECT loan_id FROM loan_state WHERE {column} = :{name} AND {key} <= :{name}_hi"
            )
    return probes, params


def work_set_sql(
    day: date, settings: DelinquencySettings, *, sqlite: bool
) -> tuple[str, dict[str, Any]]:
    """The UNION of every reason a loan's delinquency may move at the day-end of `day`, and its
    parameters (`d` is the day). SQLite is told to read the touched loans off their partial
    index (see sql.indexed_by): its planner would scan the book for an OR it cannot size."""
    touched_index = " INDEXED BY ix_loan_state_touched" if sqlite else ""
    buckets, bucket_params = _band_probes(
        "bucket",
        "collections_since",
        {b.value: band for b, band in BUCKET_DPD_BANDS.items()},
        day,
        "b",
    )
    below_npa = {
        c.value: band for c, band in class_dpd_bands(settings).items() if c is not AssetClass.NPA
    }
    classes, class_params = _band_probes("asset_class", "overdue_since", below_npa, day, "c")
    parts = [
        f"SELECT loan_id FROM loan_state{touched_index} WHERE {TOUCHED_SQL}",
        "SELECT loan_id FROM loan_state WHERE arrears_next_due <= :d",
        "SELECT loan_id FROM loan_state WHERE dispute_open",
        "SELECT loan_id FROM disputes WHERE status = 'open' AND opened_on <= :d",
        # Read as of D while payments dated after D stand (jobs/value_date.py).
        "SELECT loan_id FROM payments WHERE payment_date > :d AND status = 'posted'",
        *buckets,
        *classes,
    ]
    return "\nUNION ".join(parts), {"d": day, **bucket_params, **class_params}
