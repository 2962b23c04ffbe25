"""The reconciliation job (after an import, nightly) and the queues it leaves for finance."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from loancore.roles import Role
from sync_server.db.models import BankMatch, JobRun
from sync_server.errors import FeatureDisabled
from sync_server.flags.service import set_flag
from sync_server.principal import Principal
from sync_server.reconciliation.tasks import night_key, run_reconciliation
from sync_server.reconciliation.windows import overdue_through
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk
from tests.sync_server.reconciliation.book import Finance, finance_desk, hdfc_csv

__all__ = ["_cheap_password_hashing", "app", "desk"]

TODAY = date(2026, 11, 27)  # a Friday; 28-11-2026 is the fourth Saturday, a bank holiday


@pytest.fixture
def fin(desk: Desk) -> Finance:
    return finance_desk(desk)


def test_late_means_after_the_given_working_days_not_calendar_days() -> None:
    assert overdue_through(TODAY, 3) == date(2026, 11, 23)
    assert overdue_through(TODAY, 1) == date(2026, 11, 25)
    # Monday 30-11: the Saturday before was the fourth (closed), so Thursday 26-11 is the last
    # date whose third working day (27-11, 30-11... ) is behind: 26 -> 27, 30, 01-12.
    assert overdue_through(date(2026, 11, 30), 3) == date(2026, 11, 24)


def test_the_job_runs_after_an_import_and_a_rerun_changes_nothing(fin: Finance) -> None:
    fin.pay(250000, "neft", "HDFCN52026112712345678", TODAY)
    statement = hdfc_csv(
        [
            (TODAY, "NEFT CR-SBIN0001234-ASHA PATIL-HDFCN52026112712345678", "", 250000),
            (TODAY, "NEFT CR-UNKNOWN PARTY-UTIBN62026112799999999", "", 777700),
        ]
    )
    answer = fin.import_csv(statement)
    assert answer.status_code == 201, answer.text
    job = answer.json()["job"]
    assert (job["status"], job["counts"]["match"], job["counts"]["unidentified"]) == (
        "done",
        1,
        1,
    )
    again = fin.import_csv(statement)
    assert (again.json()["added"], again.json()["job"]["status"]) == (0, "already_done")
    night = run_reconciliation(fin.desk.db, night_key(TODAY), TODAY)
    assert (night.status, night.counts["match"]) == ("done", 0)
    assert run_reconciliation(fin.desk.db, night_key(TODAY), TODAY).status == "already_done"
    with fin.desk.db.read_only() as session:
        assert session.scalar(select(func.count()).select_from(BankMatch)) == 1
        runs = session.execute(select(JobRun.run_key, JobRun.status).order_by(JobRun.id)).all()
    assert [status for _, status in runs] == ["done", "done"]
    unidentified = fin.queues()["unidentified"]
    assert [(u["amount_paise"], u["account"]) for u in unidentified] == [(777700, "HDFC01")]


def test_the_kill_switch_stops_the_job_where_it_works(fin: Finance) -> None:
    with fin.desk.db.unit_of_work() as session:
        set_flag(
            session, Principal(fin.desk.admin, "admin", Role.ADMIN, None), "reconciliation", False
        )
    with pytest.raises(FeatureDisabled):
        run_reconciliation(fin.desk.db, night_key(TODAY), TODAY)
    with fin.desk.db.read_only() as session:
        assert session.scalars(select(JobRun.status)).all() == []


def test_payments_not_seen_in_the_bank_after_three_working_days_are_missing(
    fin: Finance,
) -> None:
    late = fin.pay(110000, "upi", "301234560001", date(2026, 11, 23), by=fin.desk.manager)
    fin.pay(120000, "upi", "301234560002", date(2026, 11, 24))
    fin.pay(130000, "cash", "RB-000401", date(2026, 11, 23), by=fin.desk.manager)
    missing = fin.queues()["missing_in_bank"]
    assert [(m["kind"], m["entry_id"], m["where"]) for m in missing] == [
        ("payment", late, "LN0001")
    ]
    statement = hdfc_csv([(date(2026, 11, 26), "UPI/301234560001/asha@okaxis", "", 110000)])
    assert fin.import_csv(statement).status_code == 201
    assert fin.queues()["missing_in_bank"] == []


def test_a_reversal_of_a_matched_payment_is_raised_for_review(fin: Finance) -> None:
    paid = fin.pay(15_000_00, "cheque", "000123", TODAY)
    statement = hdfc_csv([(TODAY, "CHQ DEP 000123 CLG PUNE", "000123", 15_000_00)])
    assert fin.import_csv(statement).json()["job"]["counts"]["match"] == 1
    assert fin.queues()["reversed_after_match"] == []
    asked = fin.http.post(
        f"/api/v1/payments/{paid}/reversals",
        json={"kind": "bounce", "reason": "cheque returned: funds insufficient"},
        headers=fin.as_(fin.desk.manager),
    )
    assert asked.status_code == 201, asked.text
    raised = fin.queues()["reversed_after_match"]
    assert [(r["payment_id"], r["reversal_status"]) for r in raised] == [(paid, "pending")]
    night = run_reconciliation(fin.desk.db, night_key(TODAY), TODAY)
    assert night.counts["reversed_after_match"] == 1


def test_the_queue_ages_are_the_lenders_settings_in_force(fin: Finance) -> None:
    """Missing in bank after the working days the admin set, not a constant: a payment of
    Tuesday 24-11 is not late on Friday 27-11 at 3 working days, and is at 1."""
    payment = fin.pay(120000, "upi", "301234560002", date(2026, 11, 24))
    assert fin.queues()["missing_in_bank"] == []
    answer = fin.http.put(
        "/api/v1/settings",
        json={"changes": {"missing_in_bank_working_days": 1}},
        headers=fin.as_(fin.desk.admin),
    )
    assert answer.status_code == 200, answer.text
    missing = fin.queues()["missing_in_bank"]
    assert [(m["kind"], m["entry_id"]) for m in missing] == [("payment", payment)]
