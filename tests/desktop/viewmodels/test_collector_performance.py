from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from desktop.viewmodels.collector_performance import (
    NO_WEEK_SCORED,
    CollectorPerformanceViewModel,
    details_text,
    factor_text,
    parse_performance,
    percent_text,
    score_text,
    scores_params,
    table_row,
    week_text,
)
from desktop.viewmodels.online import UnexpectedAnswer, parse_branches
from tests.desktop.viewmodels.scripted_api import ScriptedApi

WEEKS = ["2026-11-16", "2026-11-09", "2026-11-02"]


def score(week: str, who: str, name: str, score_bp: int, rank: int, **extra: Any) -> dict[str, Any]:
    return {
        "week_start": week,
        "collector_id": who,
        "collector_name": name,
        "branch_id": 1,
        "accounts": 12,
        "due_paise": 2_40_000_00,
        "collected_paise": 1_80_000_00,
        "promises_due": 4,
        "promises_kept": 3,
        "rolled_forward": 1,
        "contacted": 10,
        "score_bp": score_bp,
        "rank": rank,
        "version": 1,
        "latest": True,
        "prepaid_paise": 50_000_00,
        "efficiency_bp": 7_500,
        "promise_rate_bp": 7_500,
        "roll_forward_bp": 833,
        "coverage_bp": 8_333,
        "computed_at": "2026-11-23T20:00:00Z",
        "rescored_by": None,
        "reason": None,
        **extra,
    }


ANSWER = {
    "weeks": WEEKS,
    "rows": [
        score("2026-11-16", "c2", "Priya Menon", 8734, 1),
        score("2026-11-16", "c1", "Anil Kumar", 6150, 2),
        score("2026-11-09", "c1", "Anil Kumar", 7000, 1),
        score("2026-11-02", "c1", "Anil Kumar", 6500, 1),
        score("2026-11-02", "c2", "Priya Menon", 5000, 2),
    ],
}


def test_the_latest_week_is_ranked_best_first() -> None:
    performance = parse_performance(ANSWER)
    assert performance.latest_week == date(2026, 11, 16)
    assert [row.collector_name for row in performance.latest] == ["Priya Menon", "Anil Kumar"]
    assert performance.heading == ("Week 2026-W47 (16-11-2026 to 22-11-2026) · 2 collectors scored")


def test_a_trend_runs_oldest_first_with_gaps_for_unscored_weeks() -> None:
    performance = parse_performance(ANSWER)
    assert performance.trend("c1") == (6500, 7000, 6150)
    assert performance.trend("c2") == (5000, None, 8734)


def test_a_row_reads_in_rupees_and_a_score_out_of_a_hundred() -> None:
    performance = parse_performance(ANSWER)
    assert table_row(performance, performance.latest[0], {1: "PNC"}) == (
        "1",
        "PNC",
        "Priya Menon",
        "2,40,000.00",
        "1,80,000.00",
        "50,000.00",
        "75%",
        "3 of 4",
        "1",
        "10 of 12",
        "87.34",
        "50.00 → — → 87.34",
    )


def test_scores_and_percentages_are_exact() -> None:
    assert score_text(8734) == "87.34"
    assert score_text(10_000) == "100.00"
    assert score_text(5) == "0.05"
    assert percent_text(1, 8) == "13%"
    assert percent_text(0, 0) == "—"
    assert week_text(date(2026, 12, 28)) == "2026-W53 (28-12-2026 to 03-01-2027)"


def test_no_week_scored_yet_gives_the_empty_state() -> None:
    performance = parse_performance({"weeks": WEEKS, "rows": []})
    assert performance.latest_week is None
    assert performance.latest == ()
    assert performance.heading == NO_WEEK_SCORED


def test_before_the_weekly_job_the_week_before_is_shown_and_the_gap_named() -> None:
    answer = {"weeks": ["2026-11-23", *WEEKS], "rows": ANSWER["rows"]}
    performance = parse_performance(answer)
    assert performance.latest_week == date(2026, 11, 16)
    assert performance.trend("c2") == (5000, None, 8734, None)
    assert performance.heading.endswith("the week from 23-11-2026 is not scored yet")


def test_ranks_are_within_a_branch_so_rows_group_by_branch() -> None:
    rows = [
        score("2026-11-16", "c1", "Anil", 9000, 1, branch_id=2),
        score("2026-11-16", "c2", "Bina", 8000, 1, branch_id=1),
        score("2026-11-16", "c3", "Chetan", 7000, 2, branch_id=1),
    ]
    latest = parse_performance({"weeks": WEEKS, "rows": rows}).latest
    assert [r.collector_name for r in latest] == ["Bina", "Chetan", "Anil"]


@pytest.mark.parametrize(
    "answer",
    [
        {"weeks": ["2026-11-02", "2026-11-16"], "rows": []},
        {"weeks": WEEKS, "rows": [score("2026-11-16", "c1", "A", 10_001, 1)]},
        {"weeks": WEEKS, "rows": [score("2026-11-16", "c1", "A", 80, 1, due_paise=1.5)]},
        {"weeks": WEEKS, "rows": [score("2026-11-16", "c1", "A", 80, 1, coverage_bp=10_001)]},
        {"weeks": WEEKS, "rows": [score("2026-11-16", "c1", "A", 80, 1, latest="yes")]},
        {"weeks": WEEKS, "rows": [score("2026-11-16", "c1", "A", 80, 1, version=None)]},
        {"weeks": WEEKS},
    ],
)
def test_a_malformed_answer_is_refused(answer: dict[str, Any]) -> None:
    with pytest.raises(UnexpectedAnswer):
        parse_performance(answer)


def test_the_branch_filter_becomes_the_query() -> None:
    assert scores_params() == {"weeks": 8, "history": "true"}
    assert scores_params(branch_id=3) == {"weeks": 8, "history": "true", "branch_id": 3}
    with pytest.raises(ValueError, match="between 1 and 52"):
        scores_params(weeks=0)


def test_the_view_model_asks_for_eight_weeks_of_the_chosen_branch() -> None:
    api = ScriptedApi(
        {
            ("GET", "/scores"): ANSWER,
            ("GET", "/branches"): [
                {"id": 2, "code": "NSK", "name": "Nashik Road"},
                {"id": 1, "code": "PNC", "name": "Pune Camp"},
            ],
        }
    )
    vm = CollectorPerformanceViewModel(api)
    assert [b.label for b in vm.branches()] == ["NSK — Nashik Road", "PNC — Pune Camp"]
    assert vm.load(branch_id=2).latest[0].score_bp == 8734
    assert api.asked[-1].params == {"weeks": 8, "history": "true", "branch_id": 2}
    with pytest.raises(UnexpectedAnswer):
        parse_branches([{"id": "two", "code": "NSK", "name": "Nashik"}])


NOTHING_DUE = score(
    "2026-11-16",
    "c3",
    "Kavita Joshi",
    5_625,
    3,
    due_paise=0,
    collected_paise=0,
    prepaid_paise=0,
    promises_due=0,
    promises_kept=0,
    rolled_forward=0,
    contacted=1,
    accounts=8,
    efficiency_bp=None,
    promise_rate_bp=None,
    roll_forward_bp=0,
    coverage_bp=1_250,
)


def test_a_factor_with_nothing_to_measure_reads_n_a_in_the_row_and_the_details() -> None:
    performance = parse_performance({"weeks": WEEKS, "rows": [NOTHING_DUE]})
    (row,) = performance.latest
    cells = table_row(performance, row, {1: "PNC"})
    assert cells[6:11] == ("n/a", "n/a", "0", "1 of 8", "56.25")
    details = details_text(performance, row)
    assert "Collected ₹0.00 against ₹0.00 due" in details
    assert "Promises kept 0 of 0 due: n/a, nothing to measure" in details
    assert "contacted 1 of 8 (13%)" in details
    assert factor_text(None) == "n/a"
    assert factor_text(8_350) == "84%"


def test_efficiency_reads_the_counts_beside_it_rounded_once() -> None:
    """₹1,22,990 collected against ₹2,00,000 due is 61.495%: the server's 6,150 basis points
    rounded again would read 62%, a point more than the counts beside it give."""
    row = score(
        "2026-11-16",
        "c1",
        "Anil Kumar",
        5_000,
        1,
        due_paise=2_00_000_00,
        collected_paise=1_22_990_00,
        efficiency_bp=6_150,
    )
    performance = parse_performance({"weeks": WEEKS, "rows": [row]})
    (found,) = performance.latest
    assert table_row(performance, found, {})[6] == "61%"
    assert "against ₹2,00,000.00 due (arrears carried in and installments falling due) (61%)" in (
        details_text(performance, found)
    )
    assert factor_text(6_150) == "62%"


def test_a_rescored_week_shows_its_reason_and_the_version_it_superseded() -> None:
    rows = [
        score(
            "2026-11-16",
            "c2",
            "Priya Menon",
            4_247,
            1,
            version=2,
            collected_paise=16_332_700,
            prepaid_paise=1_05_382_700,
            rescored_by="Head office admin",
            reason="foreclosure principal was counted as collected",
        ),
        score("2026-11-16", "c2", "Priya Menon", 8_507, None, version=1, latest=False),
    ]
    performance = parse_performance({"weeks": WEEKS, "rows": rows})
    (row,) = performance.latest
    assert row.version == 2
    assert table_row(performance, row, {})[10] == "42.47*"
    assert performance.trend("c2") == (None, None, 4_247)
    details = details_text(performance, row).splitlines()
    assert details[-2] == (
        "* Rescored (version 2) by Head office admin: "
        "foreclosure principal was counted as collected"
    )
    assert details[-1] == (
        "Version 1: score 85.07, collected ₹1,80,000.00 against ₹2,40,000.00 due."
    )
