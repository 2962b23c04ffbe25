"""Alembic, driven from code: the migrations ship inside the package, so an installed server
(or the frozen desktop bundle's embedded server) can upgrade its database without an .ini file."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def head_revision() -> str | None:
    """The newest revision the shipped migrations reach (read from the script files only)."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def database_revision(engine: Engine) -> str | None:
    """The revision the database is at: one read of `alembic_version`; None when empty."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_if_behind(engine: Engine) -> bool:
    """Upgrade only when the database is not at the head revision; True when it upgraded.

    The nightly day-end runs this on every start: a full `upgrade` loads alembic's
    environment and walks the revisions even when there is nothing to do (over a second a
    night), while an at-head database needs one small read."""
    if database_revision(engine) == head_revision():
        return False
    upgrade(engine)
    return True


def downgrade(engine: Engine, revision: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
