"""Access tokens: what is signed into them and every way a forged or stale one is refused."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from sync_server.auth import tokens
from sync_server.config import Settings
from sync_server.db.models import User
from sync_server.errors import NotAuthenticated

NOW = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
SETTINGS = Settings(database_url="sqlite://", jwt_secret="k" * 48)


def _user() -> User:
    return User(
        id=uuid.uuid4(),
        username="asha",
        full_name="Asha K",
        role="collector",
        branch_id=3,
        password_hash="x",
        active=True,
    )


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_fresh_token_decodes_to_the_user_it_was_issued_for() -> None:
    user = _user()
    claims = tokens.decode_access_token(
        SETTINGS, tokens.issue_access_token(SETTINGS, user, now=NOW), now=NOW
    )
    assert claims.user_id == user.id
    assert (claims.username, claims.role, claims.branch_id) == ("asha", "collector", 3)
    assert claims.expires_at == int(NOW.timestamp()) + 15 * 60


def test_every_token_gets_its_own_id() -> None:
    first = tokens.decode_access_token(
        SETTINGS, tokens.issue_access_token(SETTINGS, _user(), now=NOW), now=NOW
    )
    second = tokens.decode_access_token(
        SETTINGS, tokens.issue_access_token(SETTINGS, _user(), now=NOW), now=NOW
    )
    assert first.jti != second.jti


def test_an_expired_token_is_refused() -> None:
    token = tokens.issue_access_token(SETTINGS, _user(), now=NOW)
    with pytest.raises(NotAuthenticated, match="expired"):
        tokens.decode_access_token(SETTINGS, token, now=NOW + timedelta(minutes=15))


def test_a_token_with_algorithm_none_is_refused() -> None:
    real = jwt.decode(
        tokens.issue_access_token(SETTINGS, _user(), now=NOW),
        options={"verify_signature": False},
    )
    forged = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(real)}."
    with pytest.raises(NotAuthenticated, match="not signed as this server"):
        tokens.decode_access_token(SETTINGS, forged, now=NOW)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    other = Settings(database_url="sqlite://", jwt_secret="z" * 48)
    token = tokens.issue_access_token(other, _user(), now=NOW)
    with pytest.raises(NotAuthenticated, match="signature"):
        tokens.decode_access_token(SETTINGS, token, now=NOW)


def test_a_token_for_another_audience_is_refused() -> None:
    other = Settings(database_url="sqlite://", jwt_secret="k" * 48, jwt_audience="someone-else")
    token = tokens.issue_access_token(other, _user(), now=NOW)
    with pytest.raises(NotAuthenticated, match="audience"):
        tokens.decode_access_token(SETTINGS, token, now=NOW)


def test_a_token_from_another_issuer_is_refused() -> None:
    other = Settings(database_url="sqlite://", jwt_secret="k" * 48, jwt_issuer="elsewhere")
    token = tokens.issue_access_token(other, _user(), now=NOW)
    with pytest.raises(NotAuthenticated, match="another server"):
        tokens.decode_access_token(SETTINGS, token, now=NOW)


def test_a_token_missing_its_claims_is_refused() -> None:
    token = jwt.encode({"sub": str(uuid.uuid4())}, SETTINGS.jwt_secret, algorithm="HS256")
    with pytest.raises(NotAuthenticated, match="lacks required claims"):
        tokens.decode_access_token(SETTINGS, token, now=NOW)


def test_garbage_is_refused_as_malformed() -> None:
    with pytest.raises(NotAuthenticated, match="malformed"):
        tokens.decode_access_token(SETTINGS, "not.a.token", now=NOW)


def test_a_refresh_token_is_stored_only_as_its_sha256() -> None:
    raw = tokens.new_refresh_token()
    digest = tokens.hash_refresh_token(raw)
    assert len(raw) >= 43
    assert len(digest) == 64
    assert raw not in digest
    assert tokens.hash_refresh_token(raw) == digest
