"""Keep each loan's delinquency as the date its collections DPD counts from, not as the DPD.

The server now stores the date a loan fell overdue and names the day-end it is read at
(`dpd_as_of` on each pull answer), so a night that moves no loan's dues sends no loan again:
a `dpd` column here would stay at yesterday's number. `collections_since` replaces it, and
the list's DPD indexes become indexes on `coalesce(collections_since, '9999-12-31')`
ascending, which is DPD descending with the loans not overdue last.

Existing rows are converted so that the desk shows the same DPD as before the upgrade, even
offline: each loan's date is counted back from an anchor day-end and the anchor is kept as
`dpd_as_of`, so `dpd_on(collections_since, dpd_as_of)` gives back the cached `dpd` exactly.
The anchor is the day before the server's last business date (the day-end a pull answer
normally describes); an old cache that never kept a business date is anchored at yesterday
(any anchor gives back the same DPD). The cached numbers did not say which day-end they
were, so the pull cursor goes back to 0: the next sync takes every loan again with the
server's own dates and `dpd_as_of` (queued work, pending payments and answers are kept).

The `dpd` column is dropped with SQLite's own ALTER TABLE DROP COLUMN (SQLite 3.35+, which
every Python this client supports bundles): batch mode's copy of the table would reflect,
and could lose, the DESC and expression indexes of the list.

Revision ID: c0004
Revises: c0003
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from loancore.dates import business_date
from loancore.delinquency import dpd_on, overdue_since_for

revision = "c0004"
down_revision = "c0003"
branch_labels = None
depends_on = None

SINCE_KEY = "coalesce(collections_since, '9999-12-31')"
OLD_INDEXES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ix_loans_by_dpd": (("dpd DESC",), ("bucket",)),
    "ix_loans_by_collector": (("collector_id", "dpd DESC"), ()),
    "ix_loans_by_branch": (("branch_id", "dpd DESC"), ()),
}
"""The list's sort indexes on `dpd` as migration c0002 made them: (sort keys, covered)."""
NEW_INDEXES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ix_loans_by_collections_since": ((SINCE_KEY,), ("bucket",)),
    "ix_loans_by_collector": (("collector_id", SINCE_KEY), ()),
    "ix_loans_by_branch": (("branch_id", SINCE_KEY), ()),
}
"""The same sorts on the date, spelled as `desktop.cache.models.CachedLoan` spells them."""
DPD_AS_OF_KEY = "dpd_as_of"
BUSINESS_DATE_KEY = "business_date"


def _create(indexes: dict[str, tuple[tuple[str, ...], tuple[str, ...]]]) -> None:
    for name, (keys, covered) in indexes.items():
        columns: list[str | sa.TextClause] = [
            "status",
            *(sa.text(key) for key in keys),
            "account_no",
            "id",
            *covered,
        ]
        op.create_index(name, "loans", columns)


def _meta(connection: sa.Connection, key: str) -> str | None:
    value = connection.execute(
        sa.text("SELECT value FROM sync_meta WHERE key = :key"), {"key": key}
    ).scalar_one_or_none()
    return None if value is None else str(value)


def _set_meta(connection: sa.Connection, key: str, value: str) -> None:
    connection.execute(
        sa.text(
            "INSERT INTO sync_meta (key, value) VALUES (:key, :value) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        ),
        {"key": key, "value": value},
    )


def _anchor(connection: sa.Connection) -> date:
    """The day-end the cached DPD numbers are taken to describe (see the module docstring)."""
    told = _meta(connection, BUSINESS_DATE_KEY)
    today = date.fromisoformat(told) if told else business_date(datetime.now(UTC))
    return today - timedelta(days=1)


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


_TO_SINCE = sa.text(
    "UPDATE loans SET collections_since = :since, data = json_remove(json_set(data, "
    "'$.collections_since', :since, '$.overdue_since', :overdue), '$.dpd', '$.actual_dpd') "
    "WHERE id = :id"
)
_TO_DPD = sa.text(
    "UPDATE loans SET dpd = :dpd, data = json_set(data, '$.dpd', :dpd, '$.actual_dpd', "
    ":actual_dpd) WHERE id = :id"
)


def upgrade() -> None:
    for name in OLD_INDEXES:
        op.drop_index(name, "loans")
    op.add_column("loans", sa.Column("collections_since", sa.String(10), nullable=True))
    connection = op.get_bind()
    rows = connection.execute(
        sa.text("SELECT id, dpd, json_extract(data, '$.actual_dpd') FROM loans")
    ).all()
    if rows:
        anchor = _anchor(connection)
        connection.execute(
            _TO_SINCE,
            [
                {
                    "id": loan_id,
                    "since": _iso(overdue_since_for(anchor, int(dpd))),
                    "overdue": _iso(
                        overdue_since_for(anchor, int(dpd if actual is None else actual))
                    ),
                }
                for loan_id, dpd, actual in rows
            ],
        )
        _set_meta(connection, DPD_AS_OF_KEY, anchor.isoformat())
        _set_meta(connection, "cursor", "0")
    op.execute("ALTER TABLE loans DROP COLUMN dpd")
    _create(NEW_INDEXES)


def downgrade() -> None:
    """Back to a `dpd` column, read at the kept `dpd_as_of`; the cursor goes back to 0 so
    the older client's next pull fills the `dpd` its server sends."""
    for name in NEW_INDEXES:
        op.drop_index(name, "loans")
    op.add_column("loans", sa.Column("dpd", sa.Integer(), nullable=False, server_default="0"))
    connection = op.get_bind()
    told = _meta(connection, DPD_AS_OF_KEY)
    if told is not None:
        as_of = date.fromisoformat(told)
        rows = connection.execute(
            sa.text(
                "SELECT id, collections_since, json_extract(data, '$.overdue_since') FROM loans"
            )
        ).all()
        if rows:
            connection.execute(
                _TO_DPD,
                [
                    {
                        "id": loan_id,
                        "dpd": dpd_on(_date(since), as_of),
                        "actual_dpd": dpd_on(_date(overdue), as_of),
                    }
                    for loan_id, since, overdue in rows
                ],
            )
        connection.execute(
            sa.text("DELETE FROM sync_meta WHERE key = :key"), {"key": DPD_AS_OF_KEY}
        )
    connection.execute(sa.text("UPDATE sync_meta SET value = '0' WHERE key = 'cursor'"))
    op.execute("ALTER TABLE loans DROP COLUMN collections_since")
    _create(OLD_INDEXES)
