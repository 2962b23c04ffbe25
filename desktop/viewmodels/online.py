"""What the online-only screens (dashboard, audit log, collector performance, administration)
share: the API they talk to, how they read its answers, and the words for what went wrong.

These screens show the system of record as it is now, so they read the server and never the
cache: a manager must not act on a portfolio figure from last week's sync. When the server
cannot be reached they say so and offer to try again; a screen of figures keeps the last ones
it was given, marked with the time they were read, rather than going blank.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from desktop.failures import UnexpectedAnswer as UnexpectedAnswer
from desktop.failures import sentence
from desktop.sync.api import ApiError as ApiError
from desktop.sync.api import TransportError
from loancore.money import indian_grouping

BRANCHES_PATH = "/branches"
NEEDS_CONNECTION = (
    "This screen needs a connection to the server, which cannot be reached just now. "
    "Nothing was changed. Check the network and press Retry."
)


class Api(Protocol):
    """The one call the screens make: `desktop.sync.api.ApiClient.request`."""

    def request(self, method: str, path: str, **kwargs: Any) -> Any: ...


def is_offline(exc: BaseException) -> bool:
    """No connection, or no answer in time: the screen offers Retry. A server fault or a
    garbled answer is not "offline" and is said as what it is."""
    return isinstance(exc, TransportError) and exc.kind in ("unreachable", "timeout")


def message_for(exc: BaseException) -> str:
    """The line a screen shows for a failed call: `desktop.failures`' sentence, which keeps
    the server's own words for a refusal (they are written for the person who asked). The
    exception itself goes to the log."""
    if isinstance(exc, TransportError) and exc.kind == "unreachable":
        return NEEDS_CONNECTION
    if _worded_by_the_desk(exc):
        return str(exc)  # a view-model's own check, worded for the person ("The next hearing…")
    return sentence(exc, doing="an online screen's request")


def _worded_by_the_desk(exc: BaseException) -> bool:
    """A refusal a view-model raised with its sentence (EntryRefused, a plain ValueError),
    as opposed to an answer the desk could not read."""
    if isinstance(exc, UnexpectedAnswer) or not isinstance(exc, ValueError) or not str(exc):
        return False
    return type(exc) is ValueError or type(exc).__module__.startswith("desktop.viewmodels")


def mapping(data: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise UnexpectedAnswer(f"{what} is not an object")
    return data


def items(data: Any, what: str) -> list[Any]:
    if not isinstance(data, list):
        raise UnexpectedAnswer(f"{what} is not a list")
    return data


def whole(data: Mapping[str, Any], key: str) -> int:
    """An integer field; money is integer paise on the wire, so a float here is a fault."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise UnexpectedAnswer(f"'{key}' is not a whole number (got {value!r})")
    return value


def text(data: Mapping[str, Any], key: str, *, optional: bool = False) -> str:
    value = data.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise UnexpectedAnswer(f"'{key}' is not text (got {value!r})")
    return value


def iso_day(data: Mapping[str, Any], key: str) -> date:
    value = data.get(key)
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise UnexpectedAnswer(f"'{key}' is not a date (got {value!r})") from None


def grouped(n: int) -> str:
    """A count with Indian digit grouping: 1,20,000."""
    return indian_grouping(n)


@dataclass(frozen=True, slots=True)
class Branch:
    id: int
    code: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.code} — {self.name}"


def parse_branches(data: Any) -> tuple[Branch, ...]:
    found = []
    for item in items(data, "the branches"):
        row = mapping(item, "a branch")
        found.append(Branch(whole(row, "id"), text(row, "code"), text(row, "name")))
    return tuple(sorted(found, key=lambda b: b.code))
