"""A lender's book built once per database kind and copied for each test that reads it.

Building a book night by night through the real day-end is the slow part of the rule tests
(a hundred nights or more on PostgreSQL take most of a minute); tests that share the book up to
the point where they part take a copy of the database instead of rebuilding it (tests.dbs
copies the file on SQLite and uses the built database as a template on PostgreSQL).
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Generic, TypeVar

from sync_server.db.engine import Database
from tests import dbs
from tests.sync_server.jobs.lender_book import Lender, lender

T = TypeVar("T")


class BuiltOnce(Generic[T]):
    def __init__(self, build: Callable[[Lender], T], root: Path, template_root: Path) -> None:
        self._build = build
        self._root = root
        self._template_root = template_root
        self._built: dict[str, tuple[str, Lender, T]] = {}

    @contextmanager
    def copy(self, kind: str, tmp_path: Path) -> Iterator[tuple[Lender, T]]:
        """A book of its own for one test: the built one's data, its id source where the
        build left it (so later loans get the ids a rebuilt book would give them)."""
        if kind not in self._built:
            url = dbs.fresh_database_url(kind, self._root, self._template_root)
            built_in = Database(url)
            book = lender(built_in)
            made = self._build(book)
            built_in.dispose()
            self._built[kind] = (url, book, made)
        url, book, made = self._built[kind]
        copy_url = dbs.copy_database(url, tmp_path)
        database = Database(copy_url)
        try:
            yield dataclasses.replace(book, db=database, ids=copy.deepcopy(book.ids)), made
        finally:
            database.dispose()
            dbs.drop_database(copy_url)

    def drop(self) -> None:
        for url, _, _ in self._built.values():
            dbs.drop_database(url)
        self._built.clear()


@contextmanager
def twin_of(book: Lender, tmp_path: Path) -> Iterator[Lender]:
    """A second book equal to `book` as it stands (its database copied), to be taken down
    another road: one clean run beside a disturbed one without building the common part twice."""
    book.db.dispose()  # nothing may hold the source open while PostgreSQL copies it
    twin_url = dbs.copy_database(book.db.url, tmp_path)
    database = Database(twin_url)
    try:
        yield dataclasses.replace(book, db=database, ids=copy.deepcopy(book.ids))
    finally:
        database.dispose()
        dbs.drop_database(twin_url)
