"""Helpers for the auth tests: signing in over real HTTP as a known user."""

from __future__ import annotations

from typing import Any

import httpx

PASSWORD = "correct horse battery staple"


def sign_in(
    http: httpx.Client, username: str, password: str = PASSWORD, **extra: Any
) -> httpx.Response:
    return http.post(
        "/api/v1/auth/login", json={"username": username, "password": password, **extra}
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
