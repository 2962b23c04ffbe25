"""What "nothing changed" means for the hardening suites: a digest of every stored row of the
system of record, and how each suite prints its figure.

Left out on purpose: the audit log (a refusal is *meant* to add its entry there), the rate-limit
windows and sign-in attempts (counting a refused request is their job) and operator alerts.
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


def business_checksum(db: Database) -> str:
    """SHA-256 over every row of every table but the ones above, rows sorted so the digest
    does not depend on the order the database returns them in."""
    digest = hashlib.sha256()
    with db.read_only() as session:
        tables = sorted(inspect(session.connection()).get_table_names())
        for table in tables:
            if table in NOT_BUSINESS_STATE or table == "alembic_version":
                continue
            rows = session.execute(text(f'SELECT * FROM "{table}"'))
            digest.update(table.encode())
            for row in sorted(repr(tuple(str(v) for v in row)) for row in rows):
                digest.update(row.encode())
    return digest.hexdigest()


def figure(text_: str) -> None:
    """The suite's one-line figure, on the terminal even when pytest captures output."""
    print(f"\n[hardening] {text_}", flush=True)
