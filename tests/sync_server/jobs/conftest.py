"""A second database of the same kind (to compare a clean run with a disturbed one) and the
app with the jobs routes mounted."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from sync_server.app import API_PREFIX, create_app
from sync_server.clock import FixedClock
from sync_server.config import Settings
from sync_server.db.engine import Database
from sync_server.jobs import routes as jobs_routes
from tests import dbs


@pytest.fixture
def twin_db(db_kind: str, tmp_path: Path, _template_root: Path) -> Iterator[Database]:
    (tmp_path / "twin").mkdir()
    url = dbs.fresh_database_url(db_kind, tmp_path / "twin", _template_root)
    database = Database(url)
    yield database
    database.dispose()
    dbs.drop_database(url)


@pytest.fixture
def app(settings: Settings, db: Database, clock: FixedClock) -> FastAPI:
    """The server app with the jobs routes mounted, whether or not the lead has listed them."""
    application = create_app(settings=settings, db=db, clock=clock)
    paths = {getattr(route, "path", "") for route in application.routes}
    if f"{API_PREFIX}/jobs" not in paths:
        application.include_router(jobs_routes.router, prefix=API_PREFIX)
    return application
