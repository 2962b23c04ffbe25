"""Alembic environment for the desktop cache: always run from code on a handed-over
connection (`desktop.cache.store.open_cache`), never from an .ini file on a user's machine."""

from __future__ import annotations

from alembic import context

from desktop.cache.models import CacheBase

config = context.config
connection = config.attributes["connection"]
context.configure(connection=connection, target_metadata=CacheBase.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
