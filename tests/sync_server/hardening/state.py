"""What "nothing changed" means for the hardening suites: a digest of every stored row of the
system of record, and how each suite prints its figure.

Left out on purpose: the audit log (a refusal is *meant* to add its entry there), the rate-limit
windows and sign-in attempts (counting a refused request is their job), operator alerts, and a
pushed command's refusal as recorded in sync_commands (kept so that a resend gets the same
answer: like the audit log, it is the record of the refusal, not a change to the book).
"""

from __future__ import annotations

import hashlib
import os

from sqlalchemy import inspect, text

from sync_server.db.engine import Database

NOT_BUSINESS_STATE = frozenset(
    {"audit_log", "audit_head", "rate_limit_windows", "login_attempts", "ops_alerts"}
)
LONG = os.environ.get("LOANDESK_HARDEN_LONG") == "1"
"""The full counts of each suite (README, "Long suites"); the test command runs a slice."""


def table_digests(db: Database) -> dict[str, str]:
    """SHA-256 per table of every row, rows sorted so the digest does not depend on the order
    the database returns them in; per table so a failing suite can name what changed."""
    digests: dict[str, str] = {}
    with db.read_only() as session:
        for table in sorted(inspect(session.connection()).get_table_names()):
            if table in NOT_BUSINESS_STATE or table == "alembic_version":
                continue
            query = f'SELECT * FROM "{table}"'
            if table == "sync_commands":
                query += " WHERE status <> 'rejected'"
            rows = sorted(repr(tuple(str(v) for v in row)) for row in session.execute(text(query)))
            digests[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return digests


def business_checksum(db: Database) -> str:
    digests = table_digests(db)
    return hashlib.sha256("".join(f"{t}:{d}" for t, d in digests.items()).encode()).hexdigest()


def figure(text_: str) -> None:
    """The suite's one-line figure, on the terminal when pytest runs with -s."""
    print(f"\n[hardening] {text_}", flush=True)
