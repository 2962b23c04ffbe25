"""Two statements imported at once, over a real uvicorn on SQLite and PostgreSQL: the second
arrives while the first's reconciliation job holds the job lock. Both are saved and answered
201; the second's job is 'queued' and the first's holder matches it before letting go, so
every line of both ends matched as importing them one at a time does. The same file imported
again is still answered as already there and already reconciled; the kill switch still stops
a queued run, which the next run (the scheduler's nightly one) does once switched back on."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from desktop.sync.api import ApiClient
from desktop.viewmodels.reconciliation import ReconciliationViewModel
from loancore.roles import Role
from sync_server.db.models import AuditEntry, BankLine, BankMatch, JobRun, Payment
from sync_server.errors import FeatureDisabled
from sync_server.flags.service import set_flag
from sync_server.jobs import ledger
from sync_server.jobs.ledger import RECONCILIATION
from sync_server.principal import SYSTEM, Principal
from sync_server.reconciliation import service, tasks
from sync_server.reconciliation.tasks import import_key, night_key, run_reconciliation
from tests.sync_server.payments.conftest import _cheap_password_hashing, app, desk
from tests.sync_server.payments.helpers import Desk
from tests.sync_server.reconciliation.book import API, Finance, finance_desk, hdfc_csv

__all__ = ["_cheap_password_hashing", "app", "desk"]

TODAY = date(2026, 11, 27)
WAIT_S = 60
PAID = {  # reference -> amount in paise, one NEFT payment each
    "HDFCN52026112700000001": 250000,
    "HDFCN52026112700000002": 260000,
    "HDFCN52026112700000003": 270000,
    "HDFCN52026112700000004": 280000,
}
REFS = list(PAID)


def _line(ref: str) -> tuple[date, str, str, int]:
    return (TODAY, f"NEFT CR-SBIN0001234-ASHA PATIL-{ref}", "", PAID[ref])


FIRST = hdfc_csv([_line(REFS[0]), _line(REFS[1]), (TODAY, "NEFT CR-UNKNOWN PARTY", "", 777700)])
SECOND = hdfc_csv([_line(REFS[2]), _line(REFS[3])], opening=200_000_00)
EXPECTED = sorted(
    [(f"NEFT CR-SBIN0001234-ASHA PATIL-{ref}", ref, 1) for ref in REFS]
)  # (narration, the payment's reference, the matching step): each credit to its payment


@pytest.fixture
def fin(desk: Desk) -> Finance:
    finance = finance_desk(desk)
    for ref, amount in PAID.items():
        finance.pay(amount, "neft", ref, TODAY)
    return finance


def _matches(fin: Finance) -> list[tuple[str, str | None, int]]:
    with fin.desk.db.read_only() as session:
        rows = session.execute(
            select(BankLine.narration, Payment.reference, BankMatch.step)
            .join(BankMatch, BankMatch.bank_line_id == BankLine.id)
            .join(Payment, Payment.id == BankMatch.payment_id)
            .where(BankMatch.unmatched_at.is_(None))
        ).all()
    return sorted((n, r, int(s)) for n, r, s in rows)


def _runs(fin: Finance) -> dict[str, str]:
    with fin.desk.db.read_only() as session:
        return dict(
            session.execute(
                select(JobRun.run_key, JobRun.status).where(JobRun.job == RECONCILIATION)
            ).all()
        )


def _count(fin: Finance, model: type, *where: Any) -> int:
    with fin.desk.db.read_only() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def _key(data: bytes) -> str:
    return import_key(hashlib.sha256(data).hexdigest())


class Pause:
    """Holds the first import's request at one point of its job, lock held, until let go."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.go = threading.Event()

    def here(self) -> None:
        self.reached.set()
        assert self.go.wait(WAIT_S), "the test never let the first job go on"


def _pause_before_matching(monkeypatch: pytest.MonkeyPatch, key: str, pause: Pause) -> None:
    """After the first run's ledger row is committed, before its match step reads anything:
    the second statement's lines are in the book when the first job matches."""
    begin = ledger._begin

    def paused(db: Any, job: str, run_key: str) -> Any:
        begun = begin(db, job, run_key)
        if run_key == key:
            pause.here()
        return begun

    monkeypatch.setattr(ledger, "_begin", paused)


def _pause_after_its_run(monkeypatch: pytest.MonkeyPatch, key: str, pause: Pause) -> None:
    """The first run is done (matched and counted) and its holder still holds the lock: the
    second statement arrives too late for that run, so only a run of its own matches it."""
    ended = ledger.job_ended

    def paused(db: Any, job: str, run_key: str, outcome: str, *a: Any, **kw: Any) -> None:
        ended(db, job, run_key, outcome, *a, **kw)
        if run_key == key and outcome == "done":
            pause.here()

    monkeypatch.setattr(ledger, "job_ended", paused)


def _post(url: str, headers: dict[str, str], data: bytes, name: str) -> httpx.Response:
    with httpx.Client(base_url=url, timeout=WAIT_S) as client:
        return client.post(
            f"{API}/statements",
            params={"file_name": name, "account": "HDFC01"},
            content=data,
            headers={**headers, "Content-Type": "application/octet-stream"},
        )


def test_one_at_a_time_every_credit_is_matched_to_its_payment(fin: Finance) -> None:
    """The yardstick the concurrent imports must meet."""
    for data in (FIRST, SECOND):
        answer = fin.import_csv(data)
        assert answer.status_code == 201, answer.text
        assert answer.json()["job"]["status"] == "done"
    assert _matches(fin) == EXPECTED
    assert _runs(fin) == {_key(FIRST): "done", _key(SECOND): "done"}


@pytest.mark.parametrize(
    "pause_at", [_pause_before_matching, _pause_after_its_run], ids=["before", "after"]
)
def test_a_statement_imported_while_another_import_is_matched_is_saved_queued_and_matched(
    fin: Finance,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    pause_at: Callable[[pytest.MonkeyPatch, str, Pause], None],
) -> None:
    pause = Pause()
    pause_at(monkeypatch, _key(FIRST), pause)
    url = str(fin.http.base_url)
    first: list[httpx.Response] = []
    importing = threading.Thread(
        target=lambda: first.append(_post(url, fin.as_(fin.finance), FIRST, "first.csv"))
    )
    importing.start()
    try:
        assert pause.reached.wait(WAIT_S), "the first import's job never began"
        desk = ReconciliationViewModel(
            ApiClient(url.removesuffix("/"), token=fin.as_(fin.second_finance)["Authorization"][7:])
        )
        statement = tmp_path / "second.csv"
        statement.write_bytes(SECOND)
        second = desk.import_statement(statement, "HDFC01")
        assert (second.added, second.already_there, second.job) == (2, 0, "queued")
        assert "Saved. Its matching waits for the reconciliation running now" in second.sentence
        assert _count(fin, BankLine) == 5, "the queued statement is stored, not refused"
        assert _runs(fin)[_key(SECOND)] == "queued"
    finally:
        pause.go.set()
        importing.join(WAIT_S)
    assert not importing.is_alive()
    assert first[0].status_code == 201, first[0].text
    assert (first[0].json()["added"], first[0].json()["job"]["status"]) == (3, "done")
    assert _runs(fin) == {_key(FIRST): "done", _key(SECOND): "done"}
    assert _matches(fin) == EXPECTED
    assert [(u["amount_paise"]) for u in fin.queues()["unidentified"]] == [777700]
    assert _count(fin, AuditEntry, AuditEntry.action == "job.reconciliation") == 2

    again = fin.import_csv(FIRST, name="first-again.csv")
    assert again.status_code == 201, again.text
    body = again.json()
    assert (body["added"], body["already_there"], body["job"]["status"]) == (0, 3, "already_done")
    assert (_count(fin, BankLine), _matches(fin)) == (5, EXPECTED)


def test_the_kill_switch_holds_a_queued_run_until_switched_back_on(fin: Finance) -> None:
    admin = Principal(fin.desk.admin, "admin", Role.ADMIN, None)
    with ledger.job_lock(fin.desk.db, RECONCILIATION) as held:
        assert held
        answer = fin.import_csv(SECOND)
        assert answer.status_code == 201, answer.text
        assert answer.json()["job"] == {"run_key": _key(SECOND), "status": "queued", "counts": {}}
    with fin.desk.db.unit_of_work() as session:
        set_flag(session, admin, "reconciliation", False)
    with pytest.raises(FeatureDisabled):
        run_reconciliation(fin.desk.db, night_key(TODAY), TODAY)
    assert (_runs(fin), _matches(fin)) == ({_key(SECOND): "queued"}, [])
    with fin.desk.db.unit_of_work() as session:
        set_flag(session, admin, "reconciliation", True)
    night = run_reconciliation(fin.desk.db, night_key(TODAY), TODAY)
    assert night.status == "done"
    assert _runs(fin) == {_key(SECOND): "done", night_key(TODAY): "done"}
    assert _matches(fin) == EXPECTED[2:]


def test_a_statement_saved_between_the_holders_last_look_and_its_release_is_run(
    fin: Finance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window a holder cannot see into while it holds the lock: it looked, found nothing
    queued, and before it lets go another import commits and fails to take the lock. The
    holder looks again after letting go and takes the lock back for it."""
    db = fin.desk.db
    seen: list[str] = []
    run_queued = tasks._run_queued

    def then_another_import(*args: Any) -> bool:
        clean = run_queued(*args)
        if not seen:
            with db.unit_of_work() as session:
                report = service.import_statement_file(
                    session,
                    data=SECOND,
                    file_name="second.csv",
                    account_code="HDFC01",
                    actor=SYSTEM,
                )
            assert report.added == 2
            behind = tasks.reconcile_import(db, hashlib.sha256(SECOND).hexdigest(), TODAY)
            seen.append(behind.status)
        return clean

    monkeypatch.setattr(tasks, "_run_queued", then_another_import)
    night = run_reconciliation(db, night_key(TODAY), TODAY)
    assert (night.status, seen) == ("done", ["queued"])
    assert _runs(fin) == {night_key(TODAY): "done", _key(SECOND): "done"}
    assert _matches(fin) == EXPECTED[2:]
