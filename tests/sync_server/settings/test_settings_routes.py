"""The lender's settings over HTTP: everyone signed in reads them, an admin changes them (each
change audited with its old and new value), a bad value changes nothing, and the server's own
rules obey the values in force."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import func, select

from loancore.settings import DEFAULTS, SETTINGS_INFO
from sync_server.db.models import AuditEntry, Charge, SettingChange
from sync_server.principal import SYSTEM
from sync_server.settings.service import change_settings, settings_on
from sync_server.sync.routes import PROTOCOL_HEADER
from tests.sync_server.payments.helpers import Desk, ledger_counts

URL = "/api/v1/settings"


def _put(desk: Desk, changes: dict[str, object], by: uuid.UUID | None = None) -> httpx.Response:
    return desk.http.put(URL, json={"changes": changes}, headers=desk.headers(by or desk.admin))


def _stored(desk: Desk) -> tuple[int, int]:
    with desk.db.read_only() as session:
        changes = session.execute(select(func.count()).select_from(SettingChange)).scalar_one()
        audited = session.execute(
            select(func.count()).where(AuditEntry.action == "settings.change")
        ).scalar_one()
    return int(changes), int(audited)


def test_a_collector_reads_every_setting_with_its_default_and_bounds(desk: Desk) -> None:
    answer = desk.http.get(URL, headers=desk.headers(desk.collector))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["values"] == DEFAULTS.model_dump(mode="json")
    listed = {item["key"]: item for item in body["settings"]}
    assert list(listed) == [info.key for info in SETTINGS_INFO]
    assert listed["cash_limit_paise"]["value"] == 2_00_000_00
    assert listed["cash_limit_paise"]["maximum"] == 2_00_000_00
    assert listed["npa_dpd"]["minimum"] == 30
    assert listed["npa_dpd"]["changed_by"] is None


def test_a_lower_cash_limit_refuses_cash_the_server_accepted_before_and_is_audited(
    desk: Desk,
) -> None:
    assert desk.pay(1_20_000_00, mode="cash").status_code == 201
    answer = _put(desk, {"cash_limit_paise": 1_50_000_00, "late_charge_paise": 400_00})
    assert answer.status_code == 200, answer.text
    assert answer.json()["changed"] == ["cash_limit_paise", "late_charge_paise"]
    before = ledger_counts(desk.db)
    refused = desk.pay(30_000_00, mode="cash")
    assert refused.status_code == 422, refused.text
    assert "₹1,50,000.00" in refused.json()["detail"]
    assert ledger_counts(desk.db) == before
    with desk.db.read_only() as session:
        entry = session.execute(
            select(AuditEntry).where(AuditEntry.action == "settings.change")
        ).scalar_one()
        assert entry.actor_id == desk.admin
        assert json.loads(entry.before or "") == {
            "cash_limit_paise": 2_00_000_00,
            "late_charge_paise": 500_00,
        }
        assert json.loads(entry.after or "") == {
            "cash_limit_paise": 1_50_000_00,
            "late_charge_paise": 400_00,
        }
    read = desk.http.get(URL, headers=desk.headers(desk.collector)).json()
    listed = {item["key"]: item for item in read["settings"]}
    assert listed["cash_limit_paise"]["value"] == 1_50_000_00
    assert listed["cash_limit_paise"]["changed_by"] == "root-admin"
    assert listed["cash_limit_paise"]["effective_from"] == desk.clock.business_date().isoformat()


def test_a_value_out_of_bounds_gets_a_clear_422_and_changes_nothing(desk: Desk) -> None:
    answer = _put(desk, {"late_charge_paise": 300_00, "npa_dpd": 120})
    assert answer.status_code == 422
    body = answer.json()
    assert body["error"] == "setting_refused"
    assert "NPA above DPD (npa_dpd)" in body["detail"]
    assert _stored(desk) == (0, 0)
    assert desk.http.get(URL, headers=desk.headers(desk.admin)).json()["values"] == (
        DEFAULTS.model_dump(mode="json")
    )


def test_settings_that_contradict_each_other_are_refused_whole(desk: Desk) -> None:
    answer = _put(desk, {"collector_backdate_days": 10, "manager_backdate_days": 5})
    assert answer.status_code == 422
    assert "backdating" in answer.json()["detail"]
    assert _put(desk, {"no_such_setting": 1}).status_code == 422
    assert _put(desk, {"cash_limit_paise": "1000"}).status_code == 422
    assert _stored(desk) == (0, 0)


def test_only_an_admin_changes_settings(desk: Desk) -> None:
    answer = _put(desk, {"cash_limit_paise": 1_00_000_00}, by=desk.manager)
    assert answer.status_code == 403
    assert _stored(desk) == (0, 0)


def test_a_value_equal_to_the_one_in_force_writes_nothing(desk: Desk) -> None:
    answer = _put(desk, {"npa_dpd": 90})
    assert answer.status_code == 200
    assert answer.json()["changed"] == []
    assert _stored(desk) == (0, 0)


def test_a_change_is_in_force_from_its_business_date_and_earlier_nights_keep_theirs(
    desk: Desk,
) -> None:
    today = desk.clock.business_date()
    with desk.db.unit_of_work() as session:
        assert settings_on(session, today).npa_dpd == 90  # cached in this unit of work...
        change_settings(session, SYSTEM, {"npa_dpd": 60, "legal_escalation_dpd": 60}, today)
        assert settings_on(session, today).npa_dpd == 60  # ...and dropped on the change
    with desk.db.unit_of_work() as session:
        change_settings(session, SYSTEM, {"npa_dpd": 75}, today + timedelta(days=3))
    with desk.db.read_only() as session:
        assert settings_on(session, today - timedelta(days=1)).npa_dpd == 90
        assert settings_on(session, today).delinquency.npa_dpd == 60
        assert settings_on(session, today + timedelta(days=2)).npa_dpd == 60
        assert settings_on(session, today + timedelta(days=3)).npa_dpd == 75
        assert settings_on(session, today + timedelta(days=3)).legal_escalation_dpd == 60


def test_the_bounce_charge_levied_is_the_setting_in_force(desk: Desk) -> None:
    """A reversal of a bounced cheque levies the bounce charge the admin set, not ₹590."""
    assert _put(desk, {"bounce_charge_paise": 750_00}).status_code == 200
    paid = desk.pay(10_000_00, mode="cheque")
    assert paid.status_code == 201, paid.text
    payment_id = paid.json()["id"]
    asked = desk.http.post(
        f"/api/v1/payments/{payment_id}/reversals",
        json={"kind": "bounce", "reason": "cheque returned unpaid"},
        headers=desk.headers(desk.manager),
    )
    assert asked.status_code == 201, asked.text
    decided = desk.http.post(
        f"/api/v1/reversals/{asked.json()['id']}/decision",
        json={"approve": True},
        headers=desk.headers(desk.second_manager),
    )
    assert decided.status_code == 200, decided.text
    with desk.db.read_only() as session:
        charge = session.execute(select(Charge).where(Charge.reason == "bounce")).scalar_one()
        assert charge.amount_paise == 750_00


def test_a_pull_carries_the_settings_in_force_to_a_desk_that_speaks_them(desk: Desk) -> None:
    assert _put(desk, {"collector_backdate_days": 1}).status_code == 200
    headers = desk.headers(desk.collector)
    current = desk.http.get(
        "/api/v1/sync/pull", params={"cursor": 0}, headers={**headers, PROTOCOL_HEADER: "2"}
    ).json()
    assert current["settings"]["collector_backdate_days"] == 1
    assert current["settings"]["cash_limit_paise"] == 2_00_000_00
    older = desk.http.get(
        "/api/v1/sync/pull", params={"cursor": 0}, headers={**headers, PROTOCOL_HEADER: "1"}
    ).json()
    assert "settings" not in older
    assert older["business_date"] == current["business_date"]


def test_a_hand_edited_value_out_of_bounds_is_reported_not_used(desk: Desk) -> None:
    """Only a change made around the service can store a bad value; the rules never run on it."""
    with desk.db.unit_of_work() as session:
        session.add(
            SettingChange(
                key="npa_dpd", value=500, effective_from=desk.clock.business_date(), set_by=None
            )
        )
    answer = desk.http.get(URL, headers=desk.headers(desk.admin))
    assert answer.status_code == 500
    assert answer.json()["error"] == "settings_invalid"
    assert "npa_dpd" in answer.json()["detail"]
    refused = desk.pay(1_000_00)
    assert refused.status_code == 500
    assert ledger_counts(desk.db)["payments"] == 0
