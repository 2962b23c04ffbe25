"""Landing pulled pages through the driver (`desktop.cache.apply`): the rows written are the
ones every screen reads, written out here by hand; landing a page again changes nothing; a
removal takes a loan and everything under it, however many ids it names; and a page that
fails half way lands nothing."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from desktop.cache.models import (
    CacheBase,
    CachedContact,
    CachedDispute,
    CachedInstallment,
    CachedLegalCase,
    CachedLegalNote,
    CachedLoan,
    CachedPayment,
    CachedPromise,
    CachedReminder,
    LoanSearchTerm,
)
from desktop.cache.store import Cache
from tests.desktop.cache.landing_bench import main as bench_main
from tests.desktop.cache.pages import loan_id, loan_page, server_loan, tombstone, upsert

COLLECTOR = "0190a000-0000-7000-8000-00000000c011"
L1 = "0190a000-0000-7000-8000-0000000000a1"
L2 = "0190a000-0000-7000-8000-0000000000a2"


@pytest.fixture
def cache(tmp_path: Path) -> Iterator[Cache]:
    store = Cache(tmp_path / "cache.db")
    yield store
    store.close()


def _installment(seq: int, due: str, principal: int, paid: int) -> dict[str, Any]:
    return {
        "seq": seq,
        "due_date": due,
        "principal_due": principal,
        "interest_due": 1_200_00,
        "principal_paid": paid,
        "interest_paid": 1_200_00 if paid else 0,
    }


LOAN_1 = {
    "id": L1,
    "account_no": "LN0000123",
    "borrower_name": "Ramesh Kumār",
    "outstanding_paise": 80_000_00,
    "branch_id": 2,
    "collector_id": COLLECTOR,
    "status": "active",
    "collections_since": "2026-11-17",
    "overdue_since": "2026-11-17",
    "bucket": "1-30",
    "next_due_date": "2026-12-05",
    "dispute_open": False,
    "closed_on": None,
    "borrower": {"id": "b-1", "phone": "98450 00000"},
    "installments": [
        _installment(1, "2026-11-05", 10_000_00, 10_000_00),
        _installment(2, "2026-12-05", 10_000_00, 0),
    ],
}
"""A loan as the server sends it: `borrower_name` and `outstanding_paise`."""

LOAN_2 = {
    "id": L2,
    "account_no": "LN0000007",
    "borrower": {"name": "Anita Rao"},
    "principal_outstanding": 5_000_00,
    "branch_id": 1,
    "collector_id": None,
    "status": "closed",
    "installments": [],
}
"""A loan in the older spelling (`borrower.name`, `principal_outstanding`), no schedule left,
and no delinquency dates, bucket or next due date."""

PAYMENT = {
    "id": "P1",
    "loan_id": L1,
    "amount_paise": 11_200_00,
    "payment_date": "2026-11-04",
    "mode": "upi",
    "reference": "UPI/7781",
}
PROMISE = {"id": "R1", "loan_id": L1, "amount_paise": 5_000_00, "promised_date": "2026-12-01"}
DISPUTE = {"id": "D1", "loan_id": L1, "reason": "Amount wrong", "status": "open"}
LEGAL_CASE = {"id": "C1", "loan_id": L1, "status": "open", "court": "Bengaluru"}
LEGAL_NOTE = {"id": "N1", "case_id": "C1", "loan_id": L1, "note": "Hearing moved"}
REMINDER = {"id": "7", "loan_id": L1, "kind": "promise_due", "remind_on": "2026-12-01"}
CONTACT = {"id": "K1", "loan_id": L2, "kind": "call", "outcome": "no_answer"}

SMALL_PAGE = [
    upsert("loan", LOAN_1),
    upsert("loan", LOAN_2),
    upsert("payment", PAYMENT),
    upsert("promise", PROMISE),
    upsert("dispute", DISPUTE),
    upsert("legal_case", LEGAL_CASE),
    upsert("legal_note", LEGAL_NOTE),
    upsert("reminder", REMINDER),
    upsert("contact_log", CONTACT),
]

EXPECTED: dict[str, set[Any]] = {
    "loans": {
        (
            L1,
            "LN0000123",
            2,
            COLLECTOR,
            "active",
            "2026-11-17",
            "1-30",
            "ramesh kumār",
            80_000_00,
            "2026-12-05",
        ),
        (L2, "LN0000007", 1, None, "closed", None, "current", "anita rao", 5_000_00, "9999-12-31"),
    },
    "installments": {
        (L1, 1, "2026-11-05", 10_000_00, 10_000_00),
        (L1, 2, "2026-12-05", 10_000_00, 0),
    },
    "loan_search_terms": {
        ("ramesh", L1),
        ("kumār", L1),
        ("ln0000123", L1),
        ("0000123", L1),
        ("123", L1),
        ("anita", L2),
        ("rao", L2),
        ("ln0000007", L2),
        ("0000007", L2),
        ("7", L2),
    },
    "payments": {("P1", L1, 11_200_00, "2026-11-04", "synced")},
    "promises": {("R1", L1)},
    "disputes": {("D1", L1)},
    "legal_cases": {("C1", L1)},
    "legal_notes": {("N1", L1)},
    "reminders": {("7", L1)},
    "contact_logs": {("K1", L2)},
}
"""The columns of each table after `SMALL_PAGE` lands (`data` is checked on its own)."""

CHILDREN: dict[str, type[CacheBase]] = {
    "promises": CachedPromise,
    "disputes": CachedDispute,
    "legal_cases": CachedLegalCase,
    "legal_notes": CachedLegalNote,
    "reminders": CachedReminder,
    "contact_logs": CachedContact,
}


def _rows(cache: Cache) -> dict[str, list[Any]]:
    """Every pulled table's rows as the screens read them (through the models, so `data` is
    decoded), sorted, duplicates kept: a repeated row would show."""
    with cache.transaction() as session:
        tables: dict[str, list[Any]] = {
            "loans": [
                (
                    row.id,
                    row.account_no,
                    row.branch_id,
                    row.collector_id,
                    row.status,
                    row.collections_since,
                    row.bucket,
                    row.borrower_key,
                    row.outstanding_paise,
                    row.next_due,
                    row.data,
                )
                for row in session.execute(select(CachedLoan)).scalars()
            ],
            "installments": [
                (row.loan_id, row.seq, row.due_date, row.data)
                for row in session.execute(select(CachedInstallment)).scalars()
            ],
            "loan_search_terms": [
                (row.term, row.loan_id) for row in session.execute(select(LoanSearchTerm)).scalars()
            ],
            "payments": [
                (row.id, row.loan_id, row.amount_paise, row.payment_date, row.sync_state, row.data)
                for row in session.execute(select(CachedPayment)).scalars()
            ],
        }
        for name, model in CHILDREN.items():
            tables[name] = [
                (row.id, row.loan_id, row.data)  # type: ignore[attr-defined]
                for row in session.execute(select(model)).scalars()
            ]
    ordered = {name: sorted(rows, key=repr) for name, rows in tables.items()}
    ordered["installments"] = sorted(tables["installments"], key=lambda row: row[:2])
    return ordered


def _columns(rows: dict[str, list[Any]]) -> dict[str, set[Any]]:
    """The plain columns of `_rows`: an installment's amounts are read out of its `data`."""
    plain: dict[str, set[Any]] = {}
    for name, table in rows.items():
        if name == "installments":
            plain[name] = {
                (loan, seq, due, data["principal_due"], data["principal_paid"])
                for loan, seq, due, data in table
            }
        elif name == "loan_search_terms":
            plain[name] = set(table)
        else:
            plain[name] = {row[:-1] for row in table}
    return plain


def test_a_small_page_lands_exactly_the_rows_the_screens_read(cache: Cache) -> None:
    sent = copy.deepcopy(SMALL_PAGE)
    cache.apply_changes(sent, 5)
    assert sent == SMALL_PAGE, "landing must not change the page it was given"
    rows = _rows(cache)
    assert _columns(rows) == EXPECTED
    loans = {row[0]: row[-1] for row in rows["loans"]}
    assert loans[L1] == {
        **LOAN_1,
        "borrower": {"id": "b-1", "phone": "98450 00000", "name": "Ramesh Kumār"},
        "principal_outstanding": 80_000_00,
    }
    assert loans[L2] == {
        **LOAN_2,
        "borrower": {"name": "Anita Rao"},
        "borrower_name": "Anita Rao",
        "outstanding_paise": 5_000_00,
    }
    # Each installment row keeps its element of the loan's schedule whole.
    assert [row[3] for row in rows["installments"]] == LOAN_1["installments"]
    assert rows["payments"][0][-1] == PAYMENT
    sent_children = {
        "promises": PROMISE,
        "disputes": DISPUTE,
        "legal_cases": LEGAL_CASE,
        "legal_notes": LEGAL_NOTE,
        "reminders": REMINDER,
        "contact_logs": CONTACT,
    }
    for name, data in sent_children.items():
        assert [row[-1] for row in rows[name]] == [data], name
    assert cache.cursor() == 5


def test_landing_the_same_page_again_leaves_the_same_rows_and_no_duplicates(
    cache: Cache,
) -> None:
    cache.apply_changes(SMALL_PAGE, 5)
    first = _rows(cache)
    cache.apply_changes(SMALL_PAGE, 5)
    assert _rows(cache) == first
    assert len(first["installments"]) == 2
    assert len(first["loan_search_terms"]) == 10


def test_a_page_that_changes_a_loan_replaces_its_schedule_and_search_terms(
    cache: Cache,
) -> None:
    cache.apply_changes(SMALL_PAGE, 5)
    rescheduled = {
        **LOAN_1,
        "borrower_name": "Ramesh Iyer",
        "outstanding_paise": 79_000_00,
        "installments": [_installment(1, "2027-01-05", 79_000_00, 0)],
    }
    cache.apply_changes([upsert("loan", rescheduled)], 6)
    plain = _columns(_rows(cache))
    assert plain["installments"] == {(L1, 1, "2027-01-05", 79_000_00, 0)}
    assert {term for term, loan in plain["loan_search_terms"] if loan == L1} == {
        "ramesh",
        "iyer",
        "ln0000123",
        "0000123",
        "123",
    }
    (row,) = [row for row in plain["loans"] if row[0] == L1]
    assert (row[7], row[8]) == ("ramesh iyer", 79_000_00)


def test_a_loan_tombstone_removes_the_loan_and_everything_under_it(cache: Cache) -> None:
    cache.apply_changes(SMALL_PAGE, 5)
    cache.apply_changes([tombstone("loan", L1)], 6)
    plain = _columns(_rows(cache))
    assert plain == {
        **{name: set() for name in EXPECTED},
        "loans": {row for row in EXPECTED["loans"] if row[0] == L2},
        "loan_search_terms": {row for row in EXPECTED["loan_search_terms"] if row[1] == L2},
        "contact_logs": {("K1", L2)},
    }


def test_tombstones_of_single_entities_remove_only_those_rows(cache: Cache) -> None:
    cache.apply_changes(SMALL_PAGE, 5)
    cache.apply_changes(
        [tombstone("payment", "P1"), tombstone("promise", "R1"), tombstone("reminder", "7")], 6
    )
    plain = _columns(_rows(cache))
    assert plain == {**EXPECTED, "payments": set(), "promises": set(), "reminders": set()}


def test_one_removal_takes_more_ids_than_sqlite_binds_in_one_statement(cache: Cache) -> None:
    """SQLite binds at most 32,766 values to a statement; a removal sends its ids as one JSON
    parameter, so even a whole branch leaving a user's view is one DELETE per table."""
    cache.apply_changes(loan_page(0, 3, tenure=4), 1)
    gone = [tombstone("loan", loan_id(n)) for n in range(40_000)]
    cache.apply_changes(gone, 2)
    assert _rows(cache) == {name: [] for name in EXPECTED}


def test_a_page_that_fails_half_way_lands_nothing_and_keeps_the_cursor(cache: Cache) -> None:
    broken = {key: value for key, value in PAYMENT.items() if key != "amount_paise"}
    with pytest.raises(KeyError):
        cache.apply_changes([upsert("loan", LOAN_1), upsert("payment", broken)], 9)
    assert _rows(cache) == {name: [] for name in EXPECTED}
    assert cache.cursor() == 0


def test_pending_work_under_a_landed_loan_is_kept_and_a_server_copy_overrides_it(
    cache: Cache,
) -> None:
    """A payment entered here waits as `pending`; the server's copy of it (same id) is the
    record from then on. A loan landing again never touches payments at all."""

    def pending(session: Any) -> None:
        session.add(
            CachedPayment(
                id="P1",
                loan_id=L1,
                amount_paise=11_200_00,
                payment_date="2026-11-04",
                sync_state="pending",
                data={"entered_here": True},
            )
        )

    cache.enqueue({"id": "P1", "type": "payment", "payload": {}}, also=pending)
    cache.apply_changes([upsert("loan", LOAN_1)], 2)
    assert [(p.id, p.sync_state) for p in cache.payments()] == [("P1", "pending")]
    cache.apply_changes([upsert("payment", PAYMENT)], 3)
    assert [(p.id, p.sync_state, p.data) for p in cache.payments()] == [("P1", "synced", PAYMENT)]


def test_a_server_shaped_page_lands_every_installment(cache: Cache) -> None:
    page = loan_page(0, 30, tenure=24)
    cache.apply_changes(page, 1)
    rows = _rows(cache)
    assert len(rows["loans"]) == 30
    assert len(rows["installments"]) == 30 * 24
    one = server_loan(0)
    assert [row[3] for row in rows["installments"] if row[0] == one["id"]] == one["installments"]


def test_the_landing_benchmark_runs_at_a_tiny_size(capsys: pytest.CaptureFixture[str]) -> None:
    result = bench_main(["--loans", "20", "--pages", "2", "--installments", "3"])
    assert (result.loans, result.pages, result.installments) == (20, 2, 3)
    assert len(result.first_s) == 2
    assert result.median_s > 0
    assert result.again_s > 0
    assert "2 pages of 20 loans x 3 installments" in capsys.readouterr().out
