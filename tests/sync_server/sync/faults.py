"""A requests transport that misbehaves on cue, for driving the sync engine through the
failures of a collector's phone line: requests lost on the way, replies lost after the server
committed, sends repeated, and stale batches arriving late (reordered)."""

from __future__ import annotations

from typing import Any

import requests
from requests.adapters import HTTPAdapter

FAULTS = ("ok", "drop_before", "drop_after", "duplicate", "replay_stale")


class FaultyAdapter(HTTPAdapter):
    def __init__(self) -> None:
        super().__init__(max_retries=0)
        self.plan: list[str] = []
        self.pushes: list[requests.PreparedRequest] = []
        self.seen: dict[str, int] = {}

    def send(
        self, request: requests.PreparedRequest, *args: Any, **kwargs: Any
    ) -> requests.Response:
        fault = self.plan.pop(0) if self.plan else "ok"
        self.seen[fault] = self.seen.get(fault, 0) + 1
        is_push = (request.path_url or "").endswith("/sync/push")
        if fault == "drop_before":
            raise requests.ConnectionError("request lost before reaching the server")
        if fault == "replay_stale" and self.pushes:
            stale = super().send(self.pushes[0].copy(), *args, **kwargs)
            stale.close()
        response = super().send(request, *args, **kwargs)
        if is_push:
            self.pushes.append(request.copy())
            del self.pushes[:-5]
        if fault == "duplicate":
            response.close()
            response = super().send(request.copy(), *args, **kwargs)
        if fault == "drop_after":
            _ = response.content
            raise requests.ConnectionError("reply lost after the server answered")
        return response


def faulty_session() -> tuple[requests.Session, FaultyAdapter]:
    adapter = FaultyAdapter()
    session = requests.Session()
    session.mount("http://", adapter)
    return session, adapter
