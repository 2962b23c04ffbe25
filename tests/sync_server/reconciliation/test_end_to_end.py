"""The whole of reconciliation over a real uvicorn on 127.0.0.1, on SQLite and PostgreSQL, with
the desk's own client and view-model: statements in (a real EUR MT940 and an Indian bank's
CSV), the job, the queues, a line matched by hand, the period locked, and a payment backdated
into the locked period refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from desktop.sync.api import ApiClient
from desktop.viewmodels.reconciliation import ReconciliationViewModel
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk
from tests.sync_server.reconciliation.book import Finance, finance_desk, hdfc_csv
from tests.sync_server.reconciliation.shared_fixtures import shared_file

__all__ = ["_cheap_password_hashing", "app", "desk"]

TODAY = date(2026, 11, 27)
YESTERDAY = date(2026, 11, 26)


@pytest.fixture
def fin(desk: Desk) -> Finance:
    return finance_desk(desk)


def test_import_job_queues_manual_match_lock_and_a_refused_backdated_payment(
    fin: Finance, tmp_path: Path
) -> None:
    upi = fin.pay(187550, "upi", "301234567890", YESTERDAY)
    imps = fin.pay(120000, "imps", "300000000001", YESTERDAY)
    cash = [
        fin.pay(amount, "cash", f"RB-0009{n}", YESTERDAY)
        for n, amount in ((1, 2000_00), (2, 1500_00))
    ]
    assert fin.deposit(cash, "00123", YESTERDAY).status_code == 201

    client = ApiClient(
        str(fin.http.base_url).removesuffix("/"), token=fin.as_(fin.finance)["Authorization"][7:]
    )
    vm = ReconciliationViewModel(client)
    statement = tmp_path / "hdfc-27-11.csv"
    statement.write_bytes(
        hdfc_csv(
            [
                (YESTERDAY, "UPI/301234567890/asha@okaxis/EMI", "", 187550),
                (YESTERDAY, "BY CASH DEP SLIP 00123 PUNE CAMP", "00123", 3500_00),
                (YESTERDAY, "IMPS/P2A/ASHA PATIL", "", 120000),
                (TODAY, "NEFT CR-UNKNOWN TRADERS-UTIBN62026112799999999", "", 4321_00),
            ]
        )
    )
    summary = vm.import_statement(statement, "HDFC01")
    assert (summary.added, summary.matched, summary.unidentified) == (4, 2, 2)
    euro = tmp_path / "generic.sta"
    euro.write_bytes(shared_file("mt940/jejik/generic.sta"))
    foreign = vm.import_statement(euro)
    assert foreign.added > 0
    assert foreign.matched == 0

    queues = vm.queues()
    assert sorted(q.amount_paise for q in queues.unidentified) == [120000, 4321_00]
    assert {q.account for q in queues.unidentified} == {"HDFC01"}
    assert len(queues.other_currency) == foreign.added
    assert {q.currency for q in queues.other_currency} == {"EUR"}
    assert [q.amount_text for q in queues.other_currency] == ["EUR -10.00", "EUR -10.00"]
    assert vm.line(queues.other_currency[0].line_id).candidates == ()
    assert queues.missing_in_bank == ()
    assert queues.cash_in_hand == ()

    line_id = next(q.line_id for q in queues.unidentified if q.amount_paise == 120000)
    line = vm.line(line_id)
    (candidate,) = line.candidates
    assert (candidate.entry_id, candidate.step, candidate.reason) == (
        imps,
        3,
        "name 100% alike, 0 d",
    )
    matched = vm.match(line_id, candidate, "IMPS advice seen with the borrower")
    assert matched.matched_to == f"payment {imps}"

    assert vm.lock("26-11-2026", "November to the 26th") == YESTERDAY
    refused = fin.desk.pay(
        50000,
        mode="neft",
        reference="SBIN000000077777",
        payment_date=date(2026, 11, 25),
        backdate_reason="cheque cleared late",
        by=fin.desk.manager,
    )
    assert refused.status_code == 422
    assert refused.json()["error"] == "period_locked"
    assert [q.amount_paise for q in vm.queues().unidentified] == [4321_00]
    assert upi not in {m.entry_id for m in vm.queues().missing_in_bank}
    client.close()
