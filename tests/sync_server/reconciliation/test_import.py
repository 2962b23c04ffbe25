"""Importing statement files into the system of record, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

import main
from sync_server.db.engine import Database
from sync_server.db.models import (
    AuditEntry,
    BankAccount,
    BankLine,
    FeatureFlag,
    StatementImport,
)
from sync_server.errors import FeatureDisabled
from sync_server.principal import SYSTEM
from sync_server.reconciliation.cli import import_statement_command
from sync_server.reconciliation.matches import match_bank_lines
from sync_server.reconciliation.service import ImportReport, import_statement_file
from sync_server.reconciliation.statements import StatementRefused
from tests.sync_server.reconciliation.shared_fixtures import bank_statements, shared_file

HEADER = "Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,Closing Balance\n"
ROWS = [
    "27/11/26,NEFT CR-SBIN0001234-RAMESH KUMAR-SBINN52026112712345678,SBINN52026112712345678,27/11/26,,2500.00,102500.00",
    "27/11/26,BY CASH DEP SLIP 00123 PUNE CAMP,00123,27/11/26,,12750.00,115250.00",
    "28/11/26,BY CASH DEP SLIP 00123 PUNE CAMP,00123,28/11/26,,12750.00,128000.00",
    "28/11/26,UPI/330112345678/sunita.rao@okaxis/SUNITA RAO,330112345678,28/11/26,,3125.00,131125.00",
    "29/11/26,IMPS/P2A/330212345678/ANIL PATIL,330212345678,29/11/26,,1875.50,133000.50",
    "30/11/26,CHQ DEP 000456 VIJAY SHARMA,000456,01/12/26,,5000.00,138000.50",
    "30/11/26,CHQ RETURN CHGS 000456,0,30/11/26,590.00,,137410.50",
]


def hdfc(rows: list[str]) -> bytes:
    return (HEADER + "\n".join(rows) + "\n").encode()


def run_import(db: Database, data: bytes, account: str | None = "HDFC-PNC") -> ImportReport:
    with db.unit_of_work() as session:
        return import_statement_file(
            session, data=data, file_name="statement.csv", account_code=account, actor=SYSTEM
        )


def counts(db: Database) -> tuple[int, int, int, int]:
    with db.unit_of_work() as session:
        return (
            session.scalar(select(func.count()).select_from(BankAccount)) or 0,
            session.scalar(select(func.count()).select_from(StatementImport)) or 0,
            session.scalar(select(func.count()).select_from(BankLine)) or 0,
            session.scalar(select(func.count()).select_from(AuditEntry)) or 0,
        )


def test_a_statement_imported_twice_adds_its_lines_once(db: Database) -> None:
    first = run_import(db, hdfc(ROWS))
    assert (first.added, first.already_there, first.new_accounts) == (7, 0, ("HDFC-PNC",))
    again = run_import(db, hdfc(ROWS))
    assert (again.added, again.already_there, again.new_accounts) == (0, 7, ())
    assert counts(db) == (1, 2, 7, 2)


def test_an_overlapping_statement_adds_only_the_lines_not_yet_there(db: Database) -> None:
    run_import(db, hdfc(ROWS[:4]))
    overlap = run_import(db, hdfc(ROWS[2:]))
    assert (overlap.added, overlap.already_there) == (3, 2)
    with db.unit_of_work() as session:
        amounts = session.scalars(select(BankLine.amount_paise).order_by(BankLine.id)).all()
    assert amounts == [250000, 1275000, 1275000, 312500, 187550, 500000, -59000]


def test_two_identical_credits_in_one_statement_are_both_kept(db: Database) -> None:
    rows = [
        "27/11/26,X,,27/11/26,,0.50,100000.50",
        "27/11/26,BY CASH DEP SLIP 00123 PUNE CAMP,00123,27/11/26,,12750.00,112750.50",
        "27/11/26,BY CASH DEP SLIP 00123 PUNE CAMP,00123,27/11/26,,12750.00,125500.50",
    ]
    assert run_import(db, hdfc(rows)).added == 3
    assert run_import(db, hdfc(rows)).added == 0


def test_a_malformed_file_changes_nothing(db: Database) -> None:
    run_import(db, hdfc(ROWS))
    before = counts(db)
    broken = hdfc([*ROWS[:-1], ROWS[-1].replace("137410.50", "137410.00")])
    with pytest.raises(StatementRefused, match=r"^line 8: balance 137410\.00 after this line"):
        run_import(db, broken)
    assert counts(db) == before


def test_a_file_refused_in_its_second_statement_keeps_nothing_of_the_first(db: Database) -> None:
    eur = run_import(db, shared_file("mt940/jejik/generic.sta"), account=None)
    assert (eur.added, eur.new_accounts) == (2, ("11111111",))
    before = counts(db)
    second = ":20:B\n:25:11111111\n:28C:1\n:60F:C261127INR10,00\n:62F:C261127INR10,00\n-\n"
    first = ":20:A\n:25:NEWACC1\n:28C:1\n:60F:C261127INR10,00\n"
    first += ":61:2611271127CR5,00NTRFNONREF\n:86:NEFT-X\n:62F:C261127INR15,00\n-\n"
    with pytest.raises(StatementRefused, match="bank account 11111111 is in EUR, the statement"):
        run_import(db, (first + second).encode(), account=None)
    assert counts(db) == before


def test_a_statement_without_its_account_needs_one_named(db: Database) -> None:
    with pytest.raises(StatementRefused, match="does not name its bank account; give one with"):
        run_import(db, hdfc(ROWS), account=None)
    assert counts(db) == (0, 0, 0, 0)


def test_a_statement_for_another_account_number_is_refused(db: Database) -> None:
    run_import(db, shared_file("mt940/jejik/generic.sta"), account="EURO")
    with pytest.raises(StatementRefused, match="the file holds statements of 3 accounts"):
        run_import(db, shared_file("mt940/cmxl/mt940.sta"), account="EURO")
    other = shared_file("mt940/jejik/generic.sta").replace(b"11111111", b"22222222")
    with pytest.raises(StatementRefused, match=r"is for account 22222222, not EURO \(11111111\)"):
        run_import(db, other, account="EURO")


def test_lines_in_other_currencies_are_imported_each_to_its_account(db: Database) -> None:
    report = run_import(db, shared_file("mt940/cmxl/mt940.sta"), account=None)
    assert [(s.account_code, s.currency, s.added) for s in report.statements] == [
        ("45050050/76198810", "DEM", 11),
        ("10020030/1234567", "EUR", 2),
        ("BPHKPLPK/320000546101", "PLN", 3),
    ]


def test_bank_lines_are_append_only_in_the_database(db: Database) -> None:
    run_import(db, hdfc(ROWS))
    for verb, statement in (
        ("UPDATE", "UPDATE bank_lines SET amount_paise = 1"),
        ("DELETE", "DELETE FROM bank_lines"),
    ):
        refusal = f"bank_lines is append-only: {verb} refused"
        with pytest.raises(DBAPIError, match=refusal), db.engine.begin() as conn:
            conn.execute(text(statement))


def test_the_command_prints_what_it_added_and_found(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "hdfc.csv"
    path.write_bytes(hdfc(ROWS))
    out = io.StringIO()
    assert import_statement_command(db, str(path), "hdfc-pnc", out) == 0
    assert out.getvalue().splitlines() == [
        "new bank account HDFC-PNC",
        "HDFC-PNC (INR) 27-11-2026 to 01-12-2026: 7 lines added, 0 already there",
        "hdfc.csv: 7 lines added, 0 already there",
        "matching: 0 matched automatically; queues: 6 unidentified, 0 missing in bank, "
        "0 cash receipts in hand past a working day, 0 in another currency (never matched)",
    ]
    out = io.StringIO()
    assert import_statement_command(db, str(path), "HDFC-PNC", out) == 0
    assert out.getvalue().splitlines()[-2:] == [
        "hdfc.csv: 0 lines added, 7 already there",
        "matching: this file was reconciled already; nothing new to match",
    ]


def test_the_command_refuses_a_bad_file_with_its_reason(db: Database) -> None:
    out = io.StringIO()
    bad = bank_statements() / "mt940" / "self-provided" / "february_30.sta"
    assert import_statement_command(db, str(bad), None, out) == 1
    assert out.getvalue() == (
        "refused: february_30.sta: line 6: 160230 is not a calendar date; nothing was imported\n"
    )
    out = io.StringIO()
    assert import_statement_command(db, str(bad.with_name("absent.sta")), None, out) == 2
    assert out.getvalue().startswith("refused: cannot read ")


def test_main_py_import_statement_runs_the_import(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    file = bank_statements() / "camt053" / "camt053.v2.multi.statement.xml"
    assert main.main(["import", "statement", str(file), "--db", database_url]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        "new bank account NL26VAYB8060476890",
        "NL26VAYB8060476890 (EUR) 02-01-2015 to 02-01-2015: 1 line added, 0 already there",
        "NL26VAYB8060476890 (EUR) 02-01-2015 to 02-01-2015: 1 line added, 0 already there",
        "camt053.v2.multi.statement.xml: 2 lines added, 0 already there",
        "matching: 0 matched automatically; queues: 0 unidentified, 0 missing in bank, "
        "0 cash receipts in hand past a working day, 2 in another currency (never matched)",
    ]


def test_the_reconciliation_kill_switch_stops_imports_and_matching(
    db: Database, tmp_path: Path
) -> None:
    with db.unit_of_work() as session:
        session.add(FeatureFlag(key="reconciliation", enabled=False))
    before = counts(db)
    with pytest.raises(FeatureDisabled, match="kill switch 'reconciliation'"):
        run_import(db, hdfc(ROWS))
    with (
        pytest.raises(FeatureDisabled, match="kill switch 'reconciliation'"),
        db.unit_of_work() as session,
    ):
        match_bank_lines(session)
    assert counts(db) == before
    path = tmp_path / "hdfc.csv"
    path.write_bytes(hdfc(ROWS))
    out = io.StringIO()
    assert import_statement_command(db, str(path), "HDFC", out) == 1
    assert out.getvalue() == (
        "refused: hdfc.csv: Bank statement import and matching is switched off by an "
        "administrator (kill switch 'reconciliation'); nothing was imported\n"
    )
    with db.unit_of_work() as session:
        flag = session.get(FeatureFlag, "reconciliation")
        assert flag is not None
        flag.enabled = True
    assert run_import(db, hdfc(ROWS)).added == 7


def test_the_import_stands_when_matching_after_it_is_refused(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Switched off between the two transactions: the lines stay, the command says so."""

    def switched_off(*_: object, **__: object) -> None:
        raise FeatureDisabled("matching is switched off")

    monkeypatch.setattr("sync_server.reconciliation.cli.reconcile_import", switched_off)
    path = tmp_path / "hdfc.csv"
    path.write_bytes(hdfc(ROWS))
    out = io.StringIO()
    assert import_statement_command(db, str(path), "HDFC", out) == 1
    assert out.getvalue().splitlines()[-1] == "matching not run: matching is switched off"
    assert counts(db)[2] == 7


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"27/11/26,{'N' * 1001},,27/11/26,,1.00,100001.00", "line 2: narration longer than 1000"),
        (f"27/11/26,NEFT,{'R' * 65},27/11/26,,1.00,100001.00", "line 2: reference longer than 64"),
        ("27/11/26,NEFT\x00X,,27/11/26,,1.00,100001.00", "line 2: a NUL character in the text"),
    ],
)
def test_a_line_the_database_cannot_hold_whole_is_refused_before_anything_is_written(
    db: Database, row: str, message: str
) -> None:
    with pytest.raises(StatementRefused, match=f"^{message}"):
        run_import(db, hdfc([row]))
    assert counts(db) == (0, 0, 0, 0)
