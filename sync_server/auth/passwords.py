"""Password hashing and the password policy.

argon2id is memory-hard, so a stolen users table is slow to crack on GPUs. Stored hashes carry
their own parameters; when the parameters here are raised, a hash made with the old ones is
replaced the next time its owner logs in (`needs_rehash`), without forcing a reset.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from sync_server.errors import ValidationFailed

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher()

# Verified against when the username is unknown, so an unknown user costs the same time as a
# wrong password and the response time does not reveal which usernames exist.
_DECOY_HASH = _hasher.hash("decoy password that matches nothing")


def policy_problems(password: str, *, username: str) -> list[str]:
    """Every reason the password is refused, so a person can fix them all in one go."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"The password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        problems.append(f"The password must be at most {MAX_LENGTH} characters long")
    if password.isdigit():
        problems.append("The password must not be digits only")
    if username and password.strip().casefold() == username.strip().casefold():
        problems.append("The password must not be the username")
    return problems


def check_policy(password: str, *, username: str) -> None:
    problems = policy_problems(password, username=username)
    if problems:
        raise ValidationFailed("; ".join(problems), code="weak_password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """False for a wrong password or a missing or malformed hash; never raises."""
    try:
        return _hasher.verify(stored_hash or _DECOY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
