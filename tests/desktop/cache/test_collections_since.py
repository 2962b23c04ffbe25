"""A loan's delinquency in the cache: the date its collections DPD counts from, landed from
the pulled view, and the day-end it is read at, kept from each pull answer; an upgraded cache
shows the DPD it showed before and asks the server for every loan again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from desktop.cache.models import CachedLoan
from desktop.cache.store import MIGRATIONS, Cache
from desktop.viewmodels.loans import LoanFilter, LoansQuery


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = Cache(tmp_path / "user" / "cache.db")
    yield store
    store.close()


def _upsert(loan_id: str, **data: Any) -> dict[str, Any]:
    body = {"id": loan_id, "account_no": f"LN{loan_id}", "status": "active", **data}
    return {"entity": "loan", "entity_id": loan_id, "op": "upsert", "data": body}


def _loan(cache: Cache, loan_id: str) -> CachedLoan:
    with cache.transaction() as session:
        loan = session.get(CachedLoan, loan_id)
        assert loan is not None
        return loan


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def test_a_loan_lands_with_its_date_and_reads_its_dpd_at_the_pulls_day_end(cache: Cache) -> None:
    cache.apply_changes(
        [_upsert("1", collections_since="2026-11-20T00:00:00", bucket="1-30"), _upsert("2")],
        1,
        dpd_as_of="2026-11-27",
    )
    first, second = _loan(cache, "1"), _loan(cache, "2")
    assert (first.collections_since, second.collections_since) == ("2026-11-20", None)
    assert cache.dpd_as_of() == date(2026, 11, 27)
    assert (first.dpd_at(date(2026, 11, 27)), second.dpd_at(date(2026, 11, 27))) == (8, 0)


def test_the_day_end_of_a_pull_answer_is_kept_and_a_page_without_one_keeps_it(
    cache: Cache,
) -> None:
    assert cache.dpd_as_of() is None
    cache.apply_changes([], 5, dpd_as_of=date(2026, 11, 27))
    cache.apply_changes([], 6, dpd_as_of=None)
    assert cache.dpd_as_of() == date(2026, 11, 27)


def test_a_malformed_day_end_or_date_lands_nothing(cache: Cache) -> None:
    cache.apply_changes([], 5, dpd_as_of="2026-11-27")
    with pytest.raises(ValueError, match="isoformat"):
        cache.apply_changes([_upsert("1")], 6, dpd_as_of="27/11/2026")
    with pytest.raises(ValueError, match="isoformat"):
        cache.apply_changes([_upsert("1", collections_since="20-11-2026")], 6)
    assert (cache.dpd_as_of(), cache.cursor(), cache.loans()) == (date(2026, 11, 27), 5, [])


def _old_cache(path: Path, loans: list[tuple[str, int, str, dict[str, Any]]]) -> None:
    """A cache at c0003 (DPD kept as a number), with a cursor and a business date."""
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config = _config()
        config.attributes["connection"] = connection
        command.upgrade(config, "c0003")
        for loan_id, dpd, bucket, data in loans:
            connection.execute(
                text(
                    "INSERT INTO loans (id, account_no, status, dpd, bucket, data) "
                    "VALUES (:id, :account, 'active', :dpd, :bucket, :data)"
                ),
                {
                    "id": loan_id,
                    "account": f"LN{loan_id}",
                    "dpd": dpd,
                    "bucket": bucket,
                    "data": json.dumps({"dpd": dpd, **data}),
                },
            )
        connection.execute(
            text(
                "INSERT INTO sync_meta (key, value) VALUES "
                "('cursor', '4200'), ('business_date', '2026-11-27')"
            )
        )
    engine.dispose()


def test_an_upgraded_cache_shows_each_loans_dpd_as_before_and_pulls_everything_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    _old_cache(
        path,
        [
            ("1", 3, "1-30", {"actual_dpd": 3}),
            ("2", 0, "current", {"actual_dpd": 0}),
            # Under an open dispute: collections DPD frozen at 95, the dues 120 days behind.
            ("3", 95, "90+", {"actual_dpd": 120, "dispute_open": True}),
        ],
    )
    cache = Cache(path)
    # Anchored at the day-end before the last business date the server gave.
    assert cache.dpd_as_of() == date(2026, 11, 26)
    assert cache.cursor() == 0
    loans = {loan.id: loan for loan in cache.loans()}
    assert {key: loan.collections_since for key, loan in loans.items()} == {
        "1": "2026-11-24",
        "2": None,
        "3": "2026-08-24",
    }
    assert loans["3"].data["overdue_since"] == "2026-07-30"
    assert not {"dpd", "actual_dpd"} & set(loans["3"].data)
    rows = LoansQuery(cache).page(LoanFilter()).rows
    assert [(row.account_no, row.dpd) for row in rows] == [("LN3", 95), ("LN1", 3), ("LN2", 0)]
    cache.close()


def test_downgrading_gives_back_the_dpd_column_read_at_the_kept_day_end(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_cache(path, [("1", 3, "1-30", {"actual_dpd": 40}), ("2", 0, "current", {})])
    Cache(path).close()
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config = _config()
        config.attributes["connection"] = connection
        command.downgrade(config, "c0003")
        found = connection.execute(
            text(
                "SELECT id, dpd, json_extract(data, '$.dpd'), json_extract(data, '$.actual_dpd') "
                "FROM loans ORDER BY id"
            )
        ).all()
        indexes = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'ix_loans_by%'")
        ).scalars()
        assert "ix_loans_by_dpd" in set(indexes)
    engine.dispose()
    assert [tuple(row) for row in found] == [("1", 3, 3, 40), ("2", 0, 0, 0)]
