"""Signing in, refreshing and signing out.

Sign-in failures are written in a transaction of their own (the request's rolls back), so the
failure count, the lockout and the audit entry survive the refusal; so is the claim of a place
in the hourly cap on failed sign-ins, before the password is checked. On SQLite the request's
transaction holds the write lock from its first statement, so it is rolled back before the
separate transaction starts; otherwise the two would wait on each other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from loancore.dates import IST
from loancore.roles import Role
from sync_server.audit import service as audit
from sync_server.auth import passwords, tokens
from sync_server.auth.service import branch_code_of, get_user, normalise_username
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.db.models import LoginAttempt, RefreshToken, User
from sync_server.errors import NotAuthenticated, TooManyRequests
from sync_server.principal import Principal
from sync_server.ratelimit import Limit, RateLimiter


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    branch_code: str | None


def principal_of(user: User, address: str | None) -> Principal:
    return Principal(user.id, user.username, Role(user.role), user.branch_id, address)


def _as_ist(instant: datetime) -> str:
    return instant.astimezone(IST).strftime("%d-%m-%Y %H:%M")


def _locked_message(until: datetime) -> str:
    return (
        "This account is locked after repeated failed sign-ins; "
        f"try again after {_as_ist(until)} IST or ask an administrator"
    )


def _issue(
    session: Session,
    settings: Settings,
    user: User,
    *,
    family_id: uuid.UUID,
    device_id: str | None,
    now: datetime,
) -> tuple[TokenPair, RefreshToken]:
    raw = tokens.new_refresh_token()
    row = RefreshToken(
        id=uuid.uuid4(),
        user_id=user.id,
        family_id=family_id,
        token_hash=tokens.hash_refresh_token(raw),
        device_id=device_id,
        issued_at=now,
        expires_at=tokens.refresh_expiry(settings, now),
    )
    session.add(row)
    pair = TokenPair(
        access_token=tokens.issue_access_token(settings, user, now=now),
        refresh_token=raw,
        expires_in=settings.access_token_minutes * 60,
        user=user,
        branch_code=branch_code_of(session, user.branch_id),
    )
    return pair, row


def _refuse_login(
    db: Database,
    *,
    username: str,
    address: str,
    user_id: uuid.UUID | None,
    now: datetime,
    settings: Settings,
    detail: str,
    not_a_guess: RateLimiter | None = None,
) -> datetime | None:
    """Counts the failure in its own transaction (the request's rolls back) and returns the
    lock's end if this failure locked the account. A refusal that checked no password
    (`not_a_guess`: the account was locked) gives its place in the hourly cap back."""
    locked_until = None
    with db.unit_of_work() as session:
        if not_a_guess is not None:
            not_a_guess.give_back(session, username, now.timestamp())
        session.add(
            LoginAttempt(username=username[:64], address=address[:64], at=now, success=False)
        )
        actor = None
        if user_id is not None:
            session.execute(
                update(User).where(User.id == user_id).values(failed_logins=User.failed_logins + 1)
            )
            user = session.get(User, user_id)
            if user is not None:
                actor = principal_of(user, address)
                if user.failed_logins >= settings.login_max_failures:
                    locked_until = now + timedelta(minutes=settings.login_lockout_minutes)
                    user.locked_until = locked_until
                    user.failed_logins = 0
                    detail += f"; account locked until {_as_ist(locked_until)} IST"
        audit.record(
            session,
            actor=actor or _anonymous(address),
            action="auth.login",
            entity="user",
            entity_id=user_id,
            outcome="refused",
            detail=detail,
        )
    return locked_until


def _failures(db: Database, settings: Settings) -> RateLimiter:
    """The hourly cap on failed sign-ins per account, counted in the database for every server
    process. Each attempt claims a place before its password is checked and a success gives
    it back, so even attempts racing in several processes check at most the cap's number of
    wrong passwords in a clock hour, whatever the lockout settings; the cap ends with the hour,
    so the account's owner signs in again once the attacker stops. Unknown usernames are
    counted alike, so the cap tells nobody which accounts exist."""
    return RateLimiter(db, Limit("signin", settings.login_failures_per_account_per_hour, 3600))


def _failures_message(limit: Limit, now: datetime) -> str:
    window_end = limit.window_at(now.timestamp()) + limit.window_seconds
    until = datetime.fromtimestamp(window_end, tz=UTC)
    return (
        "Too many failed sign-ins to this account this hour; "
        f"try again after {_as_ist(until)} IST or ask an administrator"
    )


def _anonymous(address: str | None) -> Principal:
    return Principal(uuid.UUID(int=0), "anonymous", Role.COLLECTOR, None, address)


def login(
    session: Session,
    db: Database,
    settings: Settings,
    *,
    username: str,
    password: str,
    address: str,
    device_id: str | None,
    now: datetime,
) -> TokenPair:
    """The same message for an unknown user and a wrong password, so sign-in does not reveal
    which usernames exist; an unknown user still costs one hash verification."""
    name = normalise_username(username)
    window_start = now - timedelta(minutes=1)
    recent = session.execute(
        select(func.count())
        .select_from(LoginAttempt)
        .where(LoginAttempt.address == address, LoginAttempt.at > window_start)
    ).scalar_one()
    if recent >= settings.login_attempts_per_address_per_minute:
        session.rollback()
        audit.record_attempt(
            db,
            actor=_anonymous(address),
            action="auth.login",
            entity="user",
            outcome="refused",
            detail=f"throttled: too many sign-in attempts from {address} for '{name[:64]}'",
        )
        raise TooManyRequests("Too many sign-in attempts from this address; wait a minute")
    session.rollback()  # the claim below is a transaction of its own: see the module docstring
    failures = _failures(db, settings)
    if not failures.take(name, now.timestamp()):
        audit.record_attempt(
            db,
            actor=_anonymous(address),
            action="auth.login",
            entity="user",
            outcome="refused",
            detail=f"throttled: {failures.limit.hits} failed sign-ins this hour for '{name[:64]}'",
        )
        raise TooManyRequests(_failures_message(failures.limit, now))
    user = session.execute(select(User).where(User.username == name)).scalar_one_or_none()
    if user is not None and user.locked_until is not None and user.locked_until > now:
        until = user.locked_until
        session.rollback()
        _refuse_login(
            db,
            username=name,
            address=address,
            user_id=None,
            now=now,
            settings=settings,
            detail=f"sign-in to locked account '{name}'",
            not_a_guess=failures,
        )
        raise NotAuthenticated(_locked_message(until), code="account_locked")
    password_ok = passwords.verify_password(user.password_hash if user else None, password)
    if user is None or not password_ok or not user.active:
        user_id = user.id if user is not None else None
        reason = (
            "unknown username"
            if user is None
            else "wrong password"
            if not password_ok
            else "inactive account"
        )
        session.rollback()
        locked = _refuse_login(
            db,
            username=name,
            address=address,
            user_id=user_id if password_ok is False else None,
            now=now,
            settings=settings,
            detail=f"{reason} '{name[:64]}'",
        )
        if locked is not None:
            raise NotAuthenticated(_locked_message(locked), code="account_locked")
        if user is not None and password_ok and not user.active:
            raise NotAuthenticated("This account is deactivated; ask an administrator")
        raise NotAuthenticated("Wrong username or password", code="invalid_credentials")
    failures.give_back(session, name, now.timestamp())
    user.failed_logins = 0
    user.locked_until = None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    session.add(LoginAttempt(username=name, address=address[:64], at=now, success=True))
    pair, _ = _issue(session, settings, user, family_id=uuid.uuid4(), device_id=device_id, now=now)
    session.flush()
    audit.record(
        session,
        actor=principal_of(user, address),
        action="auth.login",
        entity="user",
        entity_id=user.id,
        detail=f"device {device_id}" if device_id else None,
    )
    return pair


def _refresh_row(session: Session, raw: str) -> RefreshToken:
    row = session.execute(
        select(RefreshToken).where(RefreshToken.token_hash == tokens.hash_refresh_token(raw))
    ).scalar_one_or_none()
    if row is None:
        raise NotAuthenticated("The refresh token is not valid; sign in again")
    return row


def _revoke_family(session: Session, family_id: uuid.UUID, now: datetime) -> None:
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def refresh(
    session: Session,
    db: Database,
    settings: Settings,
    *,
    refresh_token: str,
    address: str,
    now: datetime,
) -> TokenPair:
    """Rotates the token. Presenting one that was already rotated means two parties hold it
    (one of them a thief): the whole family is revoked, so both must sign in again."""
    row = _refresh_row(session, refresh_token)
    user = get_user(session, row.user_id)
    if row.revoked_at is not None:
        reused = row.replaced_by is not None
        family_id, user_actor = row.family_id, principal_of(user, address)
        session.rollback()
        if reused:
            with db.unit_of_work() as own:
                _revoke_family(own, family_id, now)
                audit.record(
                    own,
                    actor=user_actor,
                    action="auth.refresh_reuse",
                    entity="token_family",
                    entity_id=family_id,
                    outcome="refused",
                    detail="an already-rotated refresh token was presented; family revoked",
                )
            raise NotAuthenticated(
                "This refresh token was already used; for safety every session from that "
                "sign-in has been ended. Sign in again",
                code="refresh_token_reused",
            )
        raise NotAuthenticated("This session has ended; sign in again")
    if row.expires_at <= now:
        raise NotAuthenticated("The session has expired; sign in again")
    if not user.active:
        raise NotAuthenticated("This account is deactivated; ask an administrator")
    pair, new_row = _issue(
        session, settings, user, family_id=row.family_id, device_id=row.device_id, now=now
    )
    session.flush()
    row.revoked_at = now
    row.replaced_by = new_row.id
    session.flush()
    audit.record(
        session,
        actor=principal_of(user, address),
        action="auth.refresh",
        entity="token_family",
        entity_id=row.family_id,
    )
    return pair


def logout(session: Session, *, refresh_token: str, address: str, now: datetime) -> None:
    """Ends the sign-in the token belongs to (its whole family). Ending it twice is fine."""
    row = _refresh_row(session, refresh_token)
    user = get_user(session, row.user_id)
    _revoke_family(session, row.family_id, now)
    audit.record(
        session,
        actor=principal_of(user, address),
        action="auth.logout",
        entity="token_family",
        entity_id=row.family_id,
    )
