"""Importing bank statements: every line of a file stored once, or nothing stored at all.

The caller's unit of work is the boundary: a refused file raises before the first write, and
an error part-way (say, the second statement's account is in another currency) rolls the
whole file back. A line already present for the account (same fingerprint) is counted, not
added, so the same statement imported twice, or two statements that overlap, add no line twice.
The same transaction queues the file's reconciliation run in the job ledger (tasks.py), so a
stored line is never left without a run asked for it, whoever holds the job at the time.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, select, text
from sqlalchemy.orm import Session

from sync_server.audit import service as audit
from sync_server.banks.service import find_by_number, same_number
from sync_server.db.models import BankAccount, BankLine, StatementImport
from sync_server.db.types import utcnow
from sync_server.flags.service import require_enabled
from sync_server.principal import SYSTEM, Principal
from sync_server.reconciliation.statements import (
    ColumnMapping,
    Statement,
    StatementLine,
    StatementRefused,
    read_statement,
)
from sync_server.reconciliation.tasks import queue_import

NARRATION_LIMIT = 1000
REFERENCE_LIMIT = 64
_LOOKUP_CHUNK = 500
_IMPORT_LOCK = int.from_bytes(
    hashlib.sha256(b"loandesk:statement-import").digest()[:8], "big", signed=True
)


@dataclass(frozen=True)
class ImportedStatement:
    account_code: str
    currency: str
    first_date: date | None
    last_date: date | None
    added: int
    already_there: int


@dataclass(frozen=True)
class ImportReport:
    file_name: str
    statements: tuple[ImportedStatement, ...]
    new_accounts: tuple[str, ...]

    @property
    def added(self) -> int:
        return sum(s.added for s in self.statements)

    @property
    def already_there(self) -> int:
        return sum(s.already_there for s in self.statements)


def line_fingerprints(statement: Statement) -> list[str]:
    """Each line's identity within its account: its content, and which repeat of it it is.

    Two identical lines in one statement (two cash deposits of the same amount with the same
    narration on one day) are two credits, told apart by their order of appearance.
    """
    seen: Counter[str] = Counter()
    prints = []
    for line in statement.lines:
        content = "|".join(
            (
                line.booked_on.isoformat(),
                line.value_date.isoformat(),
                str(line.amount),
                statement.currency,
                " ".join(line.narration.upper().split()),
                (line.reference or "").strip().upper(),
            )
        )
        seen[content] += 1
        digest = hashlib.sha256(f"{content}|{seen[content]}".encode()).hexdigest()
        prints.append(digest)
    return prints


def import_statement_file(
    session: Session,
    *,
    data: bytes,
    file_name: str,
    account_code: str | None,
    actor: Principal | None,
    mapping: ColumnMapping | None = None,
) -> ImportReport:
    require_enabled(session, "reconciliation")
    statements = read_statement(data, mapping)
    for statement in statements:
        for line in statement.lines:
            _check_fits(line)
    accounts = {s.account for s in statements}
    if account_code and len(accounts) > 1:
        raise StatementRefused(
            f"line 1: the file holds statements of {len(accounts)} accounts; "
            "import it without --account so each goes to its own"
        )
    _one_import_at_a_time(session)
    file_sha = hashlib.sha256(data).hexdigest()
    new_accounts: list[str] = []
    imported = []
    for statement in statements:
        account, created = _account(session, statement, account_code)
        if created:
            new_accounts.append(account.code)
        imported.append(_store(session, account, statement, file_name, file_sha, actor))
    report = ImportReport(file_name, tuple(imported), tuple(new_accounts))
    audit.record(
        session,
        actor=actor,
        action="statement.import",
        entity="statement_file",
        entity_id=file_sha,
        after={
            "file": file_name,
            "accounts": sorted({s.account_code for s in imported}),
            "lines_added": report.added,
            "lines_already_there": report.already_there,
        },
    )
    queue_import(session, file_sha)
    return report


def _one_import_at_a_time(session: Session) -> None:
    """Two imports of one file at once (finance uploads it while the operator runs the
    command) would each find its lines absent and the second would die on the fingerprint
    index. On PostgreSQL the imports queue on a lock held to the end of the transaction, so
    the second finds the first's lines already there; SQLite's writers already queue
    (BEGIN IMMEDIATE). Imports are a few a day: one queue for all of them costs nothing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _IMPORT_LOCK})


def _check_fits(line: StatementLine) -> None:
    if len(line.narration) > NARRATION_LIMIT:
        raise StatementRefused(
            f"{line.position}: narration longer than {NARRATION_LIMIT} characters"
        )
    if line.reference and len(line.reference) > REFERENCE_LIMIT:
        raise StatementRefused(
            f"{line.position}: reference longer than {REFERENCE_LIMIT} characters"
        )
    if "\x00" in line.narration or "\x00" in (line.reference or ""):
        raise StatementRefused(f"{line.position}: a NUL character in the text")


def _account(session: Session, statement: Statement, code: str | None) -> tuple[BankAccount, bool]:
    """The account the statement goes into: the one named, else the one set up with the
    statement's number (in whatever spelling the bank uses), else a bare new one."""
    if code is None and not statement.account:
        raise StatementRefused(
            "line 1: this statement does not name its bank account; give one with --account"
        )
    wanted = code.strip().upper() if code else None
    by_number = find_by_number(session, statement.account)
    if wanted is not None:
        account = session.execute(
            select(BankAccount).where(BankAccount.code == wanted)
        ).scalar_one_or_none()
        if account is None and by_number is not None:
            raise StatementRefused(
                f"line 1: the statement is for account {statement.account}, set up as "
                f"{by_number.code}; import it with --account {by_number.code} or without --account"
            )
    else:
        account = by_number
    created = account is None
    if account is None:
        account = BankAccount(
            code=wanted or (statement.account or "")[:32],
            account_no=statement.account,
            currency=statement.currency,
            created_at=utcnow(),
            active=True,
        )
        session.add(account)
        session.flush()
    if account.currency != statement.currency:
        raise StatementRefused(
            f"line 1: bank account {account.code} is in {account.currency}, "
            f"the statement in {statement.currency}"
        )
    if (
        statement.account
        and account.account_no
        and not same_number(statement.account, account.account_no)
    ):
        raise StatementRefused(
            f"line 1: the statement is for account {statement.account}, "
            f"not {account.code} ({account.account_no})"
        )
    return account, created


def _store(
    session: Session,
    account: BankAccount,
    statement: Statement,
    file_name: str,
    file_sha: str,
    actor: Principal | None,
) -> ImportedStatement:
    prints = line_fingerprints(statement)
    present = _present(session, account.id, prints)
    fresh = [
        (line, fingerprint)
        for line, fingerprint in zip(statement.lines, prints, strict=True)
        if fingerprint not in present
    ]
    dates = [line.value_date for line in statement.lines]
    record = StatementImport(
        bank_account_id=account.id,
        file_name=file_name[:255],
        file_sha256=file_sha,
        statement_ref=(statement.statement_id or "")[:64] or None,
        currency=statement.currency,
        opening_balance=statement.opening_balance,
        closing_balance=statement.closing_balance,
        first_date=min(dates, default=None),
        last_date=max(dates, default=None),
        lines_added=len(fresh),
        lines_already_there=len(prints) - len(fresh),
        imported_by=_user_id(actor),
        imported_at=utcnow(),
    )
    session.add(record)
    session.flush()
    if fresh:
        now = utcnow()
        session.execute(
            insert(BankLine),
            [
                {
                    "bank_account_id": account.id,
                    "fingerprint": fingerprint,
                    "statement_import_id": record.id,
                    "booked_on": line.booked_on,
                    "value_date": line.value_date,
                    "amount_paise": line.amount,
                    "currency": statement.currency,
                    "narration": line.narration,
                    "reference": line.reference,
                    "created_at": now,
                }
                for line, fingerprint in fresh
            ],
        )
    return ImportedStatement(
        account.code,
        statement.currency,
        record.first_date,
        record.last_date,
        record.lines_added,
        record.lines_already_there,
    )


def _user_id(actor: Principal | None) -> object:
    """The importing user, or None for the system (the command line), which is no user row."""
    return None if actor is None or actor is SYSTEM else actor.user_id


def _present(session: Session, account_id: int, prints: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(prints), _LOOKUP_CHUNK):
        chunk = prints[start : start + _LOOKUP_CHUNK]
        found.update(
            session.execute(
                select(BankLine.fingerprint).where(
                    BankLine.bank_account_id == account_id, BankLine.fingerprint.in_(chunk)
                )
            ).scalars()
        )
    return found
