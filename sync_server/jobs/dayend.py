"""The day-end for one business date, as set-based SQL steps.

Each step reads the derived position that payment posting keeps in step (`loan_state`'s oldest
unpaid installment, `installment_state`'s paid amounts) and writes its results with a handful of
statements, whatever the size of the book. The rules are loancore.delinquency's; the reference
in `reference.py` applies those pure functions loan by loan and the tests hold the two equal.

DPD comes from `loan_state.oldest_unpaid_due` (the oldest installment not fully paid, kept by
posting in the same transaction as the payment), so it costs one row per loan; arrears are summed
only for loans that are overdue, from their oldest unpaid installment up to D. The position used
is the one known when the day-end runs; a catch-up of a missed date therefore counts payments
posted since, as a late run would have seen them anyway. Only loans that can change are
recomputed (see `delinquency`), so `loan_state.as_of` is the day-end that last recomputed a
loan; the date the whole book stands at is the last finished day-end in the job ledger.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from loancore.delinquency import DelinquencySettings
from sync_server.db.models import Setting
from sync_server.jobs import sql as q
from sync_server.jobs.ledger import Step
from sync_server.jobs.promises import make_reminders, settle_promises

STEP_NAMES = (
    "delinquency",
    "late_charges",
    "legal_escalation",
    "promises",
    "reminders",
    "snapshot",
)


def delinquency_settings(session: Session) -> DelinquencySettings:
    """Admin overrides live in the settings table under the field names of DelinquencySettings;
    anything absent keeps the DOMAIN.md default."""
    fields = DelinquencySettings.__dataclass_fields__
    rows = session.execute(select(Setting.key, Setting.value).where(Setting.key.in_(fields)))
    overrides = {key: int(value) for key, value in rows}
    return DelinquencySettings(**overrides)


@dataclass(frozen=True)
class DayEnd:
    day: date
    settings: DelinquencySettings
    now: datetime

    def steps(self) -> list[tuple[str, Step]]:
        return [(name, getattr(self, name)) for name in STEP_NAMES]

    # -- delinquency ---------------------------------------------------------------------------

    def delinquency(self, session: Session) -> int:
        """Actual DPD and arrears, the dispute freeze, RBI class with NPA stickiness, then
        borrower-wise NPA; a change-log row for every loan whose figures moved.

        Only loans that can change are recomputed: those with an installment due and unpaid,
        a delinquency left from before, or an open dispute, with every loan of their borrowers
        (for borrower-wise NPA). Any other loan is current and standard already and stays so;
        on a healthy book that spares four loans in five."""
        q.prepare(session)
        s = self.settings
        days = q.days_since(session, ":d", "s.oldest_unpaid_due")
        overdue = "s.oldest_unpaid_due IS NOT NULL AND s.oldest_unpaid_due <= :d"
        q.temp_table(
            session,
            "de_touched",
            """
            SELECT s.loan_id FROM loan_state s
            WHERE s.oldest_unpaid_due <= :d OR s.dpd <> 0 OR s.collections_dpd <> 0
               OR s.arrears_paise <> 0 OR s.asset_class <> 'standard' OR s.bucket <> 'current'
               OR s.dispute_open
            UNION SELECT loan_id FROM disputes WHERE status = 'open' AND opened_on <= :d
            """,
            d=self.day,
        )
        q.temp_table(
            session,
            "de_members",
            """
            SELECT DISTINCT m.id AS loan_id FROM de_touched t
            JOIN loans b ON b.id = t.loan_id
            JOIN loans m ON m.borrower_id = b.borrower_id
            """,
        )
        raw = f"""
            SELECT l.id AS loan_id, l.borrower_id, l.branch_id, l.collector_id,
                   s.asset_class AS prev_class, s.npa_since AS prev_npa_since,
                   CASE WHEN {overdue} THEN {days} + 1 ELSE 0 END AS dpd,
                   CASE WHEN {overdue} THEN (
                       SELECT COALESCE(SUM(r.interest_due + r.principal_due
                                           - i.interest_paid - i.principal_paid), 0)
                       FROM schedule_rows r
                       JOIN installment_state i ON i.loan_id = r.loan_id AND i.seq = r.seq
                       WHERE r.loan_id = l.id AND r.seq >= s.oldest_unpaid_seq
                         AND r.due_date <= :d) ELSE 0 END AS arrears,
                   dz.dpd_at_open AS frozen_dpd, dz.bucket_at_open AS frozen_bucket
            FROM de_members w
            JOIN loans l ON l.id = w.loan_id
            JOIN loan_state s ON s.loan_id = l.id
            LEFT JOIN disputes dz ON dz.loan_id = l.id AND dz.status = 'open'
                                 AND dz.opened_on <= :d
            WHERE l.status = 'active' AND l.disbursement_date <= :d
        """
        bucket = """CASE WHEN x.dpd = 0 THEN 'current' WHEN x.dpd <= 30 THEN '1-30'
                    WHEN x.dpd <= 60 THEN '31-60' WHEN x.dpd <= 90 THEN '61-90' ELSE '90+' END"""
        by_dpd = f"""CASE WHEN x.dpd > {s.npa_dpd} THEN 'NPA' WHEN x.dpd = 0 THEN 'standard'
                    WHEN x.dpd <= 30 THEN 'SMA-0' WHEN x.dpd <= 60 THEN 'SMA-1' ELSE 'SMA-2' END"""
        q.temp_table(
            session,
            "de_loans",
            f"""
            SELECT x.loan_id, x.borrower_id, x.branch_id, x.collector_id, x.dpd, x.arrears,
                   x.prev_npa_since,
                   COALESCE(x.frozen_dpd, x.dpd) AS collections_dpd,
                   COALESCE(x.frozen_bucket, {bucket}) AS bucket,
                   CASE WHEN x.frozen_dpd IS NULL THEN 0 ELSE 1 END AS disputed,
                   CASE WHEN x.prev_class = 'NPA' AND x.arrears > 0 THEN 'NPA'
                        ELSE {by_dpd} END AS asset_class
            FROM ({raw}) x
            """,
            d=self.day,
        )
        session.execute(
            q.sql(
                """
            UPDATE de_loans SET asset_class = 'NPA'
            WHERE asset_class <> 'NPA' AND borrower_id IN (
                SELECT borrower_id FROM de_loans GROUP BY borrower_id
                HAVING SUM(CASE WHEN asset_class = 'NPA' THEN 1 ELSE 0 END) > 0
                   AND SUM(arrears) > 0)
            """
            )
        )
        true, false = q.true(session), q.false(session)
        changed = f"""
            FROM de_loans c JOIN loan_state s ON s.loan_id = c.loan_id
            WHERE s.dpd <> c.dpd OR s.collections_dpd <> c.collections_dpd
               OR s.bucket <> c.bucket OR s.asset_class <> c.asset_class
               OR s.arrears_paise <> c.arrears
               OR s.dispute_open <> (CASE WHEN c.disputed = 1 THEN {true} ELSE {false} END)
        """
        session.execute(
            q.sql(
                f"""
            INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at)
            SELECT 'loan', {q.uuid_text(session, "c.loan_id")}, 'upsert', c.loan_id,
                   c.branch_id, c.collector_id, :now {changed}
            """,
                now=self.now,
            )
        )
        npa_since = "CASE WHEN c.asset_class = 'NPA' THEN COALESCE(c.prev_npa_since, :d) END"
        assignments = f"""dpd = c.dpd, collections_dpd = c.collections_dpd, bucket = c.bucket,
                   asset_class = c.asset_class, arrears_paise = c.arrears,
                   dispute_open = (c.disputed = 1), npa_since = {npa_since},
                   as_of = :d, updated_at = :now"""
        statement = f"""
            UPDATE loan_state AS s SET {assignments}
            FROM de_loans c WHERE c.loan_id = s.loan_id"""
        touched = q.rowcount(session.execute(q.sql(statement, d=self.day, now=self.now)))
        q.drop_temp(session, "de_loans")
        q.drop_temp(session, "de_touched")
        q.drop_temp(session, "de_members")
        return int(touched)

    # -- charges -------------------------------------------------------------------------------

    def late_charges(self, session: Session) -> int:
        """One late-payment charge per installment once it reaches DPD 5 (>=, so a missed
        day-end still levies it; the installment's flag and the source key keep it to one)."""
        q.prepare(session)
        cutoff = self.day - timedelta(days=self.settings.late_charge_dpd - 1)
        key = f"'late:' || {q.uuid_text(session, 'i.loan_id')} || ':' || CAST(i.seq AS TEXT)"
        q.temp_table(
            session,
            "de_late",
            f"""
            SELECT i.loan_id, i.seq, l.branch_id, l.collector_id, {key} AS source_key
            FROM loan_state s
            JOIN loans l ON l.id = s.loan_id
            JOIN installment_state i ON i.loan_id = s.loan_id AND i.seq >= s.oldest_unpaid_seq
            JOIN schedule_rows r ON r.loan_id = i.loan_id AND r.seq = i.seq
            WHERE l.status = 'active' AND s.oldest_unpaid_due <= :cutoff
              AND i.due_date <= :cutoff AND i.late_charge_levied = {q.false(session)}
              AND i.interest_paid + i.principal_paid < r.interest_due + r.principal_due
            """,
            cutoff=cutoff,
        )
        amount = self.settings.late_charge_paise
        session.execute(
            q.sql(
                f"""
            INSERT INTO charges (id, loan_id, kind, reason, installment_seq, amount_paise,
                                 levied_on, source_key, created_at)
            SELECT {q.uuid_from_key(session, "t.source_key")}, t.loan_id, 'penal',
                   'late_payment', t.seq, :amount, :d, t.source_key, :now
            FROM de_late t
            WHERE NOT EXISTS (SELECT 1 FROM charges c WHERE c.source_key = t.source_key)
            """,
                amount=amount,
                d=self.day,
                now=self.now,
            )
        )
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
                updated_at = :now
            FROM (SELECT loan_id, COUNT(*) AS n FROM de_late GROUP BY loan_id) t
            WHERE loan_state.loan_id = t.loan_id
            """,
                amount=amount,
                now=self.now,
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
                now=self.now,
            )
        )
        q.drop_temp(session, "de_late")
        return levied

    # -- legal ---------------------------------------------------------------------------------

    def legal_escalation(self, session: Session) -> int:
        """A legal case at collections DPD >= 90 (so a dispute freezes escalation too), never a
        second while one is open."""
        q.prepare(session)
        key = f"'legal:' || {q.uuid_text(session, 'l.id')} || ':' || :iso"
        q.temp_table(
            session,
            "de_legal",
            f"""
            SELECT {q.uuid_from_key(session, key)} AS case_id, l.id AS loan_id, l.branch_id,
                   l.collector_id, s.collections_dpd
            FROM loan_state s JOIN loans l ON l.id = s.loan_id
            WHERE l.status = 'active' AND s.collections_dpd >= :threshold
              AND NOT EXISTS (SELECT 1 FROM legal_cases c
                              WHERE c.loan_id = l.id AND c.status <> 'closed')
            """,
            iso=self.day.isoformat(),
            threshold=self.settings.legal_escalation_dpd,
        )
        session.execute(
            q.sql(
                """
            INSERT INTO legal_cases (id, loan_id, status, opened_on, opened_by, dpd_at_open,
                                     updated_at)
            SELECT case_id, loan_id, 'open', :d, NULL, collections_dpd, :now FROM de_legal
            """,
                d=self.day,
                now=self.now,
            )
        )
        q.emit(session, "legal_case", "case_id", "de_legal", self.now)
        opened = q.count(session, "de_legal")
        q.drop_temp(session, "de_legal")
        return opened

    # -- promises ------------------------------------------------------------------------------

    def promises(self, session: Session) -> int:
        return settle_promises(session, self.day, self.settings.promise_grace_days, self.now)

    def reminders(self, session: Session) -> int:
        return make_reminders(session, self.day, self.now)

    # -- snapshot ------------------------------------------------------------------------------

    def snapshot(self, session: Session) -> int:
        """One row per loan in the portfolio at D, for MIS trends and roll rates."""
        q.prepare(session)
        session.execute(
            q.sql("DELETE FROM loan_daily_snapshots WHERE business_date = :d", d=self.day)
        )
        result = session.execute(
            q.sql(
                """
            INSERT INTO loan_daily_snapshots (business_date, loan_id, branch_id, dpd,
                collections_dpd, bucket, asset_class, principal_outstanding, arrears_paise)
            SELECT :d, s.loan_id, l.branch_id, s.dpd, s.collections_dpd, s.bucket,
                   s.asset_class, s.principal_outstanding, s.arrears_paise
            FROM loan_state s JOIN loans l ON l.id = s.loan_id
            WHERE l.status = 'active' AND l.disbursement_date <= :d
            """,
                d=self.day,
            )
        )
        return q.rowcount(result)
