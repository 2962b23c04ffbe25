"""GET /reports/mis over a real server: who sees which book (a branch manager's figures are
computed for the branch alone), dates that cannot be reported get a 422 that says why, every
outcome is audited, and a report running holds its own lane, not a reader's place."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import httpx
import openpyxl
import pypdf
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from loancore.roles import Role
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry
from sync_server.reports import service
from sync_server.reports.service import mis_figures
from tests.sync_server.conftest import Actors
from tests.sync_server.reports.book import AS_OF

MIS = "/api/v1/reports/mis"


def _audit(db: Database) -> list[tuple[str, str | None, str | None]]:
    with db.read_only() as session:
        found = session.execute(
            select(AuditEntry.outcome, AuditEntry.entity_id, AuditEntry.detail)
            .where(AuditEntry.action == "report.mis")
            .order_by(AuditEntry.id)
        ).all()
    return [(str(r[0]), r[1], r[2]) for r in found]


@pytest.fixture
def served(built: Database, app: FastAPI, http: httpx.Client) -> httpx.Client:
    return http


def test_finance_and_auditor_get_the_whole_book_as_pdf_and_xlsx(
    built: Database, served: httpx.Client, actors: Actors
) -> None:
    with built.read_only() as session:
        whole = mis_figures(session, AS_OF)
    for role in (Role.FINANCE, Role.AUDITOR):
        headers = actors.headers(actors.user(role))
        answer = served.get(MIS, params={"as_of": AS_OF.isoformat()}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "application/pdf"
        assert answer.headers["x-figures-sha256"] == whole.digest()
        assert f'filename="mis-{AS_OF.isoformat()}.pdf"' in answer.headers["content-disposition"]
        first = pypdf.PdfReader(io.BytesIO(answer.content)).pages[1].extract_text()
        assert "Summary as of 12-04-2026" in first
    sheet = served.get(
        MIS,
        params={"as_of": AS_OF.isoformat(), "format": "xlsx"},
        headers=actors.headers(actors.user(Role.FINANCE)),
    )
    assert sheet.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    branches = {row[0] for row in book["Portfolio"].iter_rows(min_row=2, values_only=True)}
    assert branches == {p.branch for p in whole.portfolio}
    assert len(branches) == 2
    taken = _audit(built)
    assert [outcome for outcome, _, _ in taken] == ["ok"] * 3
    assert all(whole.digest() in (detail or "") for _, _, detail in taken)


def test_a_branch_manager_gets_their_own_branch_computed_alone(
    built: Database, served: httpx.Client, actors: Actors
) -> None:
    with built.read_only() as session:
        second = mis_figures(session, AS_OF, "BR02")
        whole = mis_figures(session, AS_OF)
    assert 0 < second.loans < whole.loans
    manager = actors.headers(actors.user(Role.BRANCH_MANAGER, branch_id=2))
    answer = served.get(MIS, params={"as_of": AS_OF.isoformat(), "format": "xlsx"}, headers=manager)
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-figures-sha256"] == second.digest()
    assert "mis-2026-04-12-BR02.xlsx" in answer.headers["content-disposition"]
    summary = {
        row[0]: row[1]
        for row in openpyxl.load_workbook(io.BytesIO(answer.content))["Summary"].iter_rows(
            min_row=2, values_only=True
        )
    }
    assert summary["Loans in the book"] == second.loans
    assert summary["Scope"] == "Branch BR02"
    same = served.get(MIS, params={"as_of": AS_OF.isoformat(), "branch": "BR02"}, headers=manager)
    assert same.headers["x-figures-sha256"] == second.digest()
    other = served.get(MIS, params={"as_of": AS_OF.isoformat(), "branch": "BR01"}, headers=manager)
    assert other.status_code == 403
    assert "own branch (BR02)" in other.json()["detail"]
    assert [o for o, _, _ in _audit(built)] == ["ok", "ok", "denied"]


@pytest.mark.parametrize("role", [Role.COLLECTOR, Role.LEGAL])
def test_other_roles_are_refused_and_audited(
    built: Database, served: httpx.Client, actors: Actors, role: Role
) -> None:
    answer = served.get(
        MIS, params={"as_of": AS_OF.isoformat()}, headers=actors.headers(actors.user(role))
    )
    assert answer.status_code == 403
    with built.read_only() as session:
        denied = session.execute(
            select(AuditEntry.action).where(
                AuditEntry.outcome == "denied", AuditEntry.entity_id == MIS
            )
        ).scalars()
        assert list(denied) == ["view_reports"]


def test_dates_that_cannot_be_reported_get_a_422_that_says_why(
    built: Database, served: httpx.Client, actors: Actors
) -> None:
    headers = actors.headers(actors.user(Role.FINANCE))
    cases = {
        "2026-11-28": "is in the future (today is 27-11-2026)",
        "2024-01-01": "01-01-2024 is before the first disbursement (",
        date(2026, 4, 13).isoformat(): "day-end of 13-04-2026 has not run yet",
        "2026-02-30": "as_of",
    }
    for as_of, reason in cases.items():
        answer = served.get(MIS, params={"as_of": as_of}, headers=headers)
        assert answer.status_code == 422, as_of
        assert reason in answer.json()["detail"], answer.json()
    assert [o for o, _, _ in _audit(built)] == ["refused"] * 3
    unknown = served.get(MIS, params={"as_of": AS_OF.isoformat(), "branch": "XX9"}, headers=headers)
    assert unknown.status_code == 404


def test_the_kill_switch_stops_reports(
    built: Database, served: httpx.Client, actors: Actors
) -> None:
    from sync_server.flags.service import set_flag
    from sync_server.principal import Principal

    admin = Principal(
        actors.user(Role.ADMIN, username="flags-admin"), "flags-admin", Role.ADMIN, None
    )
    with built.unit_of_work() as session:
        set_flag(session, admin, "reports", False)
    answer = served.get(
        MIS,
        params={"as_of": AS_OF.isoformat()},
        headers=actors.headers(actors.user(Role.FINANCE)),
    )
    assert answer.status_code == 503
    assert answer.json()["error"] == "reports_disabled"


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[threading.Event, threading.Event]]:
    """The report's figures wait on `release` once `inside` is set: a report in progress."""
    inside, release = threading.Event(), threading.Event()
    real = service.mis_figures

    def slow(*args: object, **kwargs: object) -> object:
        inside.set()
        release.wait(timeout=30)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr("sync_server.reports.generate.mis_figures", slow)
    yield inside, release
    release.set()


def test_a_running_report_holds_its_own_lane_and_readers_keep_theirs(
    built: Database,
    served: httpx.Client,
    actors: Actors,
    held: tuple[threading.Event, threading.Event],
) -> None:
    inside, release = held
    headers = actors.headers(actors.user(Role.FINANCE))
    params = {"as_of": AS_OF.isoformat()}
    with ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(served.get, MIS, params=params, headers=headers)
        assert inside.wait(timeout=30)
        second = served.get(MIS, params=params, headers=headers)
        assert second.status_code == 503
        assert second.headers["retry-after"] == "5"
        reads = [served.get("/api/v1/auth/me", headers=headers) for _ in range(12)]
        assert {r.status_code for r in reads} == {200}
        release.set()
        assert first.result(timeout=60).status_code == 200
    again = served.get(MIS, params=params, headers=headers)
    assert again.status_code == 200
