"""Who is calling, and may they: the dependencies every protected endpoint declares.

The token proves identity, but the user's role, branch and standing are the database's say,
not the token's: a change made in this process (deactivating a user, a new role) takes effect
from the next request, one made by another process within two seconds (auth/principals.py),
rather than when the access token expires.

Every route under /api/v1 either declares its permission here (`require`, `require_any`: the
dependency carries `.actions`) or is named in `OPEN_ENDPOINTS` with the reason it needs no
permission. The permission walk (tests/sync_server/permissions) fails on a route that is
neither, so a check hidden inside a service cannot stand in for a declared one.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from loancore.roles import Action, Role, can
from sync_server.audit import service as audit
from sync_server.auth.principals import PrincipalCache, Standing
from sync_server.auth.tokens import decode_access_token
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import User
from sync_server.deps import ClockDep, DbDep, SettingsDep, client_address
from sync_server.errors import Forbidden, NotAuthenticated, TooManyRequests
from sync_server.principal import Principal
from sync_server.ratelimit import RateLimiter

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /auth/login")


def _standing(db: Database, settings: Settings, user_id: uuid.UUID) -> Standing | None:
    """The user's role, branch and name, or None when they no longer exist or are inactive.
    Its own short read, given back before the endpoint takes its own connection: a request
    never holds two read connections at once."""
    with db.read_only(
        statement_timeout_seconds=settings.capacity.read_statement_timeout_seconds
    ) as session:
        user = session.get(User, user_id)
        if user is None or not user.active:
            return None
        return Standing(username=user.username, role=user.role, branch_id=user.branch_id)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    settings: SettingsDep,
    clock: ClockDep,
    db: DbDep,
) -> Principal:
    """The caller, on the event loop: the token checked, the user's standing from the app's
    PrincipalCache (auth/principals.py says why that is safe), read in a worker thread only
    when it is not there; the user's rate limit likewise, from places already claimed."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("Sign in first: this request needs a bearer access token")
    claims = decode_access_token(settings, credentials.credentials, now=clock.now())
    cache: PrincipalCache = request.app.state.principals
    standing = cache.get(claims.user_id)
    if standing is None:
        generation = cache.generation
        standing = await anyio.to_thread.run_sync(_standing, db, settings, claims.user_id)
        if standing is None:
            raise NotAuthenticated("This account no longer exists or is deactivated")
        cache.remember(claims.user_id, standing, generation)
    principal = Principal(
        user_id=claims.user_id,
        username=standing.username,
        role=Role(standing.role),
        branch_id=standing.branch_id,
        address=client_address(request),
    )
    limiter: RateLimiter = request.app.state.user_limiter
    key = str(principal.user_id)
    allowed = limiter.allow_locally(key)
    if allowed is None:
        allowed = await anyio.to_thread.run_sync(limiter.allow, key)
    if not allowed:
        raise TooManyRequests("Too many requests from this account; slow down")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def _deny(request: Request, db: DbDep, principal: Principal, action: str) -> Forbidden:
    audit.record_attempt(
        db,
        actor=principal,
        action=action,
        entity="endpoint",
        entity_id=request.url.path[:64],
        outcome="denied",
        detail=f"{request.method} {request.url.path}",
    )
    return Forbidden(f"Your role ({principal.role.value}) may not do this")


async def _denied(request: Request, db: Database, principal: Principal, action: str) -> Forbidden:
    """The permission check itself is a lookup, answered on the event loop; only a refusal,
    which writes its audit row, goes to a worker thread."""
    return await anyio.to_thread.run_sync(functools.partial(_deny, request, db, principal, action))


def require(action: Action) -> Callable[..., Awaitable[Principal]]:
    """A dependency that lets the request through only when the role may do `action`;
    a refusal is audited (in its own transaction) before the 403 is returned."""

    async def dependency(request: Request, principal: CurrentPrincipal, db: DbDep) -> Principal:
        if not can(principal.role, action):
            raise await _denied(request, db, principal, action.value)
        return principal

    dependency.actions = (action,)  # type: ignore[attr-defined]  # read by the permission walk test
    return dependency


def require_any(*actions: Action) -> Callable[..., Awaitable[Principal]]:
    """For endpoints that several permissions open, e.g. a list both auditors and admins read."""
    if not actions:
        raise ValueError("require_any needs at least one action")

    async def dependency(request: Request, principal: CurrentPrincipal, db: DbDep) -> Principal:
        if not any(can(principal.role, action) for action in actions):
            raise await _denied(request, db, principal, "|".join(a.value for a in actions))
        return principal

    dependency.actions = actions  # type: ignore[attr-defined]  # read by the permission walk test
    return dependency


class Openness(StrEnum):
    PUBLIC = "public"
    """No access token: the caller is not signed in yet, or proves itself another way."""
    SELF_SERVICE = "self_service"
    """Any signed-in user, about their own account only."""
    SIGNED_IN = "signed_in"
    """Any signed-in user: state every role's client needs and that carries no book data."""


@dataclass(frozen=True, slots=True)
class OpenEndpoint:
    openness: Openness
    reason: str


OPEN_ENDPOINTS: Mapping[tuple[str, str], OpenEndpoint] = MappingProxyType(
    {
        ("GET", "/health"): OpenEndpoint(
            Openness.PUBLIC,
            "the load balancer's probe; it tells the protocol version and business date only",
        ),
        ("GET", "/healthz"): OpenEndpoint(
            Openness.PUBLIC, "liveness for the service manager; touches no data, says 'alive'"
        ),
        ("GET", "/readyz"): OpenEndpoint(
            Openness.PUBLIC,
            "readiness for the load balancer: database reachable, schema at head, yesterday's "
            "day-end done; it names no loan, person or amount",
        ),
        ("POST", "/auth/login"): OpenEndpoint(
            Openness.PUBLIC, "signing in is how a caller gets a token; rate-limited per address"
        ),
        ("POST", "/auth/refresh"): OpenEndpoint(
            Openness.PUBLIC, "the refresh token in the body is the credential"
        ),
        ("POST", "/auth/logout"): OpenEndpoint(
            Openness.PUBLIC,
            "revokes the refresh token in the body, which must work after the access token "
            "has expired",
        ),
        ("GET", "/auth/me"): OpenEndpoint(
            Openness.SELF_SERVICE, "a user reads their own account and role"
        ),
        ("POST", "/auth/password"): OpenEndpoint(
            Openness.SELF_SERVICE, "a user changes their own password, proving the current one"
        ),
        ("GET", "/flags"): OpenEndpoint(
            Openness.SIGNED_IN,
            "every role's client greys out work an administrator has switched off; the switch "
            "states carry no borrower or money data",
        ),
        ("GET", "/settings"): OpenEndpoint(
            Openness.SIGNED_IN,
            "every role's desk checks payments, promises and contacts by the lender's settings "
            "(limits, charges, hours); they name no loan, borrower or book figure",
        ),
    }
)
"""(method, path under /api/v1) -> why the route declares no permission. The only place such a
route is allowed; keep it short."""
