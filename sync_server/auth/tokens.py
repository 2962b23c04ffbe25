"""Access tokens (short-lived JWTs) and refresh tokens (opaque, stored only as a hash).

The access token is checked without a database lookup for its signature, so it is short-lived
(settings.access_token_minutes). The algorithm is pinned to HS256 on decode: a token that
names another algorithm, or "none", is refused rather than trusted. Refresh tokens are random
strings; the database holds only their SHA-256, so a leaked table cannot be replayed.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import jwt

from sync_server.config import Settings
from sync_server.db.models import User
from sync_server.errors import NotAuthenticated

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("sub", "role", "username", "iss", "aud", "iat", "exp", "jti")


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: uuid.UUID
    username: str
    role: str
    branch_id: int | None
    jti: str
    expires_at: int


def issue_access_token(settings: Settings, user: User, *, now: datetime) -> str:
    issued = int(now.timestamp())
    claims: dict[str, Any] = {
        "sub": str(user.id),
        "role": user.role,
        "branch": user.branch_id,
        "username": user.username,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": issued,
        "exp": issued + settings.access_token_minutes * 60,
        "jti": uuid.uuid4().hex,
    }
    return jwt.encode(claims, settings.jwt_secret, algorithm=ALGORITHM)


def decode_access_token(settings: Settings, token: str, *, now: datetime) -> AccessClaims:
    """The claims of a valid token, else NotAuthenticated saying what is wrong with it.

    Expiry is checked against `now` (the server's clock), not the library's wall clock, so a
    fixed test clock and the production clock are treated alike."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("The access token is malformed; sign in again") from exc
    if header.get("alg") != ALGORITHM:
        raise NotAuthenticated("The access token is not signed as this server signs tokens")
    try:
        raw = jwt.decode(
            token,
            settings.jwt_secret,
            algorithms=[ALGORITHM],
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": list(REQUIRED_CLAIMS), "verify_exp": False, "verify_iat": False},
        )
    except jwt.InvalidAudienceError as exc:
        raise NotAuthenticated("The access token was issued for another audience") from exc
    except jwt.InvalidIssuerError as exc:
        raise NotAuthenticated("The access token was issued by another server") from exc
    except jwt.InvalidSignatureError as exc:
        raise NotAuthenticated("The access token's signature is not valid") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise NotAuthenticated("The access token lacks required claims; sign in again") from exc
    except jwt.PyJWTError as exc:
        raise NotAuthenticated("The access token is not valid; sign in again") from exc
    if not isinstance(raw["exp"], int) or raw["exp"] <= int(now.timestamp()):
        raise NotAuthenticated("The access token has expired; refresh it or sign in again")
    try:
        user_id = uuid.UUID(str(raw["sub"]))
    except ValueError as exc:
        raise NotAuthenticated("The access token names no valid user") from exc
    branch = raw.get("branch")
    return AccessClaims(
        user_id=user_id,
        username=str(raw["username"]),
        role=str(raw["role"]),
        branch_id=branch if isinstance(branch, int) else None,
        jti=str(raw["jti"]),
        expires_at=raw["exp"],
    )


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def refresh_expiry(settings: Settings, now: datetime) -> datetime:
    return now + timedelta(days=settings.refresh_token_days)
