"""The server's `push_one_by_one` setting picks the path a push takes: runs of payments posted
together (the default) or every command in a transaction of its own (the way back, and the
baseline bench/bench_sync.py --one-by-one measures). Either gives the same answer."""

from __future__ import annotations

from typing import Any, NoReturn

import httpx
import pytest

from sync_server.config import Settings
from sync_server.sync import batch, service
from tests.sync_server.conftest import Actors
from tests.sync_server.sync.conftest import World, cash, command, push


@pytest.fixture(params=[False, True], ids=["batch", "one-by-one"])
def settings(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    return settings.model_copy(update={"push_one_by_one": request.param})


def test_the_setting_picks_the_path_and_the_answer_is_the_same(
    http: httpx.Client,
    actors: Actors,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def not_this_path(*_: Any, **__: Any) -> NoReturn:
        raise AssertionError("the push took the path the setting did not choose")

    if settings.push_one_by_one:
        monkeypatch.setattr(batch, "push", not_this_path)
    else:
        monkeypatch.setattr(service, "push_one_by_one", not_this_path)
    cmd = command("payment", cash(world.asha_loan))
    response = push(http, actors.headers(world.asha), [cmd, cmd])
    assert response.status_code == 200, response.text
    answers = response.json()["results"]
    assert [a["status"] for a in answers] == ["applied", "duplicate"]
    assert answers[0]["result"]["payment"]["id"] == cmd["id"]
