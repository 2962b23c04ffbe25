"""At most one live bank match per payment and per cash deposit, refused by the database itself.

Until now only a bank line had a unique live match; two matchers storing a match for the same
payment or deposit were kept apart by an advisory lock alone (reconciliation.matches). The lock
stays, for its clear refusal; these indexes are the last wall, so a path that forgets the lock
cannot count one receipt against two bank credits.

A database that already holds two live matches of one entry cannot take the index. The upgrade
then stops, changing nothing, and names the matches: which of them is right is a finance
decision (unmatch the wrong one through `POST /reconciliation/lines/{line}/unmatch`, which
keeps its history and audit entry), not something a schema change may guess.

Revision ID: 0019
Revises: 0018
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants only

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

LIVE = "unmatched_at IS NULL"
ENTRIES = {"payment_id": "payment", "deposit_id": "cash deposit"}


def _index(column: str) -> str:
    return f"uq_bank_matches_live_{column.removesuffix('_id')}"


def _doubled(column: str) -> list[str]:
    """Each entry with more than one live match, as 'payment <id>: matches 4 (line 9), ...'."""
    rows = (
        op.get_bind()
        .execute(
            sa.text(
                f"SELECT {column}, id, bank_line_id FROM bank_matches WHERE {LIVE} AND {column} IN "
                f"(SELECT {column} FROM bank_matches WHERE {LIVE} AND {column} IS NOT NULL "
                f"GROUP BY {column} HAVING count(*) > 1) ORDER BY {column}, id"
            )
        )
        .all()
    )
    found: dict[str, list[str]] = {}
    for entry, match_id, line_id in rows:
        # SQLite keeps a uuid as 32 hex digits; finance reads it as the API shows it.
        found.setdefault(str(uuid.UUID(str(entry))), []).append(f"{match_id} (line {line_id})")
    return [f"{ENTRIES[column]} {entry}: matches {', '.join(m)}" for entry, m in found.items()]


def upgrade() -> None:
    doubled = [entry for column in ENTRIES for entry in _doubled(column)]
    if doubled:
        raise RuntimeError(
            "Cannot upgrade to 0019: these entries are each matched to more than one bank line "
            "at once. Unmatch all but the right line for each (POST "
            "/reconciliation/lines/{line}/unmatch), then upgrade again. Nothing was changed. "
            + "; ".join(doubled)
        )
    for column in ENTRIES:
        op.create_index(
            _index(column),
            "bank_matches",
            [column],
            unique=True,
            sqlite_where=sa.text(LIVE),
            postgresql_where=sa.text(LIVE),
        )


def downgrade() -> None:
    for column in reversed(list(ENTRIES)):
        op.drop_index(_index(column), table_name="bank_matches")
