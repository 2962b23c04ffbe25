"""A loan closed while far overdue, end to end: a branch manager's desk records the foreclosure
quote, syncs it to a real server, and from then the server's loan list, loan detail and pull, and
the desk's list and detail, give it DPD 0 and no bucket, while its history keeps the class it had
at every day-end before it closed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from tenacity import wait_none

from desktop.cache.models import CachedLoan
from desktop.sync.engine import SyncEngine
from desktop.viewmodels.loan_detail import LoanDetailViewModel
from desktop.viewmodels.loans import LoanFilter, LoansQuery
from desktop.viewmodels.record_payment import RecordPaymentViewModel
from loancore.acceptance import PaymentMode
from sync_server.db.models import Branch, Loan
from sync_server.jobs.history import LoanOnDate, book_as_of
from sync_server.loans.dpd import dpd_as_of
from tests.desktop.screens.demo_server import DEMO_TODAY, DemoServer, demo_server


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    with demo_server(tmp_path_factory.mktemp("demo-closed")) as server:
        yield server


def _worst_loan(demo: DemoServer) -> tuple[LoanOnDate, str, str]:
    """The active loan furthest overdue at the last day-end (no dispute freezing its DPD):
    its figures that night, its account number and its branch's code."""
    with demo.db.read_only() as session:
        night = dpd_as_of(session)
        assert night is not None
        rows = [r for r in book_as_of(session, night) if r.collections_dpd == r.dpd]
        worst = max(rows, key=lambda r: (r.dpd, str(r.loan_id)))
        account_no, code = session.execute(
            select(Loan.account_no, Branch.code)
            .join(Branch, Branch.id == Loan.branch_id)
            .where(Loan.id == worst.loan_id)
        ).one()
    return worst, str(account_no), str(code)


def test_a_loan_closed_while_npa_reads_dpd_0_and_no_bucket_everywhere_and_keeps_its_history(
    demo: DemoServer, tmp_path: Path
) -> None:
    before, account_no, branch = _worst_loan(demo)
    assert (before.asset_class, before.bucket) == ("NPA", "90+"), "the demo has an NPA loan"
    loan_id = str(before.loan_id)
    context = demo.context(f"bm.{branch.lower()}", tmp_path)
    cache = context.book.cache
    api = context.session.api
    engine = SyncEngine(api, cache, wait=wait_none())  # type: ignore[arg-type]
    assert engine.sync().ok

    desk = RecordPaymentViewModel(
        cache,
        loan_id,
        user_id=context.user.id,
        user_name=context.user.full_name,
        role=context.user.role,
        business_date=DEMO_TODAY,
    )
    quote = desk.assess().closing_amount
    seen = desk.update(
        mode=PaymentMode.NEFT,
        amount_text=f"{quote // 100}.{quote % 100:02d}",
        reference="SBIN0000000077ZZ",
        foreclosure=True,
    )
    assert seen.can_save, seen.refusals
    desk.save()
    report = engine.sync()
    assert report.ok, report.error

    with demo.db.read_only() as session:
        loan = session.get(Loan, uuid.UUID(loan_id))
        assert loan is not None
        assert (loan.status, loan.closed_on) == ("closed", DEMO_TODAY)

    # The server's API: the detail, the list of closed loans, the history.
    position = api.request("GET", f"/loans/{loan_id}")["position"]
    assert (
        position["dpd"],
        position["collections_dpd"],
        position["bucket"],
        position["arrears_paise"],
    ) == (0, 0, None, 0)
    listed = api.request("GET", "/loans", params={"status": "closed", "q": account_no})["items"]
    assert [(i["account_no"], i["dpd"], i["bucket"]) for i in listed] == [(account_no, 0, None)]
    night = DEMO_TODAY - timedelta(days=1)
    days = api.request(
        "GET",
        f"/loans/{loan_id}/history",
        params={"from": (night - timedelta(days=6)).isoformat(), "to": night.isoformat()},
    )["days"]
    assert (days[-1]["day"], days[-1]["dpd"], days[-1]["bucket"], days[-1]["asset_class"]) == (
        night.isoformat(),
        before.dpd,
        "90+",
        "NPA",
    )
    assert [d["dpd"] for d in days] == [before.dpd - 6 + n for n in range(7)]

    # What the desk pulled, and its Loans list and loan detail.
    with cache.transaction() as session:
        pulled = session.execute(select(CachedLoan).where(CachedLoan.id == loan_id)).scalar_one()
        data = dict(pulled.data)
    assert (data["status"], data["overdue_since"], data["collections_since"]) == (
        "closed",
        None,
        None,
    )
    assert data["arrears_paise"] == 0
    rows = LoansQuery(cache).all_rows(LoanFilter(statuses=("closed",)))
    assert [(r.account_no, r.dpd, r.bucket_label) for r in rows if r.loan_id == loan_id] == [
        (account_no, 0, "Closed")
    ]
    header = LoanDetailViewModel(cache, loan_id, business_date=DEMO_TODAY).load().header
    assert (header.dpd, header.bucket_label) == (0, "—")
