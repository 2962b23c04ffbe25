"""GET /loans/{id}/history: a loan's DPD, bucket, class and arrears at each day-end, guarded
and scoped like the loan detail, over a bounded range."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sync_server.jobs import tasks
from tests.sync_server.jobs.portfolio import clock_after
from tests.sync_server.loans.portfolio import TODAY, Book

ACCOUNT = "PNC000002"


def test_the_history_gives_each_day_end_from_the_loan_history(book: Book) -> None:
    first, last = TODAY - timedelta(days=3), TODAY - timedelta(days=1)
    for day in (first, first + timedelta(days=1), last):
        tasks.run_day_end(book.db, day, clock_after(day))
    loan_id = book.loans[ACCOUNT]
    detail = book.get(f"/loans/{loan_id}", "a1").json()["position"]

    response = book.get(
        f"/loans/{loan_id}/history",
        "a1",
        **{"from": (first - timedelta(days=1)).isoformat(), "to": last.isoformat()},
    )

    assert response.status_code == 200, response.text
    days = response.json()["days"]
    assert [d["day"] for d in days] == [
        (first + timedelta(days=n)).isoformat() for n in range(-1, 3)
    ]
    assert days[0] == {
        "day": (first - timedelta(days=1)).isoformat(),
        "in_book": False,
        "dpd": 0,
        "collections_dpd": 0,
        "bucket": None,
        "asset_class": None,
        "arrears_paise": 0,
    }
    assert [d["in_book"] for d in days[1:]] == [True, True, True]
    assert (days[-1]["dpd"], days[-1]["bucket"], days[-1]["asset_class"]) == (
        detail["dpd"],
        detail["bucket"],
        detail["asset_class"],
    )
    assert days[-1]["arrears_paise"] == detail["arrears_paise"]
    if detail["dpd"]:
        assert days[-2]["dpd"] == detail["dpd"] - 1


def test_the_history_is_guarded_like_the_loan_detail(book: Book) -> None:
    loan_id = book.loans[ACCOUNT]
    assert book.get(f"/loans/{loan_id}/history", "a2").status_code == 403
    assert book.get(f"/loans/{uuid.uuid4()}/history", "a1").status_code == 404
    assert book.get(f"/loans/{loan_id}/history", "admin").status_code == 200


def test_a_backwards_overlong_or_unreadable_range_is_refused(book: Book) -> None:
    path = f"/loans/{book.loans[ACCOUNT]}/history"
    backwards = book.get(path, "a1", **{"from": "2026-11-20", "to": "2026-11-10"})
    overlong = book.get(path, "a1", **{"from": "2025-01-01", "to": "2026-11-10"})
    unreadable = book.get(path, "a1", **{"from": "20-11-2026"})
    assert [r.status_code for r in (backwards, overlong, unreadable)] == [422, 422, 422]
    assert "must not be after" in backwards.json()["detail"]
    assert "366 days" in overlong.json()["detail"]
