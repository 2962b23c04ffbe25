"""Kill switches. Each is checked where the work happens (the service or the job), so turning
one off stops the work however it is reached: API, sync push, scheduler or command line."""

from __future__ import annotations

from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from sync_server.audit import service as audit
from sync_server.db.models import FeatureFlag
from sync_server.db.types import utcnow
from sync_server.errors import FeatureDisabled, NotFound
from sync_server.principal import Principal

FLAGS = MappingProxyType(
    {
        "payments_intake": "Recording payments (API and sync)",
        "sync_push": "Devices pushing their queued work",
        "sync_pull": "Devices pulling changes",
        "job_day_end": "Day-end job: DPD, classification, charges, legal escalation, promises",
        "job_weekly_scores": "Weekly collector scoring",
        "job_backup": "Nightly encrypted backup of the database",
        "reconciliation": "Bank statement import and matching",
        "reports": "MIS reports",
        "loan_import": "Excel loan book import",
    }
)


def is_enabled(session: Session, key: str) -> bool:
    if key not in FLAGS:
        raise KeyError(key)
    enabled = session.execute(select(FeatureFlag.enabled).where(FeatureFlag.key == key)).scalar()
    return True if enabled is None else bool(enabled)


def require_enabled(session: Session, key: str) -> None:
    if not is_enabled(session, key):
        raise FeatureDisabled(
            f"{FLAGS[key]} is switched off by an administrator (kill switch '{key}')",
            code=f"{key}_disabled",
        )


def all_flags(session: Session) -> dict[str, bool]:
    stored = {
        key: enabled
        for key, enabled in session.execute(select(FeatureFlag.key, FeatureFlag.enabled)).all()
    }
    return {key: bool(stored.get(key, True)) for key in FLAGS}


def set_flag(session: Session, actor: Principal, key: str, enabled: bool) -> bool:
    """Returns the previous value. The change and its audit entry share one transaction."""
    if key not in FLAGS:
        raise NotFound(f"There is no kill switch named '{key}'")
    flag = session.get(FeatureFlag, key)
    before = True if flag is None else flag.enabled
    if flag is None:
        flag = FeatureFlag(key=key, enabled=enabled, description=FLAGS[key])
        session.add(flag)
    flag.enabled = enabled
    flag.updated_by = actor.user_id
    flag.updated_at = utcnow()
    audit.record(
        session,
        actor=actor,
        action="flag.set",
        entity="feature_flag",
        entity_id=key,
        before={"enabled": before},
        after={"enabled": enabled},
    )
    session.flush()
    return before
