"""The sentence for every failure a person can meet, in the lender's words, and nothing else.

One place decides what a lost connection, a timeout, a busy or broken server, an ended
sign-in, a refusal or a bug reads like, so the same problem always reads the same way on the
error box, a screen's message line, the offline page, Home and the status bar. The exception
itself (its class, its repr, a URL, a stack) goes to the log: a collector cannot act on
"ConnectionError: HTTPConnectionPool(...)", and it frightens people into re-entering payments.

No Qt here: the sync engine, which runs without a window, words its failures with it too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import requests

from desktop.auth import SignInError
from desktop.settings import SettingsError
from desktop.sync.api import (
    ApiError,
    NotSignedInError,
    ServerBusyError,
    TransportError,
    UpgradeNeededError,
)
from loancore.dates import IST, InvalidDate, format_date
from loancore.money import InvalidAmount

log = logging.getLogger("loandesk.desktop")

UNREACHABLE = "Cannot reach the office server."
KEPT = "Anything you entered is kept on this computer and sent when the connection is back."
NOTHING_CHANGED = "Nothing was changed."


class UnexpectedAnswer(ValueError):
    """The server answered with a shape this client does not know: a version mismatch or a
    bug, never something the person at the desk caused or can fix by retyping."""


@dataclass(frozen=True, slots=True)
class Failure:
    title: str
    text: str
    expected: bool = True
    """False for a bug: the error box then offers the technical details, which are logged."""


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?" else f"{text}."


def _transport(exc: TransportError) -> Failure:
    if exc.kind == "timeout":
        return Failure(
            "No answer",
            "The office server did not answer in time. It may still have done what was "
            f"asked; {KEPT.lower()} Try again in a minute.",
        )
    if exc.kind == "server_fault":
        return Failure(
            "Server problem",
            "The office server met a problem of its own and could not finish. "
            f"{NOTHING_CHANGED} Try again in a few minutes; if it keeps happening, tell the "
            "office.",
        )
    if exc.kind == "cut_short":
        return Failure(
            "Answer lost",
            f"The office server's answer was cut short on the way. {KEPT} Try again.",
        )
    return Failure("Offline", f"{UNREACHABLE} {KEPT}")


def _refusal(exc: ApiError) -> Failure:
    detail = exc.detail.strip()  # the server's words, as it wrote them
    match exc:
        case NotSignedInError():
            return Failure(
                "Signed out",
                "Your sign-in has expired. Sign in again to continue; nothing you entered is lost.",
            )
        case UpgradeNeededError() if detail:
            # The server says which side is behind (an old desk, or a server not yet
            # upgraded for a newer desk) and that the queued work is kept.
            return Failure("Update needed", _sentence(detail))
        case UpgradeNeededError():
            return Failure(
                "Update needed",
                "This copy of LoanDesk is older than the office server accepts. Install the "
                "new version; nothing you entered is lost.",
            )
        case ServerBusyError() if exc.code.endswith("_disabled"):
            return Failure(
                "Switched off",
                f"{_sentence(detail)} {NOTHING_CHANGED} Try again once it is back on.",
            )
        case ServerBusyError():
            return Failure(
                "Server busy",
                f"The office server is busy just now. {NOTHING_CHANGED} Try again in a minute.",
            )
    if exc.status == 403:
        return Failure("Not allowed", detail or f"Your role does not allow this. {NOTHING_CHANGED}")
    if exc.status == 404:
        return Failure(
            "Not found",
            detail
            or f"The office server has no such record (it may have been removed). "
            f"{NOTHING_CHANGED}",
        )
    if exc.status == 409:
        return Failure(
            "Conflict",
            detail or f"This clashes with what is already recorded. {NOTHING_CHANGED}",
        )
    return Failure("Not done", detail or f"The office server refused this. {NOTHING_CHANGED}")


def describe(exc: BaseException) -> Failure:
    """The title and sentence for `exc`. The server's own refusals (403, 409, 422 ...) keep
    its words: they are written for the person who asked."""
    match exc:
        case SignInError():
            return Failure("Sign-in", exc.message)
        case ApiError():
            return _refusal(exc)
        case TransportError():
            return _transport(exc)
        case UnexpectedAnswer():
            return Failure(
                "Answer not understood",
                "The office server's answer could not be read: this copy of LoanDesk may "
                f"need an update. {NOTHING_CHANGED}",
            )
        case InvalidAmount() | InvalidDate():
            return Failure("Check the entry", str(exc))
        case SettingsError():
            return Failure("Settings", str(exc))
        case PermissionError() | FileNotFoundError():
            name = getattr(exc, "filename", "") or ""
            return Failure(
                "File problem",
                f"LoanDesk could not use the file {name}: {exc.strerror or 'not allowed'}."
                if name
                else "LoanDesk could not use a file it needs. Check the folder's permissions.",
            )
        case requests.RequestException():  # one that did not come through the ApiClient
            return _transport(TransportError(str(exc)))
        case OSError():
            return Failure(
                "Computer problem",
                "LoanDesk could not write on this computer (the disk may be full); what you "
                "entered so far is kept. Free some space or tell support.",
            )
        case _:
            return Failure(
                "Something went wrong",
                "LoanDesk met a problem it did not expect; nothing more was done. "
                "If it happens again, send the details to support.",
                expected=False,
            )


def sentence(exc: BaseException, *, doing: str = "") -> str:
    """The sentence alone, with the details logged once (`doing` says what was being done)."""
    failure = describe(exc)
    (log.info if failure.expected else log.error)(
        "%s failed: %s", doing or "a request", _detail(exc)
    )
    return failure.text


def _detail(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def at(instant: datetime, now: datetime) -> str:
    """HH:MM for today (IST), DD-MM-YYYY HH:MM for an earlier day."""
    local = instant.astimezone(IST)
    if local.date() == now.astimezone(IST).date():
        return f"{local:%H:%M}"
    return f"{local:%H:%M} on {format_date(local.date())}"


def offline_since(last_synced: datetime | None, now: datetime) -> str:
    """What Home and the status bar say while the office server is away: where the figures
    shown come from."""
    if last_synced is None:
        return f"{UNREACHABLE} Nothing has been synced to this computer yet."
    return f"{UNREACHABLE} Showing what was last synced at {at(last_synced, now)}."
