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

Late charges run first (late_charges.py). The five dates the night stores on `loan_state`
(overdue_since, collections_since, as_of, arrears_settled_at, arrears_next_due) are explained in
one place, with a loan followed over several nights: docs/day-end.md.
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
    NO_DUE_DATE_SQL,
)
from sync_server.jobs import first_night, value_date, workset
from sync_server.jobs import sql as q
from sync_server.jobs.history import record_day
from sync_server.jobs.late_charges import levy_late_charges
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


def _figures_at_d_sql(session: Session) -> str:
    """Each member loan read at D: a loan with payments dated after D is read as of D
    (value_date.py): its oldest installment unpaid then, its arrears then; it stays touched
    until D reaches them. Arrears are summed afresh only when `resum` holds."""
    oldest = "(CASE WHEN lx.loan_id IS NULL THEN s.oldest_unpaid_due ELSE ax.overdue_since END)"
    days = q.days_since(session, ":d", oldest)
    overdue = f"({oldest} IS NOT NULL AND {oldest} <= :d)"
    touched = (
        "(lx.loan_id IS NOT NULL OR s.arrears_settled_at IS NULL"
        " OR s.arrears_settled_at <> s.updated_at)"
    )
    resum = f"({overdue} AND ({touched} OR s.arrears_next_due <= :d))"
    next_due_after_d = (
        "(SELECT MIN(r.due_date) FROM schedule_rows r WHERE r.loan_id = l.id AND r.due_date > :d)"
    )
    return f"""
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


def _moved_sql(session: Session) -> str:
    """A loan's figures tonight (`c`, de_loans) differ from those stored (`s`, loan_state)."""
    true, false = q.true(session), q.false(session)
    return f"""({q.distinct(session, "s.overdue_since", "c.overdue_since")}
               OR {q.distinct(session, "s.collections_since", "c.collections_since")}
               OR s.bucket <> c.bucket OR s.asset_class <> c.asset_class
               OR s.arrears_paise <> c.arrears
               OR {q.distinct(session, "s.next_due_date", "c.earliest_unpaid")}
               OR s.dispute_open <> (CASE WHEN c.disputed = 1 THEN {true} ELSE {false} END))"""


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
        """Tonight's overdue dates, arrears, bucket and RBI class for every loan that can have
        moved, in the same transaction, step by named step. What each stored date means, with a
        loan followed over several nights: docs/day-end.md.

        DPD is stored as the date a loan fell overdue, so an overdue loan whose dues stand
        still needs no write while its DPD grows with the date. Only the loans that can change
        tonight are looked at (workset.py), with every loan of their borrowers; any other
        loan's stored figures still hold at D.

        Arrears are summed from installments only for overdue loans that were touched or had
        an installment fall due since the last sum; for every other overdue loan they are
        carried. Only rows whose figures moved, or that were touched, are written. A posting
        that commits while this step runs keeps its loan marked as touched (the settle stamp is
        taken only if `updated_at` is still what the step read), so the next day-end sums it
        again."""
        q.prepare(session)
        value_date.prepare(session, self.day)
        self._gather_loans_that_can_move(session)
        first_night.remember_history(session, self.day, self.settings)  # previous class
        self._work_out_tonights_figures(session)
        self._make_every_loan_of_an_npa_borrower_npa(session)
        self._tell_devices_whose_figures_moved(session)
        written = self._store_tonights_figures(session)
        written += self._clear_closed(session)
        q.set_delinquency_date(session, self.day)
        for scratch in ("de_loans", "de_touched", "de_members"):
            q.drop_temp(session, scratch)
        value_date.drop(session)
        first_night.forget(session)
        return int(written)

    def _gather_loans_that_can_move(self, session: Session) -> None:
        """The work set (`de_touched`), then every loan of those loans' borrowers
        (`de_members`): borrower-wise NPA is decided over all of a borrower's loans."""
        work_set, params = workset.work_set_sql(
            self.day, self.settings, sqlite=q.is_sqlite(session)
        )
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

    def _work_out_tonights_figures(self, session: Session) -> None:
        """`de_loans`: each member loan's figures at D (overdue and collections dates,
        arrears and when they are next summed, bucket, class with NPA stickiness)."""
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
                        ELSE {_class("x.dpd", self.settings)} END AS asset_class
            FROM ({_figures_at_d_sql(session)}) x
            """,
            d=self.day,
        )

    def _make_every_loan_of_an_npa_borrower_npa(self, session: Session) -> None:
        """Borrower-wise NPA (RBI): one NPA loan with arrears makes all the borrower's NPA."""
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

    def _tell_devices_whose_figures_moved(self, session: Session) -> None:
        session.execute(
            q.sql(
                f"""
            INSERT INTO change_log (entity, entity_id, op, loan_id, branch_id, collector_id, at)
            SELECT 'loan', {q.uuid_text(session, "c.loan_id")}, 'upsert', c.loan_id,
                   c.branch_id, c.collector_id, :now
            FROM de_loans c JOIN loan_state s ON s.loan_id = c.loan_id
            WHERE {_moved_sql(session)}
            """,
                now=self.now,
            )
        )

    def _store_tonights_figures(self, session: Session) -> int:
        """Write the loans whose figures moved or that were touched; `as_of` names tonight,
        and `arrears_settled_at` is stamped only if no posting came in since they were read."""
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
            WHERE c.loan_id = s.loan_id
              AND ({_moved_sql(session)} OR c.touched = 1 OR {next_due_moved})"""
        return q.rowcount(session.execute(q.sql(statement, d=self.day, now=self.now)))

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
        """Late charges run first: the charge a night levies belongs in that night's position."""
        return levy_late_charges(session, self.day, self.settings, self.now)

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
