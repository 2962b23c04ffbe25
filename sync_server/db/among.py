"""`column IN (values)` for a batch's many values, as one parameter on PostgreSQL.

A pushed batch looks up its 100 to 500 command ids, payment ids, loans and references at
once. As an IN list each value is a parameter of its own, and psycopg caches its rewriting of
a query only up to 50 parameters: every such statement was split and rewritten on every
batch, and PostgreSQL planned it anew. `column = ANY(:values)` binds the whole list as one
array, so the statement text is the same whatever the batch's size. SQLite has no arrays and
keeps the IN list (its parameters cost nothing like that there).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import ARRAY, ColumnElement, any_, bindparam
from sqlalchemy.orm import Session


def among(session: Session, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column` is one of `values`, in the form the session's database reads fastest."""
    if session.get_bind().dialect.name == "postgresql":
        array: ColumnElement[bool] = column == any_(
            bindparam(None, list(values), type_=ARRAY(column.type))
        )
        return array
    listed: ColumnElement[bool] = column.in_(list(values))
    return listed
