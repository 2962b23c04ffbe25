"""Promises to pay at the day-end: settling them (kept, partly kept, broken) and making the
collector's reminders for the coming day."""


# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from sync_server.jobs import sql as q


def settle_promises(session: Session, day: date, grace_days: int, now: datetime) -> int:
    """Settle promises at the day-end of promised date + grace: kept, partly kept, broken,
    on what was paid for the loan (posted, not reversed) since the promise was made."""
    q.prepare(session)
    decide_through = day - timedelta(days=grace_days)
    q.temp_table(
        session,
        "de_promises",
        """
        SELECT p.id AS promise_id, p.loan_id, p.amount_paise, l.branch_id, l.collector_id,
               (SELECT COALESCE(SUM(pay.amount_paise), 0) FROM payments pay
                WHERE pay.loan_id = p.loan_id AND pay.status = 'posted'
                  AND pay.payment_date >= p.made_on AND pay.payment_date <= :d
                  AND NOT EXISTS (SELECT 1 FROM payment_reversals v
                                  WHERE v.payment_id = pay.id AND v.status = 'approved')
               ) AS paid
        FROM promises p JOIN loans l ON l.id = p.loan_id
        WHERE p.outcome = 'pending' AND p.promised_date <= :decide_through
        """,
        d=day,
        decide_through=decide_through,
    )
    session.execute(
        q.sql(
            """
        UPDATE promises SET
            paid_toward = t.paid,
            outcome = CASE WHEN t.paid >= t.amount_paise THEN 'kept'
                           WHEN t.paid > 0 THEN 'partly_kept' ELSE 'broken' END,
            decided_on = :d
        FROM de_promises t
        WHERE promises.id = t.promise_id
        """,
            d=day,
        )
    )
    q.emit(session, "promise", "promise_id", "de_promises", now)
    decided = q.count(session, "de_promises")
    q.drop_temp(session, "de_promises")
    return decided


def make_reminders(session: Session, day: date, now: datetime) -> int:
    """Reminders for the coming day: the day before the promised date and the day itself,
    once each (unique per promise and kind), never dated before the promise was made."""
    q.prepare(session)
    next_day = day + timedelta(days=1)
    q.temp_table(
        session,
        "de_reminders",
        """
        SELECT p.id AS promise_id, p.collector_id, p.loan_id, k.kind, l.branch_id
        FROM promises p
        JOIN loans l ON l.id = p.loan_id
        JOIN (SELECT 'day_before' AS kind, 1 AS days_ahead
              UNION ALL SELECT 'due_day', 0) k ON 1 = 1
        WHERE p.outcome = 'pending' AND p.made_on <= :next_day
          AND ((k.days_ahead = 1 AND p.promised_date = :day_after)
               OR (k.days_ahead = 0 AND p.promised_date = :next_day))
          AND NOT EXISTS (SELECT 1 FROM reminders r
                          WHERE r.promise_id = p.id AND r.kind = k.kind)
        """,
        next_day=next_day,
        day_after=next_day + timedelta(days=1),
    )
    session.execute(
        q.sql(
            """
        INSERT INTO reminders (promise_id, user_id, loan_id, kind, remind_on, created_at)
        SELECT promise_id, collector_id, loan_id, kind, :next_day, :now FROM de_reminders
        """,
            next_day=next_day,
            now=now,
        )
    )
    session.execute(
        q.sql(
            """
        INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at)
        SELECT 'reminder', CAST(r.id AS TEXT), 'upsert', t.loan_id, t.branch_id,
               t.collector_id, :now
        FROM de_reminders t
        JOIN reminders r ON r.promise_id = t.promise_id AND r.kind = t.kind
        """,
            now=now,
        )
    )
    made = q.count(session, "de_reminders")
    q.drop_temp(session, "de_reminders")
    return made
