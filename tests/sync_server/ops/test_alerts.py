"""A job that fails or is late is told once: stored, sent to the webhook and by mail, and
listed for the people who watch the nightly work."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from typing import Any

import httpx
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from loancore.roles import Role
from sync_server.clock import FixedClock
from sync_server.db.engine import Database
from sync_server.db.models import FeatureFlag, JobRun, OpsAlert
from sync_server.jobs import tasks
from sync_server.jobs.dayend import DayEnd
from sync_server.ops.alerts import AlertChannels, AlertSettingsError, check_late_day_end
from sync_server.scheduler import run_due_jobs
from tests.sync_server.conftest import Actors
from tests.sync_server.ops.receivers import mail_receiver, webhook_receiver

Received = tuple[list[dict[str, Any]], list[Message]]
DAY = date(2026, 11, 26)


def ist(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - timedelta(
        hours=5, minutes=30
    )


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> Iterator[Received]:
    """The alert settings as an operator sets them, pointing at the two local receivers."""
    with webhook_receiver() as (url, hooks), mail_receiver() as (port, mails):
        monkeypatch.setenv("LOANDESK_ALERT_WEBHOOK_URL", url)
        monkeypatch.setenv("LOANDESK_ALERT_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("LOANDESK_ALERT_SMTP_PORT", str(port))
        monkeypatch.setenv("LOANDESK_ALERT_MAIL_FROM", "loandesk@lender.example")
        monkeypatch.setenv("LOANDESK_ALERT_MAIL_TO", "it@lender.example, ops@lender.example")
        monkeypatch.setenv("LOANDESK_DAY_END_LATE_AFTER", "06:00")
        yield hooks, mails


def _missing_table(session: Session) -> int:
    session.execute(text("SELECT count(*) FROM a_table_the_night_lost"))
    return 0


def _deliveries(db: Database) -> list[dict[str, Any]]:
    with db.read_only() as session:
        return [
            dict(row.delivery)
            for row in session.execute(select(OpsAlert).order_by(OpsAlert.id)).scalars()
        ]


def test_a_failed_day_end_is_sent_once_to_the_webhook_and_by_mail(
    db: Database, received: Received, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks, mails = received
    monkeypatch.setattr(DayEnd, "steps", lambda self: [("dpd", _missing_table)])
    clock = FixedClock(ist(DAY + timedelta(days=1), 0, 31))
    for _ in range(2):  # the scheduler's next tick fails the same way: told once
        with pytest.raises(DBAPIError, match="a_table_the_night_lost"):
            tasks.run_day_end(db, DAY, clock)

    assert len(hooks) == 1
    hook = hooks[0]
    assert hook["kind"] == "job_failed"
    assert (hook["job"], hook["run_key"], hook["source"]) == ("day_end", "2026-11-26", "loandesk")
    assert hook["message"].startswith("The day-end for 26-11-2026 failed on ")
    assert "OperationalError" in hook["message"] or "ProgrammingError" in hook["message"]
    assert "a_table_the_night_lost" not in hook["message"]  # the error's text stays in the ledger
    assert len(mails) == 1
    mail = mails[0]
    assert mail["To"] == "it@lender.example, ops@lender.example"
    assert str(mail["Subject"]).strip().startswith("LoanDesk: The day-end for 26-11-2026 failed")
    assert "python main.py jobs status" in mail.get_content()  # type: ignore[attr-defined]
    assert _deliveries(db) == [{"webhook": "sent", "email": "sent"}]
    with db.read_only() as session:
        run = session.execute(select(JobRun).where(JobRun.job == "day_end")).scalar_one()
        assert run.status == "failed"
        assert run.error is not None
        assert "a_table_the_night_lost" in run.error


def test_a_day_end_not_done_by_the_hour_is_late_once_and_not_before(
    db: Database, received: Received
) -> None:
    hooks, mails = received
    with db.unit_of_work() as session:  # the office switched the day-end off and forgot
        session.merge(FeatureFlag(key="job_day_end", enabled=False, description="day-end"))
    ran = run_due_jobs(db, FixedClock(ist(DAY + timedelta(days=1), 5, 59)))
    assert [
        entry for entry in ran if entry.startswith("day-end")
    ] == []  # the night's matching runs
    assert hooks == []
    for minute in (0, 1):
        run_due_jobs(db, FixedClock(ist(DAY + timedelta(days=1), 6, minute)))
    assert [h["kind"] for h in hooks] == ["job_late"]
    assert hooks[0]["run_key"] == "2026-11-26"
    assert hooks[0]["message"].startswith("The day-end for 26-11-2026 is late: not done by 06:00")
    assert len(mails) == 1
    assert (
        str(mails[0]["Subject"]).strip().startswith("LoanDesk: The day-end for 26-11-2026 is late")
    )


def test_a_done_day_end_is_not_late_and_a_dead_webhook_is_written_on_the_alert(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    with db.unit_of_work() as session:
        session.add(JobRun(job="day_end", run_key="2026-11-26", status="done", runner="t"))
    channels = AlertChannels(webhook_url="http://127.0.0.1:9/nobody-listens")
    assert check_late_day_end(db, FixedClock(ist(date(2026, 11, 27), 9)), channels) is None
    alert = check_late_day_end(db, FixedClock(ist(date(2026, 11, 28), 9)), channels)
    assert alert is not None
    assert alert.delivery == {"webhook": "failed: ConnectError"}
    assert _deliveries(db) == [{"webhook": "failed: ConnectError"}]


def test_an_unusable_alert_setting_is_named() -> None:
    with pytest.raises(AlertSettingsError, match="LOANDESK_DAY_END_LATE_AFTER='6 am'"):
        AlertChannels.from_env({"LOANDESK_DAY_END_LATE_AFTER": "6 am"})
    with pytest.raises(AlertSettingsError, match="LOANDESK_ALERT_SMTP_PORT"):
        AlertChannels.from_env({"LOANDESK_ALERT_SMTP_PORT": "twenty-five"})


def test_admins_see_the_weeks_alerts_and_collectors_do_not(
    db: Database, http: httpx.Client, actors: Actors
) -> None:
    channels = AlertChannels()
    # The app's clock is 27-11-2026 15:30 IST: the 26th's day-end is late.
    assert check_late_day_end(db, FixedClock(ist(date(2026, 11, 27), 15, 30)), channels)
    admin = actors.headers(actors.user(Role.ADMIN))
    listed = http.get("/api/v1/ops/alerts", headers=admin)
    assert listed.status_code == 200
    [alert] = listed.json()
    assert alert["kind"] == "job_late"
    assert alert["run_key"] == "2026-11-26"
    assert alert["delivery"] == {}
    collector = actors.headers(actors.user(Role.COLLECTOR))
    assert http.get("/api/v1/ops/alerts", headers=collector).status_code == 403
