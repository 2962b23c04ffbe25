"""The desk's SQL lives in desktop.cache (`queries`, `loan_queries`, `entry_queries`), never in
a view-model. The import contract `desk-viewmodels-speak-no-sql` refuses a view-model that
imports sqlalchemy; a view-model could still open a cache session and run statements through
it without importing anything, or carry SQL as text. This reads every view-model's source
for either, and shows on planted code that it would notice."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

VIEWMODELS = Path(__file__).resolve().parents[3] / "desktop" / "viewmodels"

SESSION_CALLS = frozenset(
    {"transaction", "execute", "scalar", "scalars", "exec_driver_sql", "begin", "connect"}
)
"""Methods that open a cache session or run a statement on one (`Cache.transaction`,
`Session.execute`, ...): the cache's named reads call them, view-models call those reads."""

SQL_TEXT = re.compile(
    r"\b(SELECT\b.+\bFROM|INSERT\s+INTO|UPDATE\b.+\bSET|DELETE\s+FROM|PRAGMA)\b", re.DOTALL
)


def sql_in(source: str) -> list[str]:
    """What in `source` runs SQL or spells it: one line per find, with its line number."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in SESSION_CALLS
        ):
            found.append(f"{node.lineno}: .{node.func.attr}(...)")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and SQL_TEXT.search(node.value)
        ):
            found.append(f"{node.lineno}: SQL text {node.value[:40]!r}")
    return found


@pytest.mark.parametrize("module", sorted(p.name for p in VIEWMODELS.glob("*.py")))
def test_no_view_model_runs_or_spells_sql(module: str) -> None:
    assert sql_in((VIEWMODELS / module).read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    ("planted", "found"),
    [
        (
            "def f(cache):\n    with cache.transaction() as s:\n        return s.get(X, 1)\n",
            ["2: .transaction(...)"],
        ),
        (
            "def f(s):\n    return s.execute(stmt).scalars()\n",
            ["2: .scalars(...)", "2: .execute(...)"],
        ),
        (
            'ROWS = "SELECT id FROM loans WHERE status = ?"\n',
            ["1: SQL text 'SELECT id FROM loans WHERE status = ?'"],
        ),
        ('NOTE = "Select a loan from the list"\n', []),
    ],
)
def test_planted_sql_is_found(planted: str, found: list[str]) -> None:
    assert sorted(sql_in(planted)) == sorted(found)
