"""Kill switches for an administrator: which work is on or off, and the typed confirmation the
server asks for before flipping one.

The server refuses a change unless `confirm` repeats the switch's key exactly
(sync_server/flags: `confirmation_required`), so that a stray click or a replayed request for
another switch flips nothing. The dialog asks for the same text, and sends what was typed,
so the server stays the judge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from desktop.viewmodels.online import Api, UnexpectedAnswer, items, mapping, text

PATH = "/flags"
COLUMNS = ("Switch", "What it controls", "State")


@dataclass(frozen=True, slots=True)
class Flag:
    key: str
    enabled: bool
    description: str

    @property
    def state(self) -> str:
        return "On" if self.enabled else "OFF: this work is stopped"

    @property
    def row(self) -> tuple[str, ...]:
        return (self.key, self.description, self.state)

    @property
    def action_text(self) -> str:
        return "Turn off…" if self.enabled else "Turn on…"

    @property
    def confirm_prompt(self) -> str:
        verb = "off" if self.enabled else "back on"
        effect = (
            "Work it controls stops at once, for everyone, until it is turned back on."
            if self.enabled
            else "Work it controls starts again at once."
        )
        return (
            f"Turn {verb} “{self.description}”? {effect}\n\n"
            f"To confirm, type the switch's key exactly: {self.key}"
        )

    def confirmed_by(self, typed: str) -> bool:
        """Exactly the key, as the server checks it: no trimming, no case folding."""
        return typed == self.key


def parse_flag(data: Any) -> Flag:
    row = mapping(data, "a kill switch")
    enabled = row.get("enabled")
    if not isinstance(enabled, bool):
        raise UnexpectedAnswer("'enabled' is not on or off")
    return Flag(key=text(row, "key"), enabled=enabled, description=text(row, "description"))


def parse_flags(data: Any) -> tuple[Flag, ...]:
    return tuple(parse_flag(f) for f in items(data, "the kill switches"))


def change_body(flag: Flag, typed: str) -> dict[str, Any]:
    """The PUT body that flips `flag`: the opposite state and the confirmation as typed."""
    return {"enabled": not flag.enabled, "confirm": typed}


class AdminFlagsViewModel:
    def __init__(self, api: Api) -> None:
        self._api = api

    def load(self) -> tuple[Flag, ...]:
        return parse_flags(self._api.request("GET", PATH))

    def flip(self, flag: Flag, typed: str) -> Flag:
        """Sends the change; raises ApiError with the server's message when it refuses."""
        answer = self._api.request("PUT", f"{PATH}/{flag.key}", json=change_body(flag, typed))
        return parse_flag(answer)
