"""Every endpoint guarded by a permission, called by every role: the answer is 403 exactly
when the permission table says no, and each 403 leaves a 'denied' row in the audit log."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import func, select

from loancore.roles import Action, Role, can
from sync_server.db.models import AuditEntry
from tests.sync_server.conftest import Actors

PATH_VALUES = {"key": "payments_intake", "week": "2026-W48"}


def _actions_of(dependant: Any) -> tuple[Action, ...]:
    found: list[Action] = []
    for sub in dependant.dependencies:
        found.extend(getattr(sub.call, "actions", ()))
        found.extend(_actions_of(sub))
    return tuple(found)


def _api_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, through included routers."""
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):
            found.extend(
                _api_routes(route.original_router.routes, prefix + route.include_context.prefix)
            )
    return found


def _guarded_routes(app: FastAPI) -> list[tuple[str, str, tuple[Action, ...]]]:
    routes = []
    for full_path, route in _api_routes(list(app.routes)):
        actions = _actions_of(route.dependant)
        if not actions:
            continue
        path = re.sub(
            r"\{(\w+)\}", lambda m: PATH_VALUES.get(m.group(1), str(uuid.uuid4())), full_path
        )
        for method in sorted(route.methods):
            routes.append((method, path, actions))
    return routes


def _denied_count(app: FastAPI) -> int:
    with app.state.db.read_only() as session:
        return int(
            session.execute(
                select(func.count()).select_from(AuditEntry).where(AuditEntry.outcome == "denied")
            ).scalar_one()
        )


def test_every_guarded_endpoint_answers_every_role_as_the_table_says(
    app: FastAPI, http: httpx.Client, actors: Actors
) -> None:
    routes = _guarded_routes(app)
    assert len(routes) >= 20, "the walk must cover the API, not a corner of it"
    headers = {role: actors.headers(actors.user(role)) for role in Role}
    mismatches = []
    expected_denials = 0
    for method, path, actions in routes:
        for role in Role:
            allowed = any(can(role, action) for action in actions)
            before = _denied_count(app) if not allowed else 0
            response = http.request(method, path, headers=headers[role], json={})
            if allowed and response.status_code == 403:
                mismatches.append(f"{role} {method} {path}: 403 but the table allows it")
            if not allowed:
                expected_denials += 1
                if response.status_code != 403:
                    mismatches.append(f"{role} {method} {path}: {response.status_code}, not 403")
                elif _denied_count(app) != before + 1:
                    mismatches.append(f"{role} {method} {path}: 403 without its audit row")
    assert mismatches == []
    assert expected_denials > 0
