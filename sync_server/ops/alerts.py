"""Telling the lender's IT when the nightly work went wrong: a job that failed, a day-end
not finished by the hour the branches count on (`LOANDESK_DAY_END_LATE_AFTER`, IST), or a
Sunday's ledger check that found loans whose stored figures are not their ledger's.

An alert is stored once per (kind, job, run key), whichever server process noticed it first
(the unique key decides, so three processes noticing one failure send one message), shown on
an administrator's Home in the desk, and sent to the configured webhook (a JSON POST) and/or
mail server. A channel that fails is written on the alert; the alert itself is never lost for
it. Alerts name the job, the date and the error's kind, never a borrower or a secret.
"""

from __future__ import annotations

import logging
import os
import smtplib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from loancore.dates import IST
from sync_server.clock import Clock
from sync_server.db.engine import Database
from sync_server.db.models import JobRun, OpsAlert
from sync_server.db.types import utcnow

log = logging.getLogger("loandesk.ops.alerts")

JOB_FAILED = "job_failed"
JOB_LATE = "job_late"
LEDGER_DIFFERS = "ledger_differs"
DAY_END = "day_end"  # the ledger's name (sync_server.jobs.ledger.DAY_END)
JOB_WORDS = {"day_end": "day-end", "weekly_scores": "weekly scores", "nightly_backup": "backup"}
DEFAULT_LATE_AFTER = time(6, 0)
SEND_TIMEOUT_S = 5.0


class AlertSettingsError(ValueError):
    """An alert setting in the environment that cannot be used, named."""


def _late_after(value: str | None) -> time:
    if not value:
        return DEFAULT_LATE_AFTER
    try:
        return time.fromisoformat(value)
    except ValueError:
        raise AlertSettingsError(
            f"LOANDESK_DAY_END_LATE_AFTER={value!r} is not a time of day like 06:00"
        ) from None


@dataclass(frozen=True)
class AlertChannels:
    """Where alerts go; read from the environment (see docs/operations.md)."""

    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    mail_from: str = "loandesk@localhost"
    mail_to: tuple[str, ...] = ()
    day_end_late_after: time = DEFAULT_LATE_AFTER
    """Day-end for D not done by this time (IST) on D+1 raises a lateness alert."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> AlertChannels:
        env = os.environ if environ is None else environ
        port = env.get("LOANDESK_ALERT_SMTP_PORT") or "25"
        if not port.isdigit():
            raise AlertSettingsError(f"LOANDESK_ALERT_SMTP_PORT={port!r} is not a port number")
        return cls(
            webhook_url=env.get("LOANDESK_ALERT_WEBHOOK_URL") or None,
            smtp_host=env.get("LOANDESK_ALERT_SMTP_HOST") or None,
            smtp_port=int(port),
            smtp_starttls=(env.get("LOANDESK_ALERT_SMTP_STARTTLS") or "").lower()
            in ("1", "true", "yes"),
            smtp_user=env.get("LOANDESK_ALERT_SMTP_USER") or None,
            smtp_password=env.get("LOANDESK_ALERT_SMTP_PASSWORD") or None,
            mail_from=env.get("LOANDESK_ALERT_MAIL_FROM") or "loandesk@localhost",
            mail_to=tuple(
                a.strip() for a in (env.get("LOANDESK_ALERT_MAIL_TO") or "").split(",") if a.strip()
            ),
            day_end_late_after=_late_after(env.get("LOANDESK_DAY_END_LATE_AFTER")),
        )


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    kind: str
    job: str
    run_key: str
    raised_at: datetime
    message: str
    delivery: dict[str, Any]

    @classmethod
    def of(cls, row: OpsAlert) -> Alert:
        return cls(
            row.id,
            row.kind,
            row.job,
            row.run_key,
            row.raised_at,
            row.message,
            dict(row.delivery or {}),
        )

    def payload(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "job": self.job,
            "run_key": self.run_key,
            "raised_at": self.raised_at.astimezone(UTC).isoformat(),
            "message": self.message,
            "source": "loandesk",
        }


def _when(run_key: str) -> str:
    try:
        return f"{date.fromisoformat(run_key):%d-%m-%Y}"
    except ValueError:
        return run_key


def _send_webhook(url: str, alert: Alert) -> str:
    try:
        answer = httpx.post(url, json=alert.payload(), timeout=SEND_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return f"failed: {type(exc).__name__}"
    return "sent" if answer.is_success else f"failed: HTTP {answer.status_code}"


def _send_mail(channels: AlertChannels, alert: Alert) -> str:
    assert channels.smtp_host is not None
    if not channels.mail_to:
        return "failed: LOANDESK_ALERT_MAIL_TO names nobody"
    mail = EmailMessage()
    mail["Subject"] = f"LoanDesk: {alert.message.split('.')[0]}"
    mail["From"] = channels.mail_from
    mail["To"] = ", ".join(channels.mail_to)
    mail.set_content(
        f"{alert.message}\n\nRaised {alert.raised_at.astimezone(IST):%d-%m-%Y %H:%M} IST "
        f"({alert.kind}, {alert.job} {alert.run_key}).\n"
        "The job ledger: python main.py jobs status\n"
    )
    try:
        with smtplib.SMTP(channels.smtp_host, channels.smtp_port, timeout=SEND_TIMEOUT_S) as smtp:
            if channels.smtp_starttls:
                smtp.starttls()
            if channels.smtp_user and channels.smtp_password:
                smtp.login(channels.smtp_user, channels.smtp_password)
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as exc:
        return f"failed: {type(exc).__name__}"
    return "sent"


def deliver(alert: Alert, channels: AlertChannels) -> dict[str, str]:
    delivery: dict[str, str] = {}
    if channels.webhook_url:
        delivery["webhook"] = _send_webhook(channels.webhook_url, alert)
    if channels.smtp_host:
        delivery["email"] = _send_mail(channels, alert)
    return delivery


def raise_alert(
    db: Database,
    kind: str,
    job: str,
    run_key: str,
    message: str,
    channels: AlertChannels | None = None,
    *,
    now: datetime | None = None,
) -> Alert | None:
    """Stores the alert and sends it; None when it had already been raised (by this process
    or another), in which case nothing is sent again."""
    channels = channels or AlertChannels.from_env()
    try:
        with db.unit_of_work() as session:
            if session.execute(
                select(OpsAlert.id).where(
                    OpsAlert.kind == kind, OpsAlert.job == job, OpsAlert.run_key == run_key
                )
            ).first():
                return None
            row = OpsAlert(
                kind=kind,
                job=job,
                run_key=run_key,
                raised_at=now or utcnow(),
                message=message[:500],
                delivery={},
            )
            session.add(row)
            session.flush()
            alert = Alert.of(row)
    except IntegrityError:
        return None  # another process stored it first and sends it
    delivery = deliver(alert, channels)
    with db.unit_of_work() as session:
        stored = session.get(OpsAlert, alert.id)
        assert stored is not None
        stored.delivery = delivery
    log.warning(
        "alert raised",
        extra={"event": "alert", "kind": kind, "job": job, "run_key": run_key, **delivery},
    )
    return Alert(alert.id, kind, job, run_key, alert.raised_at, alert.message, delivery)


def job_failed(
    db: Database,
    job: str,
    run_key: str,
    error: BaseException,
    runner: str,
    channels: AlertChannels | None = None,
) -> Alert | None:
    """Only the error's kind goes into the message: its text may quote SQL parameters (a
    name, a phone). The full text is in the job ledger for the person who investigates."""
    what = JOB_WORDS.get(job, job)
    message = (
        f"The {what} for {_when(run_key)} failed on {runner} ({type(error).__name__}). "
        "Nothing after the failed step was written; the scheduler tries again each minute. "
        "The error is in the job ledger (python main.py jobs status)."
    )
    return raise_alert(db, JOB_FAILED, job, run_key, message, channels)


def ledger_differs(
    db: Database, run_key: str, loans: int, channels: AlertChannels | None = None
) -> Alert | None:
    """The day-end's weekly ledger check (sync_server.jobs.ledger_check) found `loans` loans
    whose stored figures differ from their schedules and payments: DPD, classes and the MIS
    read those figures, so someone has to look. The alert says how many and the command that
    lists them; the loans themselves are named only there (and in the job's log)."""
    what = "1 loan whose" if loans == 1 else f"{loans:,} loans whose"
    message = (
        f"The weekly ledger check at the day-end of {_when(run_key)} found {what} stored "
        "figures (principal outstanding, arrears, DPD or RBI class) differ from what their "
        "schedules and payments give. The list: "
        f"python main.py audit ledger --as-of {run_key}"
    )
    return raise_alert(db, LEDGER_DIFFERS, DAY_END, run_key, message, channels)


def check_late_day_end(
    db: Database, clock: Clock, channels: AlertChannels | None = None
) -> Alert | None:
    """Yesterday's day-end not done by the configured hour (IST) today: the branches would
    open on stale DPD and buckets."""
    channels = channels or AlertChannels.from_env()
    now = clock.now().astimezone(IST)
    if now.time() < channels.day_end_late_after:
        return None
    day = now.date() - timedelta(days=1)
    with db.read_only() as session:
        status = session.execute(
            select(JobRun.status).where(JobRun.job == DAY_END, JobRun.run_key == day.isoformat())
        ).scalar_one_or_none()
    if status == "done":
        return None
    message = (
        f"The day-end for {day:%d-%m-%Y} is late: not done by "
        f"{channels.day_end_late_after:%H:%M} IST (its ledger says: {status or 'not started'}). "
        "DPD and buckets on the desks are a day old until it finishes."
    )
    return raise_alert(db, JOB_LATE, DAY_END, day.isoformat(), message, channels, now=clock.now())


def recent_alerts(
    session: Session, *, now: datetime, days: int = 7, limit: int = 50
) -> list[Alert]:
    rows = session.execute(
        select(OpsAlert)
        .where(OpsAlert.raised_at >= now - timedelta(days=days))
        .order_by(OpsAlert.raised_at.desc(), OpsAlert.id.desc())
        .limit(limit)
    ).scalars()
    return [Alert.of(row) for row in rows]
