"""The desktop's settings file: where it lives, what survives a restart, what a damaged one
does."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import platformdirs
import pytest

from desktop.settings import (
    ClientSettings,
    LenderDetails,
    OfflineCredential,
    SettingsError,
    data_dir,
)


def test_the_settings_live_in_the_data_folder_the_environment_names(tmp_path: Path) -> None:
    assert data_dir() == tmp_path / "data" / "desktop"
    assert ClientSettings.load().path == tmp_path / "data" / "desktop" / "settings.json"


def test_the_device_id_is_minted_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    first = ClientSettings.load(path)
    again = ClientSettings.load(path)
    assert first.device_id.startswith("dev-")
    assert again.device_id == first.device_id
    assert ClientSettings.load(tmp_path / "other.json").device_id != first.device_id


def test_what_is_saved_comes_back_the_same(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    settings = ClientSettings.load(path)
    settings.server_url = "https://loandesk.example.in"
    settings.last_username = "ravi"
    settings.sync_minutes = 10
    verified = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    settings.credentials["ravi"] = OfflineCredential(
        "ravi", "https://loandesk.example.in", "$argon2id$...", verified, {"id": "u1"}
    )
    settings.save()

    loaded = ClientSettings.load(path)
    assert loaded == settings
    assert list(path.parent.iterdir()) == [path]


def test_a_damaged_settings_file_is_reported_not_silently_replaced(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SettingsError, match="damaged"):
        ClientSettings.load(path)
    assert path.read_text(encoding="utf-8") == "{not json"


def test_an_offline_record_without_a_time_zone_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    record = {"username": "ravi", "server_url": "x", "verifier": "v", "user": {}}
    record["verified_at"] = "2026-11-27T10:00:00"
    path.write_text(json.dumps({"device_id": "dev-1", "credentials": {"ravi": record}}))
    with pytest.raises(SettingsError, match="time zone"):
        ClientSettings.load(path)


def test_each_user_has_a_cache_file_of_their_own(tmp_path: Path) -> None:
    settings = ClientSettings.load(tmp_path / "settings.json")
    assert settings.cache_path("a") != settings.cache_path("b")
    assert settings.cache_path("a").parent == tmp_path / "cache"


def test_the_lenders_name_and_registration_for_receipts_are_read_from_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "settings.json"
    fresh = ClientSettings.load(path)
    assert fresh.lender == LenderDetails()
    data = json.loads(path.read_text(encoding="utf-8"))
    data["lender"] = {
        "name": "Sahyadri Micro Finance Ltd",
        "registration": ["CIN U65929MH2010PLC123456", "  ", "RBI registration N-13.02145"],
    }
    path.write_text(json.dumps(data), encoding="utf-8")
    loaded = ClientSettings.load(path)
    assert loaded.lender == LenderDetails(
        "Sahyadri Micro Finance Ltd",
        ("CIN U65929MH2010PLC123456", "RBI registration N-13.02145"),
    )
    loaded.save()
    assert ClientSettings.load(path).lender == loaded.lender
    data["lender"] = {"name": "One Line Finance", "registration": "NBFC-MFI N-14.03268"}
    path.write_text(json.dumps(data), encoding="utf-8")
    assert ClientSettings.load(path).lender.registration == ("NBFC-MFI N-14.03268",)


def test_an_empty_data_folder_variable_means_the_users_own_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LOANDESK_DATA_DIR", "")
    assert data_dir() == Path(platformdirs.user_data_dir("LoanDesk", "LoanDesk"))
