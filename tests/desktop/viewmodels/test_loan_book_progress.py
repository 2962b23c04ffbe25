"""The desk reads the server's import job: the share done, the step, and how it ended, in the
words the Loan book screen shows."""

from __future__ import annotations

from typing import Any

import pytest

from desktop.viewmodels.loan_book import parse_progress
from desktop.viewmodels.online import UnexpectedAnswer

RESULT = {
    "dry_run": False,
    "written": True,
    "loans": 120000,
    "schedule_rows": 2880000,
    "payments": 1440000,
    "problem_count": 0,
    "problems": [],
    "as_of": "2026-11-26",
}


def _job(**changes: Any) -> dict[str, Any]:
    job = {
        "id": "j1",
        "state": "running",
        "phase": "writing",
        "done": 2,
        "total": 8,
        "percent": 65,
        "words": "Writing loans: 2 of 8",
        "cancel_asked": False,
        "cancel_too_late": False,
        "error": None,
        "error_code": None,
        "result": None,
    }
    return job | changes


def test_a_running_job_is_its_share_and_words() -> None:
    progress = parse_progress(_job())
    assert progress.running
    assert (progress.percent, progress.words, progress.answer) == (
        65,
        "Writing loans: 2 of 8",
        None,
    )


def test_a_finished_import_ends_with_its_summary_in_indian_grouping() -> None:
    progress = parse_progress(_job(state="finished", percent=100, result=RESULT))
    assert not progress.running
    assert progress.ending == (
        "Imported 1,20,000 loans, 28,80,000 schedule rows, 14,40,000 payments; delinquency "
        "settled as of the day-end of 26-11-2026."
    )


def test_a_cancel_that_came_after_the_commit_says_the_loans_went_in() -> None:
    progress = parse_progress(
        _job(state="finished", percent=100, cancel_asked=True, cancel_too_late=True, result=RESULT)
    )
    assert progress.ending.startswith("The import had already gone in when the cancel reached")


def test_a_cancelled_or_failed_job_says_nothing_was_written() -> None:
    assert parse_progress(_job(state="cancelled")).ending == "Cancelled: nothing was written."
    failed = parse_progress(_job(state="failed", error="x.xlsx is not an Excel workbook"))
    assert failed.ending == "Stopped, nothing was written: x.xlsx is not an Excel workbook"


@pytest.mark.parametrize("bad", [_job(state="paused"), _job(percent="65"), {"id": "j1"}, []])
def test_an_answer_the_desk_cannot_read_is_said_so(bad: Any) -> None:
    with pytest.raises(UnexpectedAnswer):
        parse_progress(bad)
