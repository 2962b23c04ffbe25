"""The MIS counts use the one Indian grouping (babel's, through loancore) and read as before."""

from __future__ import annotations

from sync_server.reports.wording import count
from tests.loancore.frozen import rows


def test_counts_read_as_the_hand_written_grouping_did() -> None:
    table = rows("indian_grouping_counts.tsv")
    assert len(table) == 1200
    for number, shown in table:
        assert count(int(number)) == shown, number
