"""Fixtures of the loan query tests: the app with the loan routes mounted, and a small book."""

from __future__ import annotations

import functools

import httpx
import pytest
from fastapi import FastAPI

from sync_server.app import API_PREFIX, create_app
from sync_server.auth import passwords
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.loans import routes
from tests.sync_server.conftest import Actors
from tests.sync_server.loans.portfolio import Book, build_book

_real_hash = passwords.hash_password


@functools.lru_cache(maxsize=8)
def _hash_once(password: str) -> str:
    return _real_hash(password)


@pytest.fixture
def book(http: httpx.Client, db: Database, actors: Actors, monkeypatch: pytest.MonkeyPatch) -> Book:
    """argon2 costs 0.6 s a user by design; the book makes nine users and no test here is
    about hashing, so each password is hashed once per run (still a real, verifiable hash)."""
    monkeypatch.setattr(passwords, "hash_password", _hash_once)
    return build_book(http, db, actors)


@pytest.fixture
def app(settings: Settings, db: Database, clock: FixedClock) -> FastAPI:
    """The server app, with the loan routes mounted even before app.py lists them."""
    server = create_app(settings=settings, db=db, clock=clock)
    if not any(getattr(r, "path", "") == f"{API_PREFIX}/dashboard" for r in server.routes):
        server.include_router(routes.router, prefix=API_PREFIX)
    return server
