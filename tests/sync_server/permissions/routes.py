"""Every route of an app, through included routers, with the permission it declares.

FastAPI 0.165 keeps an included router whole, wrapped in an `_IncludedRouter`; its
`effective_candidates()` are the routes as served (full path, and the include-level
dependencies added to each route's own), and nested inclusions come back as further
`_IncludedRouter`s. A route of any other kind (a plain Starlette route, a mount, a websocket)
declares nothing the walk can read, so under the API prefix it must be listed as open or it
fails the check like an undeclared endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from loancore.roles import Action
from sync_server.app import API_PREFIX
from sync_server.auth.deps import OPEN_ENDPOINTS, OpenEndpoint

MAX_DEPTH = 16
"""Routers nest a level or two; a deeper walk means a cycle or a misunderstanding."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    method: str
    path: str
    actions: tuple[Action, ...]
    readable: bool
    """False for a route whose dependencies cannot be read (not a FastAPI API route)."""

    @property
    def key(self) -> tuple[str, str]:
        """(method, path under the API prefix): how OPEN_ENDPOINTS names a route."""
        return self.method, self.path.removeprefix(API_PREFIX)


def actions_of(dependant: Any, depth: int = 0) -> tuple[Action, ...]:
    if depth > MAX_DEPTH:
        raise AssertionError("dependencies nest deeper than any endpoint should")
    found: list[Action] = []
    for sub in dependant.dependencies:
        found.extend(getattr(sub.call, "actions", ()))
        found.extend(actions_of(sub, depth + 1))
    return tuple(found)


def _methods(route: Any) -> list[str]:
    return sorted(getattr(route, "methods", None) or {"*"})


def _endpoints(routes: Iterable[Any], depth: int) -> list[Endpoint]:
    if depth > MAX_DEPTH:
        raise AssertionError("routers nest deeper than any app should")
    found: list[Endpoint] = []
    for route in routes:
        if hasattr(route, "effective_candidates"):
            inner = [*route.effective_candidates(), *route.effective_low_priority_routes()]
            found.extend(_endpoints(inner, depth + 1))
            continue
        dependant = getattr(route, "dependant", None)
        readable = isinstance(route, APIRoute) or (
            dependant is not None and getattr(route, "starlette_route", None) is None
        )
        served = getattr(route, "starlette_route", None) or route
        actions = actions_of(dependant) if readable else ()
        for method in _methods(served):
            # The path as documented: `/payments/{payment_id}`, not the `{payment_id:uuid}`
            # the route is matched by.
            path = getattr(served, "path_format", None) or getattr(served, "path", "")
            found.append(Endpoint(method, path, actions, readable))
    return found


def endpoints(app: FastAPI) -> list[Endpoint]:
    return _endpoints(app.routes, 0)


def api_endpoints(app: FastAPI) -> list[Endpoint]:
    return [e for e in endpoints(app) if e.path.startswith(API_PREFIX + "/")]


def problems(
    app: FastAPI, open_endpoints: Mapping[tuple[str, str], OpenEndpoint] = OPEN_ENDPOINTS
) -> list[str]:
    """What breaks the rule that every API route declares its permission or is listed open."""
    found: list[str] = []
    served = set()
    for endpoint in api_endpoints(app):
        served.add(endpoint.key)
        listed = endpoint.key in open_endpoints
        if endpoint.actions and listed:
            found.append(f"{endpoint.method} {endpoint.path}: declares a permission and is open")
        elif not endpoint.actions and not listed:
            kind = "declares no permission" if endpoint.readable else "cannot declare one"
            found.append(f"{endpoint.method} {endpoint.path}: {kind} and is not listed as open")
    for method, path in open_endpoints:
        if (method, path) not in served:
            found.append(f"{method} {path}: listed as open but no such route")
    return found
