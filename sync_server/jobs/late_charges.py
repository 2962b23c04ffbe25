"""The day-end's first step: one late-payment charge per installment that reached the cutoff.

Kept apart from the delinquency step because nothing in it depends on DPD, bucket or class,
and the charge a night levies belongs in that night's position (a levied charge moves
`updated_at` but keeps a settled loan settled).
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from loancore.delinquency import DelinquencySettings
from sync_server.db.models.loans import CHARGEABLE_POSTGRESQL, CHARGEABLE_SQLITE
from sync_server.jobs import sql as q
from sync_server.jobs import value_date


def levy_late_charges(
    session: Session, day: date, settings: DelinquencySettings, now: datetime
) -> int:
    """One late-payment charge per installment once it reaches DPD 5 (>=, so a missed
    day-end still levies it; the installment's flag and the source key keep it to one).

    The candidates are the installments not fully paid (`paid_off_on` unset, as posting
    keeps it) and not yet charged whose due date is on or before the cutoff: one range on
    the partial index that holds only such installments, so a night reads the few that
    reached the cutoff (or that a reversal reopened), not every overdue loan's schedule,
    and a lowered setting catches up by itself."""
    q.prepare(session)
    value_date.prepare(session, day)
    cutoff = day - timedelta(days=settings.late_charge_dpd - 1)
    key = f"'late:' || {q.uuid_text(session, 'i.loan_id')} || ':' || CAST(i.seq AS TEXT)"
    # Unqualified, exactly as the index's predicate is spelled (only installment_state
    # has these columns), so both databases see the query implies it.
    chargeable = CHARGEABLE_SQLITE if q.is_sqlite(session) else CHARGEABLE_POSTGRESQL
    # PostgreSQL sizes the candidates by all past due dates, not the partial index, and
    # would hash the whole loans table for them; they are few, so look each loan up.
    with q.index_lookups(session):
        q.temp_table(
            session,
            "de_late",
            f"""
            SELECT i.loan_id, i.seq, l.branch_id, l.collector_id, {key} AS source_key
            FROM installment_state i{q.indexed_by(session, "ix_installment_state_chargeable")}
            JOIN loans l ON l.id = i.loan_id
            WHERE {chargeable} AND due_date <= :cutoff AND {value_date.in_book_sql("l")}
            """,
            cutoff=cutoff,
            d=day,
        )
    # Paid off now, but by payments dated after D: still unpaid at D (value_date.py).
    session.execute(
        q.sql(
            f"""
        INSERT INTO de_late (loan_id, seq, branch_id, collector_id, source_key)
        SELECT i.loan_id, i.seq, l.branch_id, l.collector_id, {key}
        FROM {value_date.LATER_LINES} a CROSS JOIN installment_state i
        CROSS JOIN schedule_rows r CROSS JOIN loans l
        WHERE i.loan_id = a.loan_id AND i.seq = a.seq
          AND r.loan_id = i.loan_id AND r.seq = i.seq AND l.id = i.loan_id
          AND i.late_charge_levied = {q.false(session)} AND i.paid_off_on IS NOT NULL
          AND i.due_date <= :cutoff AND {value_date.in_book_sql("l")}
          AND {value_date.unpaid_sql("r", "i", "a")} > 0
        """,
            cutoff=cutoff,
            d=day,
        )
    )
    amount = settings.late_charge_paise
    # ON CONFLICT, not NOT EXISTS: PostgreSQL planned the NOT EXISTS as a scan of the
    # (empty at planning) charges table per row, which this very insert keeps growing, so
    # the first night's 200,000 charges took minutes.
    session.execute(
        q.sql(
            f"""
        INSERT INTO charges (id, loan_id, kind, reason, installment_seq, amount_paise,
                             levied_on, source_key, created_at)
        SELECT {q.ordered_uuid(session, ":id_prefix", "t.source_key")}, t.loan_id,
               'penal', 'late_payment', t.seq, :amount, :d, t.source_key, :now
        FROM de_late t WHERE 1 = 1
        ON CONFLICT (source_key) DO NOTHING
        """,
            amount=amount,
            d=day,
            now=now,
            id_prefix=q.day_id_prefix(day),
        )
    )
    with q.index_lookups(session):
        session.execute(
            q.sql(
                f"""
            UPDATE installment_state SET late_charge_levied = {q.true(session)}
            FROM de_late t
            WHERE installment_state.loan_id = t.loan_id AND installment_state.seq = t.seq
            """
            )
        )
    session.execute(
        q.sql(
            """
        UPDATE loan_state SET charges_outstanding = charges_outstanding + :amount * t.n,
            arrears_settled_at = CASE WHEN arrears_settled_at = updated_at THEN :now
                                      ELSE arrears_settled_at END,
            updated_at = :now
        FROM (SELECT loan_id, COUNT(*) AS n FROM de_late GROUP BY loan_id) t
        WHERE loan_state.loan_id = t.loan_id
        """,
            amount=amount,
            now=now,
        )
    )
    levied = q.count(session, "de_late")
    session.execute(
        q.sql(
            f"""
        INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at)
        SELECT 'charge', {q.uuid_text(session, "c.id")}, 'upsert', c.loan_id,
               t.branch_id, t.collector_id, :now
        FROM de_late t JOIN charges c ON c.source_key = t.source_key
        """,
            now=now,
        )
    )
    # The loan too: its view carries its open charges, which a desk's provisional split
    # reads (a device pulls loans, not charges).
    session.execute(
        q.sql(
            f"""
        INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at)
        SELECT DISTINCT 'loan', {q.uuid_text(session, "t.loan_id")}, 'upsert', t.loan_id,
               t.branch_id, t.collector_id, :now
        FROM de_late t
        """,
            now=now,
        )
    )
    q.drop_temp(session, "de_late")
    value_date.drop(session)
    return levied
