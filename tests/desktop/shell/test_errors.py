"""Every error reads the same way to a person, and a bug keeps its details for support."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from desktop.auth import OfflineTooLong
from desktop.errors import friendly, show_error
from desktop.qt import QMessageBox, QWidget
from desktop.sync.api import ApiError, NotSignedInError, ServerBusyError, TransportError
from loancore.money import InvalidAmount, parse_amount


def test_a_lost_connection_says_the_work_is_kept() -> None:
    message = friendly(TransportError("ConnectionError: refused"))
    assert "Cannot reach the office server" in message.text
    assert "kept on this computer" in message.text
    assert "ConnectionError" not in message.text


def test_a_server_refusal_shows_the_servers_own_words() -> None:
    exc = ApiError(422, "duplicate_reference", "UTR N123 was already used by payment P-7")
    assert friendly(exc).text == "UTR N123 was already used by payment P-7"


def test_a_busy_server_says_nothing_was_changed() -> None:
    assert (
        "Nothing was changed" in friendly(ServerBusyError(503, "off", "Payments are paused")).text
    )


def test_an_ended_session_asks_to_sign_in_again() -> None:
    assert "Sign in again" in friendly(NotSignedInError(401, "expired", "token expired")).text


def test_a_sign_in_refusal_is_shown_as_written() -> None:
    assert friendly(OfflineTooLong("Offline sign-in lasts 7 days")).text == (
        "Offline sign-in lasts 7 days"
    )


def test_a_bad_amount_shows_loancores_message() -> None:
    with pytest.raises(InvalidAmount) as refused:
        parse_amount("12.345")
    assert friendly(refused.value).text == str(refused.value)


def test_an_unexpected_error_is_shown_with_its_details_and_no_trace_in_the_text(
    qtbot: QtBot,
) -> None:
    parent = QWidget()
    qtbot.add_widget(parent)
    parent.show()
    try:
        raise KeyError("loan_id")
    except KeyError as exc:
        box = show_error(parent, exc)
    assert box.icon() == QMessageBox.Icon.Critical
    assert "Traceback" not in box.text()
    assert "KeyError" in box.detailedText()
    assert box.isVisible()
    box.close()
