"""Auth under attack, over real HTTP: every forged, stale or replayed credential is refused;
password guessing is capped per account per hour across server processes and the real user
still gets in after the attacker stops; the password hash is argon2id at no less than
OWASP's floor (19 MiB, two passes); and a command id replayed by another user learns nothing
of the first user's result beyond "duplicate"."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from typing import Any

import argon2
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from sqlalchemy import func, select

from loancore.roles import Role
from sync_server.app import create_app
from sync_server.auth import passwords
from sync_server.auth.tokens import issue_access_token
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import AuditEntry, User
from tests.live import serve
from tests.sync_server.auth.conftest import bearer, sign_in
from tests.sync_server.conftest import Actors
from tests.sync_server.hardening.state import LONG, figure
from tests.sync_server.sync.conftest import World, cash, command, push

GUARDED = "/api/v1/auth/me"
ATTEMPTS = 1_000 if LONG else 260


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _hmac_signed(claims: dict[str, Any], key: bytes, alg: str = "HS256") -> str:
    """Signed by hand: PyJWT refuses a PEM key as an HMAC secret (and warns of a short key for
    HS512); an attacker does neither."""
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    signing_input = f"{_b64({'alg': alg, 'typ': 'JWT'})}.{_b64(claims)}"
    mac = hmac.new(key, signing_input.encode(), digest).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


def _claims(app: FastAPI, user_id: uuid.UUID) -> dict[str, Any]:
    with app.state.db.read_only() as session:
        user = session.get(User, user_id)
        assert user is not None
        token = issue_access_token(app.state.settings, user, now=app.state.clock.now())
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _forgeries(app: FastAPI, user_id: uuid.UUID) -> dict[str, str]:
    """Every way to forge or misuse an access token that the issue names, each built from a
    real token's claims so only the one flaw differs."""
    secret = app.state.settings.jwt_secret
    real = _claims(app, user_id)
    admin = {**real, "role": "admin"}
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    genuine = jwt.encode(real, secret, algorithm="HS256")
    head, _body, signature = genuine.split(".")
    now = int(app.state.clock.now().timestamp())
    return {
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(admin)}.",
        "alg None, signature kept": f"{_b64({'alg': 'None', 'typ': 'JWT'})}.{_b64(admin)}.{signature}",
        "RS256 with the attacker's key": jwt.encode(admin, key, algorithm="RS256"),
        # The classic confusion: an RSA public key used as an HMAC secret.
        "HS256 keyed with a public key": _hmac_signed(admin, public_pem),
        "HS512 with the real secret": _hmac_signed(admin, secret.encode(), "HS512"),
        "HS384 with the real secret": _hmac_signed(admin, secret.encode(), "HS384"),
        "wrong audience": jwt.encode({**real, "aud": "other-clients"}, secret, algorithm="HS256"),
        "wrong issuer": jwt.encode({**real, "iss": "other-server"}, secret, algorithm="HS256"),
        "expired": jwt.encode({**real, "exp": now - 1}, secret, algorithm="HS256"),
        "tampered role, signature kept": f"{head}.{_b64(admin)}.{signature}",
        "tampered subject, signature kept": f"{head}.{_b64({**real, 'sub': str(uuid.uuid4())})}"
        f".{signature}",
        "signature stripped": f"{head}.{_b64(real)}.",
        "another user's id signed with a guessed secret": _hmac_signed(
            {**real, "sub": str(uuid.uuid4())}, b"secret"
        ),
    }


def test_no_forged_stale_or_replayed_credential_is_accepted(
    app: FastAPI, http: httpx.Client, actors: Actors
) -> None:
    asha = actors.user(Role.COLLECTOR, username="asha")
    attempts = {
        name: http.get(GUARDED, headers=bearer(token)).status_code
        for name, token in _forgeries(app, asha).items()
    }
    first = sign_in(http, "asha").json()["refresh_token"]
    rotated = http.post("/api/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    attempts["refresh token used twice"] = http.post(
        "/api/v1/auth/refresh", json={"refresh_token": first}
    ).status_code
    attempts["refresh token of the family after its reuse"] = http.post(
        "/api/v1/auth/refresh", json={"refresh_token": rotated.json()["refresh_token"]}
    ).status_code
    accepted = {name: status for name, status in attempts.items() if status < 400}
    figure(f"forged or replayed credentials accepted: {len(accepted)}/{len(attempts)}")
    assert accepted == {}
    assert set(attempts.values()) == {401}
    assert http.get(GUARDED, headers=actors.headers(asha)).status_code == 200


def _botnet_settings(database_url: str) -> Settings:
    """Guessing from many addresses behind the lender's proxy, so the per-address throttle
    never bites, and with no lockout: the hourly cap per account is what is left to stop it."""
    return Settings(
        database_url=database_url,
        jwt_secret="b" * 48,
        run_scheduler=False,
        trusted_proxies=("127.0.0.1",),
        login_max_failures=1_000_000,
        requests_per_address_per_minute=1_000_000,
        requests_per_user_per_minute=1_000_000,
    )


def test_guessing_from_many_addresses_on_two_servers_is_capped_at_100_an_hour(
    database_url: str, db: Database, clock: FixedClock
) -> None:
    settings = _botnet_settings(database_url)
    apps = [create_app(settings=settings, db=db, clock=clock) for _ in range(2)]
    Actors(apps[0]).user(Role.COLLECTOR, username="asha")
    checked = 0
    answers: dict[str, int] = {}
    with serve(apps[0]) as one, serve(apps[1]) as two:
        clients = [httpx.Client(base_url=url, timeout=30) for url in (one, two)]
        try:
            for n in range(ATTEMPTS):
                clock.advance(timedelta(seconds=3600 * 0.9 / ATTEMPTS))  # all inside an hour
                response = clients[n % 2].post(
                    "/api/v1/auth/login",
                    json={"username": "asha", "password": f"guess-number-{n:05d}"},
                    headers={"X-Forwarded-For": f"198.51.{n // 250}.{n % 250 + 1}"},
                )
                code = response.json()["error"]
                answers[code] = answers.get(code, 0) + 1
                checked += code == "invalid_credentials"
            clock.advance(timedelta(hours=1))
            back = sign_in(clients[n % 2], "asha")
        finally:
            for client in clients:
                client.close()
    figure(
        f"brute force: {checked} guesses checked of {ATTEMPTS} sent from {ATTEMPTS} addresses "
        f"through 2 servers in an hour (cap 100); the real user signs in after: "
        f"{back.status_code == 200}"
    )
    assert checked <= 100
    assert answers.get("too_many_requests", 0) + checked == ATTEMPTS, answers
    assert back.status_code == 200


def test_with_the_default_lockout_the_real_user_signs_in_once_the_attacker_stops(
    http: httpx.Client, actors: Actors, clock: FixedClock
) -> None:
    actors.user(Role.COLLECTOR, username="asha")
    statuses = {sign_in(http, "asha", f"guess-{n:04d}-x").json()["error"] for n in range(40)}
    assert statuses <= {"invalid_credentials", "account_locked", "too_many_requests"}
    clock.advance(timedelta(minutes=16))
    assert sign_in(http, "asha").status_code == 200


def test_the_password_hash_is_argon2id_with_at_least_19_mib_and_two_passes() -> None:
    """Read from a hash the server made with its own hasher at import (before any test
    cheapened it): what a stored password actually costs an attacker."""
    made = argon2.extract_parameters(passwords._DECOY_HASH)
    figure(
        f"argon2: {made.type.name.lower()} m={made.memory_cost // 1024} MiB t={made.time_cost} "
        f"p={made.parallelism}"
    )
    assert made.type is argon2.Type.ID
    assert made.memory_cost >= 19 * 1024
    assert made.time_cost >= 2


def test_a_command_id_replayed_by_another_user_learns_only_duplicate(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    first = command("payment", cash(world.asha_loan, 12_345_00, "R-0042"))
    (applied,) = push(http, actors.headers(world.asha), [first]).json()["results"]
    assert applied["status"] == "applied"
    replays = []
    for user in (world.ravi, world.manager, actors.user(Role.ADMIN, username="root")):
        (answer,) = push(http, actors.headers(user), [first]).json()["results"]
        replays.append(answer)
    leaked = [
        a
        for a in replays
        if set(a) - {"id", "status"}
        and any(a.get(key) is not None for key in ("code", "reason", "result"))
    ]
    figure(f"replayed command ids answered beyond 'duplicate': {len(leaked)}/{len(replays)}")
    assert [a["status"] for a in replays] == ["duplicate"] * 3
    assert leaked == []
    with db.read_only() as session:
        audited = session.execute(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "sync.replay", AuditEntry.outcome == "refused")
        ).scalar_one()
    assert audited == 3
    (own,) = push(http, actors.headers(world.asha), [first]).json()["results"]
    assert own["status"] == "duplicate"
    assert own["result"] == applied["result"]
