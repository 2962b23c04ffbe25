"""An API object that answers from a script, for view-models tested without a server: it
records every request (method, path, params, body) and answers or raises what it was given."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Asked:
    method: str
    path: str
    params: dict[str, Any] | None
    json: Any


class ScriptedApi:
    def __init__(self, answers: dict[tuple[str, str], Any]) -> None:
        self.answers = answers
        self.asked: list[Asked] = []

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        self.asked.append(Asked(method, path, kwargs.get("params"), kwargs.get("json")))
        answer = self.answers[(method, path)]
        if isinstance(answer, Exception):
            raise answer
        return answer
