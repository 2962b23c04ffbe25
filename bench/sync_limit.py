"""The limit a push is measured against: the same payments posted straight into the database
by set-based SQL, on the same machine in the same run (no HTTP, no ORM, no Python per row).

Per batch, in one transaction: the batch lands in a staging table (one executemany), what was
already received is dropped from it (idempotent), then one statement each inserts the command
records, the payments, their allocation lines (each payment's amount laid over the loan's
unpaid interest and principal, installment by installment, as interval overlaps of running
totals), the installments' paid amounts, the loans' positions and the change rows. It keeps no
audit chain and checks no acceptance rule: what the database itself can do with the rows, the
most any posting path could reach.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text

from sync_server.db.engine import Database


@dataclass(frozen=True, slots=True)
class LimitPayment:
    id: uuid.UUID
    loan_id: uuid.UUID
    amount_paise: int
    reference: str


def _statements(kind: str) -> list[str]:
    pg = kind == "pg"
    least, greatest = ("LEAST", "GREATEST") if pg else ("MIN", "MAX")
    # The change rows name entities as the server does, by the uuid's text with hyphens.
    as_text = (
        "CAST({0} AS text)"
        if pg
        else "lower(substr({0}, 1, 8) || '-' || substr({0}, 9, 4) || '-' || substr({0}, 13, 4) "
        "|| '-' || substr({0}, 17, 4) || '-' || substr({0}, 21, 12))"
    )
    parts = "(SELECT 'interest' AS component, 0 AS k UNION ALL SELECT 'principal', 1) c"
    mine = "loan_id IN (SELECT loan_id FROM incoming)"
    return [
        "DELETE FROM incoming WHERE EXISTS (SELECT 1 FROM sync_commands s WHERE s.id = incoming.id)",
        "INSERT INTO sync_commands (id, user_id, device_id, type, content_hash, status, "
        "device_time, received_at) SELECT id, :user, 'bench-limit', 'payment', 'limit', "
        "'applied', :now, :now FROM incoming WHERE true ON CONFLICT (id) DO NOTHING",
        "INSERT INTO payments (id, loan_id, borrower_id, branch_id, amount_paise, mode, "
        "reference, payment_date, foreclosure, status, content_hash, recorded_by, recorded_at, "
        "device_id, posted_at) SELECT i.id, i.loan_id, l.borrower_id, l.branch_id, i.amount, "
        "'cash', i.reference, :day, false, 'posted', 'limit', :user, :now, 'bench-limit', :now "
        "FROM incoming i JOIN loans l ON l.id = i.loan_id",
        "WITH seg AS (SELECT s.loan_id, s.seq, c.component, c.k, CASE c.k WHEN 0 THEN "
        "s.interest_due - st.interest_paid ELSE s.principal_due - st.principal_paid END AS owed "
        "FROM schedule_rows s JOIN installment_state st ON st.loan_id = s.loan_id AND "
        f"st.seq = s.seq CROSS JOIN {parts} WHERE s.{mine}), "
        "segc AS (SELECT loan_id, seq, component, owed, SUM(owed) OVER (PARTITION BY loan_id "
        "ORDER BY seq, k) - owed AS lo FROM seg WHERE owed > 0), "
        "pay AS (SELECT id, loan_id, amount, SUM(amount) OVER (PARTITION BY loan_id ORDER BY "
        "ord) - amount AS lo FROM incoming) "
        "INSERT INTO allocations (payment_id, loan_id, component, amount_paise, "
        "installment_seq, advance, created_at) "
        f"SELECT p.id, p.loan_id, g.component, {least}(p.lo + p.amount, g.lo + g.owed) - "
        f"{greatest}(p.lo, g.lo), g.seq, false, :now FROM pay p JOIN segc g ON "
        "g.loan_id = p.loan_id AND g.lo < p.lo + p.amount AND p.lo < g.lo + g.owed",
        "UPDATE installment_state SET interest_paid = interest_paid + d.i, "
        "principal_paid = principal_paid + d.p, paid_off_on = CASE WHEN interest_paid + d.i + "
        "principal_paid + d.p >= d.due THEN :day ELSE paid_off_on END FROM (SELECT "
        "a.loan_id, a.installment_seq AS seq, SUM(CASE a.component WHEN 'interest' THEN "
        "a.amount_paise ELSE 0 END) AS i, SUM(CASE a.component WHEN 'principal' THEN "
        "a.amount_paise ELSE 0 END) AS p, MIN(s.interest_due + s.principal_due) AS due "
        "FROM allocations a JOIN schedule_rows s ON s.loan_id = a.loan_id AND "
        "s.seq = a.installment_seq WHERE a.payment_id IN (SELECT id FROM incoming) "
        "GROUP BY a.loan_id, a.installment_seq) d "
        "WHERE installment_state.loan_id = d.loan_id AND installment_state.seq = d.seq",
        "UPDATE loan_state SET principal_outstanding = principal_outstanding - d.p, "
        "interest_paid_total = interest_paid_total + d.i, installments_paid_total = "
        "installments_paid_total + d.i + d.p, last_payment_date = :day, updated_at = :now, "
        "oldest_unpaid_seq = (SELECT MIN(seq) FROM installment_state t WHERE t.loan_id = "
        "loan_state.loan_id AND t.paid_off_on IS NULL) FROM (SELECT loan_id, SUM(CASE "
        "component WHEN 'interest' THEN amount_paise ELSE 0 END) AS i, SUM(CASE component "
        "WHEN 'principal' THEN amount_paise ELSE 0 END) AS p FROM allocations WHERE payment_id "
        "IN (SELECT id FROM incoming) GROUP BY loan_id) d WHERE loan_state.loan_id = d.loan_id",
        "INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at) "
        f"SELECT 'payment', {as_text.format('i.id')}, 'upsert', l.id, l.branch_id, "
        "l.collector_id, :now FROM incoming i JOIN loans l ON l.id = i.loan_id UNION ALL "
        f"SELECT 'loan', {as_text.format('l.id')}, 'upsert', l.id, l.branch_id, l.collector_id, "
        ":now FROM loans l WHERE l.id IN (SELECT loan_id FROM incoming)",
        "DELETE FROM incoming",
    ]


def post_set_based(
    db: Database, kind: str, user_id: uuid.UUID, payments: list[LimitPayment], batch: int
) -> float:
    """Post `payments` in batches of `batch`, each in one transaction; returns the seconds."""
    pg = kind == "pg"

    def key(value: uuid.UUID) -> object:
        return value if pg else value.hex

    uid = "uuid" if pg else "CHAR(32)"
    now = datetime.now(UTC)
    stamp: object = now if pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    today = datetime.now(ZoneInfo("Asia/Kolkata")).date()
    day: object = today if pg else today.isoformat()
    statements = [text(statement) for statement in _statements(kind)]
    params = {"user": key(user_id), "now": stamp, "day": day}
    started = time.perf_counter()
    with db.engine.connect() as conn:
        conn.execute(
            text(
                f"CREATE TEMP TABLE IF NOT EXISTS incoming (ord INTEGER, id {uid} PRIMARY KEY, "
                f"loan_id {uid}, amount BIGINT, reference VARCHAR(64))"
            )
        )
        conn.commit()
        for start in range(0, len(payments), batch):
            rows = [
                {
                    "ord": n,
                    "id": key(p.id),
                    "loan_id": key(p.loan_id),
                    "amount": p.amount_paise,
                    "reference": p.reference,
                }
                for n, p in enumerate(payments[start : start + batch])
            ]
            conn.execute(
                text(
                    "INSERT INTO incoming (ord, id, loan_id, amount, reference) "
                    "VALUES (:ord, :id, :loan_id, :amount, :reference)"
                ),
                rows,
            )
            for statement in statements:
                conn.execute(statement, params)
            conn.commit()
    return time.perf_counter() - started
