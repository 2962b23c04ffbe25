"""The day-end for one business date, as set-based SQL steps.

Each step reads the derived position that payment posting keeps in step (`loan_state`'s oldest
unpaid installment, `installment_state`'s paid amounts) and writes its results with a handful of
statements, whatever the size of the book. The rules are loancore.delinquency's; the reference
in `reference.py` applies those pure functions loan by loan and the tests hold the two equal.

The overdue date comes from `loan_state.oldest_unpaid_due` (the oldest installment not fully
paid, kept by posting in the same transaction as the payment), so it costs one row per loan.
The book stores that date (`overdue_since`, `collections_since`), not the DPD, and names the
day-end it describes in `delinquency_date`; every reader derives DPD from the two. So a night
writes only loans whose figures move: those a payment, reversal or import touched, those with a
due date arriving, those under a dispute, and those whose DPD crossed a bucket or class
threshold (workset.py, each read off its own index). Arrears are summed from installments only
for overdue loans touched or with a new due date; late charges read only the installments not
yet paid or charged that reached the cutoff (a partial index). So a night costs in proportion
to what changed, not to the overdue book, nor to the 24 schedule rows of every loan. The
day-end for D sees payments dated on or before D only: a loan with a payment dated after D (a
catch-up of missed nights, or a payment entered after midnight before the night ran) is read as
of D (value_date.py) and stays in the work set until the night of that payment, so a catch-up
writes what the nights run on time would have written. `loan_state.as_of` is
the day-end that last wrote a loan (its figures moved, or it was touched).

Late charges run first: the charge a night levies belongs in that night's position (a levied
charge moves `updated_at` but keeps a settled loan settled); nothing in the charges depends on
DPD, bucket or class.
"""

# ruff: noqa: S608 -- statements are assembled from this module's constants and dialect
# spellings only; every value a person or the book supplies is a bound parameter.

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from loancore.delinquency import (
    BUCKET_DPD_BANDS,
    DelinquencySettings,
    DpdBand,
    class_dpd_bands,
)
from sync_server.db.models.loans import (
    CHARGEABLE_POSTGRESQL,
    CHARGEABLE_SQLITE,
    NO_DUE_DATE_SQL,
)
from sync_server.jobs import first_night, value_date, workset
from sync_server.jobs import sql as q
from sync_server.jobs.history import record_day
from sync_server.jobs.ledger import Step
from sync_server.jobs.promises import make_reminders, settle_promises
from sync_server.settings.service import settings_on

STEP_NAMES = (
    "late_charges",
    "delinquency",
    "legal_escalation",
    "promises",
    "reminders",
    "snapshot",
)


def _by_band(dpd: str, bands: Mapping[str, DpdBand]) -> str:
    """A CASE giving the name of the band a DPD expression falls in; bands are taken in
    order, so an empty one is skipped and the open-ended last one takes the rest."""
    whens = [
        f"WHEN {dpd} <= {hi} THEN '{name}'"
        for name, (lo, hi) in bands.items()
        if hi is not None and hi >= lo
    ]
    last = next(name for name, (_, hi) in bands.items() if hi is None)
    return f"(CASE {' '.join(whens)} ELSE '{last}' END)"


def _bucket(dpd: str) -> str:
    """The collections bucket of a DPD expression (loancore.delinquency.bucket_for)."""
    return _by_band(dpd, {b.value: band for b, band in BUCKET_DPD_BANDS.items()})


def _class(dpd: str, settings: DelinquencySettings) -> str:
    """The RBI class a DPD expression earns on its own (loancore's class_for_dpd)."""
    return _by_band(dpd, {c.value: band for c, band in class_dpd_bands(settings).items()})


def delinquency_settings(session: Session, day: date) -> DelinquencySettings:
    """The delinquency rules' settings in force on the night of `day` (sync_server.settings:
    effective-dated, so a catch-up or re-derivation uses that night's figures)."""
    return settings_on(session, day).delinquency


@dataclass(frozen=True)
class DayEnd:
    day: date
    settings: DelinquencySettings
    now: datetime

    def steps(self) -> list[tuple[str, Step]]:
        return [(name, getattr(self, name)) for name in STEP_NAMES]

    # -- delinquency ---------------------------------------------------------------------------

    def delinquency(self, session: Session) -> int:
        """Actual and collections overdue dates, arrears, the dispute freeze, RBI class with NPA
        stickiness, then borrower-wise NPA; a change-log row for every loan whose figures
        moved; and the book's delinquency date, in the same transaction.

        DPD is stored as the date a loan fell overdue (`overdue_since`; `collections_since`
        for the collections view), so an overdue loan whose dues stand still needs no write
        while its DPD grows with the date. The work set (workset.py, each part off an index) is
        the loans that can change tonight: touched since the last day-end, with a due date
        arriving, under a dispute (open, or closed since), or whose DPD crossed a bucket or
        class threshold; with every loan of their borrowers (for borrower-wise NPA). Any other
        loan's stored figures still hold at D.

        Arrears are summed from installments only for overdue loans that were touched or had
        an installment fall due since the last sum; for every other overdue loan they are
        carried. Only rows whose figures moved, or that were touched, are written. A posting
        that commits while this step runs keeps its loan marked as touched (the settle stamp is
        taken only if `updated_at` is still what the step read), so the next day-end sums it
        again."""
        q.prepare(session)
        value_date.prepare(session, self.day)
        s = self.settings
        # A loan with payments dated after D is read as of D (value_date.py): its oldest
        # installment unpaid then, its arrears then; it stays touched until D reaches them.
        oldest = "(CASE WHEN lx.loan_id IS NULL THEN s.oldest_unpaid_due ELSE ax.overdue_since END)"
        days = q.days_since(session, ":d", oldest)
        overdue = f"({oldest} IS NOT NULL AND {oldest} <= :d)"
        touched = (
            "(lx.loan_id IS NOT NULL OR s.arrears_settled_at IS NULL"
            " OR s.arrears_settled_at <> s.updated_at)"
        )
        resum = f"({overdue} AND ({touched} OR s.arrears_next_due <= :d))"
        next_due_after_d = "(SELECT MIN(r.due_date) FROM schedule_rows r WHERE r.loan_id = l.id AND r.due_date > :d)"
        work_set, params = workset.work_set_sql(self.day, s, sqlite=q.is_sqlite(session))
        q.temp_table(session, "de_touched", work_set, **params)
        q.temp_table(
            session,
            "de_members",
            """
            SELECT DISTINCT m.id AS loan_id
            FROM de_touched t CROSS JOIN loans b CROSS JOIN loans m
            WHERE b.id = t.loan_id AND m.borrower_id = b.borrower_id
            """,
        )
        first_night.remember_history(session, self.day, s)  # a first night's previous class
        raw = f"""
            SELECT l.id AS loan_id, l.borrower_id, l.branch_id, l.collector_id,
                   COALESCE(fn.asset_class, s.asset_class) AS prev_class,
                   COALESCE(fn.npa_since, s.npa_since) AS prev_npa_since,
                   s.updated_at AS seen_at,
                   CASE WHEN {touched} THEN 1 ELSE 0 END AS touched,
                   CASE WHEN lx.loan_id IS NULL THEN 0 ELSE 1 END AS later,
                   CASE WHEN lx.loan_id IS NULL THEN s.oldest_unpaid_due
                        ELSE s.next_due_date END AS earliest_unpaid,
                   CASE WHEN {overdue} THEN {days} + 1 ELSE 0 END AS dpd,
                   CASE WHEN {overdue} THEN {oldest} END AS overdue_since,
                   CASE WHEN lx.loan_id IS NOT NULL THEN COALESCE(ax.arrears, 0)
                        WHEN NOT {overdue} THEN 0 WHEN {resum} THEN (
                       SELECT CAST(COALESCE(SUM(r.interest_due + r.principal_due
                                           - i.interest_paid - i.principal_paid), 0) AS BIGINT)
                       FROM schedule_rows r
                       JOIN installment_state i ON i.loan_id = r.loan_id AND i.seq = r.seq
                       WHERE r.loan_id = l.id AND r.seq >= s.oldest_unpaid_seq
                         AND r.due_date <= :d) ELSE s.arrears_paise END AS arrears,
                   CASE WHEN lx.loan_id IS NOT NULL THEN {next_due_after_d}
                        WHEN NOT {overdue} THEN s.oldest_unpaid_due
                        WHEN {resum} THEN {next_due_after_d}
                        ELSE s.arrears_next_due END AS next_due,
                   dz.dpd_at_open AS frozen_dpd, dz.bucket_at_open AS frozen_bucket
            FROM de_members w
            JOIN loans l ON l.id = w.loan_id
            JOIN loan_state s ON s.loan_id = l.id
            LEFT JOIN de_first_night fn ON fn.loan_id = l.id
            LEFT JOIN disputes dz ON dz.loan_id = l.id AND dz.status = 'open'
                                 AND dz.opened_on <= :d
            LEFT JOIN {value_date.LATER_LOANS} lx ON lx.loan_id = l.id
            LEFT JOIN {value_date.AS_OF} ax ON ax.loan_id = l.id
            WHERE {value_date.in_book_sql("l")} AND l.disbursement_date <= :d
        """
        frozen_since = q.days_before(session, ":d", "x.frozen_dpd - 1")
        q.temp_table(
            session,
            "de_loans",
            f"""
            SELECT x.loan_id, x.borrower_id, x.branch_id, x.collector_id, x.arrears,
                   x.prev_npa_since, x.seen_at, x.touched, x.later, x.next_due,
                   x.overdue_since, x.earliest_unpaid,
                   CASE WHEN x.frozen_dpd IS NULL THEN x.overdue_since
                        WHEN x.frozen_dpd = 0 THEN NULL ELSE {frozen_since} END
                       AS collections_since,
                   COALESCE(x.frozen_bucket, {_bucket("x.dpd")}) AS bucket,
                   CASE WHEN x.frozen_dpd IS NULL THEN 0 ELSE 1 END AS disputed,
                   CASE WHEN x.prev_class = 'NPA' AND x.arrears > 0 THEN 'NPA'
                        ELSE {_class("x.dpd", s)} END AS asset_class
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
        moved = f"""({q.distinct(session, "s.overdue_since", "c.overdue_since")}
               OR {q.distinct(session, "s.collections_since", "c.collections_since")}
               OR s.bucket <> c.bucket OR s.asset_class <> c.asset_class
               OR s.arrears_paise <> c.arrears
               OR {q.distinct(session, "s.next_due_date", "c.earliest_unpaid")}
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
            UPDATE loan_state AS s SET overdue_since = c.overdue_since,
                   collections_since = c.collections_since,
                   bucket = c.bucket, asset_class = c.asset_class, arrears_paise = c.arrears,
                   dispute_open = (c.disputed = 1), npa_since = {npa_since},
                   arrears_next_due = c.next_due, next_due_date = c.earliest_unpaid,
                   arrears_settled_at = CASE WHEN s.updated_at = c.seen_at AND c.later = 0
                                             THEN :now ELSE s.arrears_settled_at END,
                   as_of = :d, updated_at = :now
            FROM de_loans c
            WHERE c.loan_id = s.loan_id AND ({moved} OR c.touched = 1 OR {next_due_moved})"""
        written = q.rowcount(session.execute(q.sql(statement, d=self.day, now=self.now)))
        written += self._clear_closed(session)
        q.set_delinquency_date(session, self.day)
        q.drop_temp(session, "de_loans")
        q.drop_temp(session, "de_touched")
        q.drop_temp(session, "de_members")
        value_date.drop(session)
        first_night.forget(session)
        return int(written)

    def _clear_closed(self, session: Session) -> int:
        """Loans of the work set that left the book on or before D (closed, written off): DPD
        0, no arrears, Current, Standard, and settled, so they leave the work set for good.
        Posting clears them when they close; this undoes what a catch-up night before the
        closing date wrote, and settles the closing itself. Their history keeps what they were
        (the snapshot step ends their version)."""
        q.temp_table(
            session,
            "de_left",
            """
            SELECT t.loan_id, l.branch_id, l.collector_id, s.updated_at AS seen_at
            FROM de_touched t JOIN loans l ON l.id = t.loan_id
            JOIN loan_state s ON s.loan_id = t.loan_id
            WHERE l.status <> 'active' AND (l.closed_on IS NULL OR l.closed_on <= :d)
            """,
            d=self.day,
        )
        figures = """(s.overdue_since IS NOT NULL OR s.collections_since IS NOT NULL
                   OR s.bucket <> 'current' OR s.asset_class <> 'standard'
                   OR s.npa_since IS NOT NULL OR s.arrears_paise <> 0)"""
        session.execute(
            q.sql(
                f"""
            INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at)
            SELECT 'loan', {q.uuid_text(session, "c.loan_id")}, 'upsert', c.loan_id,
                   c.branch_id, c.collector_id, :now
            FROM de_left c JOIN loan_state s ON s.loan_id = c.loan_id WHERE {figures}
            """,
                now=self.now,
            )
        )
        cleared = session.execute(
            q.sql(
                """
            UPDATE loan_state AS s SET overdue_since = NULL, collections_since = NULL,
                   bucket = 'current', asset_class = 'standard', npa_since = NULL,
                   arrears_paise = 0, arrears_next_due = NULL, next_due_date = NULL,
                   arrears_settled_at = CASE WHEN s.updated_at = c.seen_at THEN :now
                                             ELSE s.arrears_settled_at END,
                   updated_at = :now
            FROM de_left c WHERE c.loan_id = s.loan_id
            """,
                now=self.now,
            )
        )
        q.drop_temp(session, "de_left")
        return q.rowcount(cleared)

    # -- charges -------------------------------------------------------------------------------

    def late_charges(self, session: Session) -> int:
        """One late-payment charge per installment once it reaches DPD 5 (>=, so a missed
        day-end still levies it; the installment's flag and the source key keep it to one).

        The candidates are the installments not fully paid (`paid_off_on` unset, as posting
        keeps it) and not yet charged whose due date is on or before the cutoff: one range on
        the partial index that holds only such installments, so a night reads the few that
        reached the cutoff (or that a reversal reopened), not every overdue loan's schedule,
        and a lowered setting catches up by itself."""
        q.prepare(session)
        value_date.prepare(session, self.day)
        cutoff = self.day - timedelta(days=self.settings.late_charge_dpd - 1)
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
                d=self.day,
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
                d=self.day,
            )
        )
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
                now=self.now,
            )
        )
        q.drop_temp(session, "de_late")
        value_date.drop(session)
        return levied

    # -- legal ---------------------------------------------------------------------------------

    def legal_escalation(self, session: Session) -> int:
        """A legal case at collections DPD >= 90 (so a dispute freezes escalation too), never a
        second while one is open. Runs after the delinquency step, so `collections_since` is
        tonight's."""
        q.prepare(session)
        key = f"'legal:' || {q.uuid_text(session, 'l.id')} || ':' || :iso"
        collections_dpd = q.days_since(session, ":d", "s.collections_since")
        # Collections DPD >= threshold is collections_since on or before this date; spelled as
        # the list's sort expression so its index serves the range.
        q.temp_table(
            session,
            "de_legal",
            f"""
            SELECT {q.uuid_from_key(session, key)} AS case_id, l.id AS loan_id, l.branch_id,
                   l.collector_id, {collections_dpd} + 1 AS collections_dpd
            FROM loan_state s JOIN loans l ON l.id = s.loan_id
            WHERE {value_date.in_book_sql("l")}
              AND COALESCE(s.collections_since, {NO_DUE_DATE_SQL}) <= :cutoff
              AND NOT EXISTS (SELECT 1 FROM legal_cases c
                              WHERE c.loan_id = l.id AND c.status <> 'closed')
            """,
            iso=self.day.isoformat(),
            d=self.day,
            cutoff=self.day - timedelta(days=self.settings.legal_escalation_dpd - 1),
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
