"""Step 3 finds names alike either by scoring each distinct name of an amount once or by
scoring every entry of the date window: the two ways must find the same candidates."""

from __future__ import annotations

from loancore.reconciliation.matching import Thresholds, _Book, _facts
from tests.loancore.reconciliation.labelled_book import build


def test_distinct_names_and_the_date_window_find_the_same_candidates() -> None:
    book = build(11, 3_000, 3_000)
    index = _Book(book.entries)
    thresholds = Thresholds()
    found_any = 0
    for line in book.lines:
        facts = _facts(line)
        by_name = index.name_alike(facts, thresholds, set(), by_distinct_name=True)
        by_window = index.name_alike(facts, thresholds, set(), by_distinct_name=False)
        assert sorted(by_name, key=lambda c: c.rank_key()) == sorted(
            by_window, key=lambda c: c.rank_key()
        )
        found_any += bool(by_name)
    assert found_any > len(book.lines) // 2
    known = {c.entry_id for c in index.name_alike(_facts(book.lines[0]), thresholds, set())}
    assert index.name_alike(_facts(book.lines[0]), thresholds, known) == []
