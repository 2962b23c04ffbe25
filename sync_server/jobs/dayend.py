"""The day-end for one business date, as set-based SQL steps.

Each step reads the derived position that payment posting keeps in step (`loan_state`'s oldest
unpaid installment, `installment_state`'s paid amounts) and writes its results with a handful of
statements, whatever the size of the book. The rules are loancore.delinquency's; the reference
in `reference.py` applies those pure functions loan by loan and the tests hold the two equal.

DPD comes from `loan_state.oldest_unpaid_due` (the oldest installment not fully paid, kept by
posting in the same transaction as the payment), so it costs one row per loan. The nightly work
is incremental: arrears are summed from installments only for overdue loans that a payment,
reversal or import touched since the last day-end, or that had an installment fall due since
the last sum; every other overdue loan carries its arrears and its DPD advances with the
calendar, and late charges look only at installments that reached the cutoff since the last
day-end (see each step). So a night costs in proportion to the overdue book, not to the 24
schedule rows of every loan. The position used is the one known when the day-end runs; a
catch-up of a missed date therefore counts payments posted since, as a late run would have seen
them anyway. `loan_state.as_of` is the day-end that last wrote a loan (its figures moved, or it
was touched); the date the whole book stands at is the last finished day-end in the job ledger.

Late charges run first because they must see which loans were touched before the delinquency
step settles those marks; nothing in the charges depends on DPD, bucket or class.
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
from sync_server.jobs.history import record_day
from sync_server.jobs.ledger import Step
from sync_server.jobs.promises import make_reminders, settle_promises

STEP_NAMES = (
    "late_charges",
    "delinquency",
    "legal_escalation",
    "promises",
    "reminders",
    "snapshot",
)

LATE_CHARGE_SLACK_DAYS = 7
"""How far before the last day-end's cutoff the late-charge step looks again (see there)."""


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

        The work set is the loans that can change: overdue, a delinquency left from before, an
        open dispute, or touched since the last day-end (`updated_at` moved away from
        `arrears_settled_at`), with every loan of their borrowers (for borrower-wise NPA). Any
        other loan is current and standard already and stays so.

        Arrears are summed from installments only for overdue loans that were touched or had
        an installment fall due since the last sum (`arrears_next_due`); for every other
        overdue loan the dues stand still, so its arrears are carried and its DPD advances with
        the calendar. Only rows whose figures moved, or that were touched, are written.
        A posting that commits while this step runs keeps its loan marked as touched (the
        settle stamp is taken only if `updated_at` is still what the step read), so the next
        day-end sums it again."""
        q.prepare(session)
        s = self.settings
        days = q.days_since(session, ":d", "s.oldest_unpaid_due")
        overdue = "(s.oldest_unpaid_due IS NOT NULL AND s.oldest_unpaid_due <= :d)"
        touched = "(s.arrears_settled_at IS NULL OR s.arrears_settled_at <> s.updated_at)"
        resum = f"({overdue} AND ({touched} OR s.arrears_next_due <= :d))"
        q.temp_table(
            session,
            "de_touched",
            f"""
            SELECT s.loan_id FROM loan_state s
            WHERE s.oldest_unpaid_due <= :d OR s.dpd <> 0 OR s.collections_dpd <> 0
               OR s.arrears_paise <> 0 OR s.asset_class <> 'standard' OR s.bucket <> 'current'
               OR s.dispute_open OR {touched}
            UNION SELECT loan_id FROM disputes WHERE status = 'open' AND opened_on <= :d
            """,
            d=self.day,
        )
        q.temp_table(
            session,
            "de_members",
            """
            SELECT DISTINCT m.id AS loan_id
            FROM de_touched t CROSS JOIN loans b CROSS JOIN loans m
            WHERE b.id = t.loan_id AND m.borrower_id = b.borrower_id
            """,
        )
        raw = f"""
            SELECT l.id AS loan_id, l.borrower_id, l.branch_id, l.collector_id,
                   s.asset_class AS prev_class, s.npa_since AS prev_npa_since,
                   s.updated_at AS seen_at,
                   CASE WHEN {touched} THEN 1 ELSE 0 END AS touched,
                   CASE WHEN {overdue} THEN {days} + 1 ELSE 0 END AS dpd,
                   CASE WHEN NOT {overdue} THEN 0 WHEN {resum} THEN (
                       SELECT CAST(COALESCE(SUM(r.interest_due + r.principal_due
                                           - i.interest_paid - i.principal_paid), 0) AS BIGINT)
                       FROM schedule_rows r
                       JOIN installment_state i ON i.loan_id = r.loan_id AND i.seq = r.seq
                       WHERE r.loan_id = l.id AND r.seq >= s.oldest_unpaid_seq
                         AND r.due_date <= :d) ELSE s.arrears_paise END AS arrears,
                   CASE WHEN NOT {overdue} THEN s.oldest_unpaid_due WHEN {resum} THEN (
                       SELECT MIN(r.due_date) FROM schedule_rows r
                       WHERE r.loan_id = l.id AND r.due_date > :d)
                        ELSE s.arrears_next_due END AS next_due,
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
                   x.prev_npa_since, x.seen_at, x.touched, x.next_due,
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
        moved = f"""(s.dpd <> c.dpd OR s.collections_dpd <> c.collections_dpd
               OR s.bucket <> c.bucket OR s.asset_class <> c.asset_class
               OR s.arrears_paise <> c.arrears
               OR s.dispute_open <> (CASE WHEN c.disputed = 1 THEN {true} ELSE {false} END))"""
        session.execute(
            q.sql(
                f"""
            INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at)
            SELECT 'loan', {q.uuid_text(session, "c.loan_id")}, 'upsert', c.loan_id,
                   c.branch_id, c.collector_id, :now
            FROM de_loans c JOIN loan_state s ON s.loan_id = c.loan_id WHERE {moved}
            """,
                now=self.now,
            )
        )
        npa_since = "CASE WHEN c.asset_class = 'NPA' THEN COALESCE(c.prev_npa_since, :d) END"
        next_due_moved = q.distinct(session, "s.arrears_next_due", "c.next_due")
        statement = f"""
            UPDATE loan_state AS s SET dpd = c.dpd, collections_dpd = c.collections_dpd,
                   bucket = c.bucket, asset_class = c.asset_class, arrears_paise = c.arrears,
                   dispute_open = (c.disputed = 1), npa_since = {npa_since},
                   arrears_next_due = c.next_due,
                   arrears_settled_at = CASE WHEN s.updated_at = c.seen_at THEN :now
                                             ELSE s.arrears_settled_at END,
                   as_of = :d, updated_at = :now
            FROM de_loans c
            WHERE c.loan_id = s.loan_id AND ({moved} OR c.touched = 1 OR {next_due_moved})"""
        written = q.rowcount(session.execute(q.sql(statement, d=self.day, now=self.now)))
        q.drop_temp(session, "de_loans")
        q.drop_temp(session, "de_touched")
        q.drop_temp(session, "de_members")
        return int(written)

    # -- charges -------------------------------------------------------------------------------

    def late_charges(self, session: Session) -> int:
        """One late-payment charge per installment once it reaches DPD 5 (>=, so a missed
        day-end still levies it; the installment's flag and the source key keep it to one).

        An installment left alone can only become chargeable by reaching the cutoff, so for
        most overdue loans only the installments that fell due since the last day-end's cutoff
        are looked at (one index range on schedule_rows, with LATE_CHARGE_SLACK_DAYS of slack so
        that lowering the setting by up to that much still catches up); a loan touched since (a reversal can reopen an old
        installment) has all its unpaid installments looked at. This runs before the
        delinquency step, which is what settles the touched marks."""
        q.prepare(session)
        cutoff = self.day - timedelta(days=self.settings.late_charge_dpd - 1)
        previous = session.execute(
            q.sql(
                "SELECT MAX(run_key) FROM job_runs WHERE job = 'day_end' AND status = 'done' "
                "AND run_key < :key",
                key=self.day.isoformat(),
            )
        ).scalar()
        since = (
            date.fromisoformat(previous)
            - timedelta(days=self.settings.late_charge_dpd - 1 + LATE_CHARGE_SLACK_DAYS)
            if previous
            else date.min
        )
        touched = "(s.arrears_settled_at IS NULL OR s.arrears_settled_at <> s.updated_at)"
        q.temp_table(
            session,
            "de_late_loans",
            f"""
            SELECT s.loan_id, s.oldest_unpaid_seq,
                   CASE WHEN {touched} THEN 1 ELSE 0 END AS touched
            FROM loan_state s WHERE s.oldest_unpaid_due <= :cutoff
            """,
            cutoff=cutoff,
        )
        key = f"'late:' || {q.uuid_text(session, 'r.loan_id')} || ':' || CAST(r.seq AS TEXT)"
        candidates = f"""
            SELECT r.loan_id, r.seq, l.branch_id, l.collector_id, {key} AS source_key
            FROM de_late_loans o
            JOIN loans l ON l.id = o.loan_id
            JOIN schedule_rows r ON r.loan_id = o.loan_id AND r.due_date <= :cutoff
                                AND r.seq >= o.oldest_unpaid_seq AND {{window}}
            JOIN installment_state i ON i.loan_id = r.loan_id AND i.seq = r.seq
            WHERE l.status = 'active' AND i.late_charge_levied = {q.false(session)}
              AND i.interest_paid + i.principal_paid < r.interest_due + r.principal_due
        """
        q.temp_table(
            session,
            "de_late",
            candidates.format(window="r.due_date > :since")
            + " UNION "
            + candidates.format(window="o.touched = 1"),
            cutoff=cutoff,
            since=since,
        )
        q.drop_temp(session, "de_late_loans")
        amount = self.settings.late_charge_paise
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
                d=self.day,
                now=self.now,
                id_prefix=q.day_id_prefix(self.day),
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
        """The loans' figures at D for MIS trends and roll rates, kept as versions (see
        history.py): only loans whose figures moved get a new one."""
        return record_day(session, self.day)
