"""The declarative base and the conventions every table follows."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Relationships are `raise_on_sql` by default: every load is explicit, no N+1 by accident."""

    metadata = MetaData(naming_convention=NAMING)


# A 64-bit surrogate key that SQLite still treats as its ROWID (autoincrementing).
BigId = BigInteger().with_variant(Integer(), "sqlite")
