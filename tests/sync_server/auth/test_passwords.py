"""The password policy and argon2id hashing, without a database."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from sync_server.auth import passwords
from sync_server.errors import ValidationFailed


def test_a_long_mixed_password_meets_the_policy() -> None:
    assert passwords.policy_problems("monsoon-in-pune-2026", username="asha") == []


def test_a_short_password_is_refused_with_the_minimum_length() -> None:
    with pytest.raises(ValidationFailed, match="at least 10 characters"):
        passwords.check_policy("short1", username="asha")


def test_a_password_of_digits_only_is_refused() -> None:
    assert passwords.policy_problems("98765432109", username="asha") == [
        "The password must not be digits only"
    ]


def test_the_username_is_not_accepted_as_a_password_whatever_its_case() -> None:
    problems = passwords.policy_problems("Asha.Kulkarni", username="asha.kulkarni")
    assert problems == ["The password must not be the username"]


def test_every_problem_is_reported_at_once() -> None:
    with pytest.raises(ValidationFailed) as caught:
        passwords.check_policy("12345", username="asha")
    assert "at least 10" in caught.value.message
    assert "digits only" in caught.value.message
    assert caught.value.code == "weak_password"


def test_a_hash_is_argon2id_and_verifies_only_the_right_password() -> None:
    stored = passwords.hash_password("monsoon-in-pune-2026")
    assert stored.startswith("$argon2id$")
    assert passwords.verify_password(stored, "monsoon-in-pune-2026")
    assert not passwords.verify_password(stored, "monsoon-in-pune-2027")


def test_a_missing_or_malformed_hash_never_verifies() -> None:
    assert not passwords.verify_password(None, "decoy password that matches nothing")
    assert not passwords.verify_password("not-a-hash", "anything at all")


def test_a_hash_made_with_weaker_parameters_needs_rehashing() -> None:
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("monsoon-in-pune")
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("monsoon-in-pune"))
