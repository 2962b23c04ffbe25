"""Reconciliation under faults: the statement import and its matching, as the operator runs
them (`main.py import statement FILE --account ACC`), SIGKILLed at a random moment and run
again, and run by two processes at once, end as one clean run: the same lines stored once,
the same live matches, no line matched twice, no payment or deposit matched to two lines, the
ledger's run done once, and the audit chain intact with the match pass audited once.

Right after each kill, before the rerun, the match set is all or nothing: empty, or exactly
the clean run's, and present exactly when the ledger says the match step is done.

What may differ from one clean run, on purpose: a rerun of an import that had committed
records its own statement row (0 lines added, all already there) and its own audit entry,
as a second import of the same file does. The test command runs a slice;
`LOANDESK_HARDEN_LONG=1` runs 20 kills and 5 races on a larger book.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from sync_server.audit.sealer import seal
from sync_server.audit.service import verify_chain
from sync_server.db.engine import Database
from tests import dbs
from tests.sync_server.hardening.recon_book import ACCOUNT, build_book
from tests.sync_server.hardening.state import LONG, figure

ROOT = Path(__file__).resolve().parents[3]
PAYMENTS = 1500 if LONG else 500
KILLS = 20 if LONG else 1
RACES = 5 if LONG else 1
RUN_TIMEOUT_S = 300
Book = tuple[Database, str, Path]

MATCHES = (
    "SELECT l.fingerprint, m.payment_id, m.deposit_id, m.step, m.reason FROM bank_matches m "
    "JOIN bank_lines l ON l.id = m.bank_line_id WHERE m.unmatched_at IS NULL"
)
STATE = {
    "lines": "SELECT a.code, l.fingerprint, l.value_date, l.amount_paise, l.narration, "
    "l.reference FROM bank_lines l JOIN bank_accounts a ON a.id = l.bank_account_id",
    "matches": MATCHES,
    "lines added": "SELECT SUM(lines_added) FROM statement_imports",
    "match passes audited": "SELECT COUNT(*) FROM audit_log WHERE action = 'reconciliation.match'",
    "runs audited": "SELECT COUNT(*) FROM audit_log WHERE action = 'job.reconciliation'",
}


def _import(url: str, statement: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "main.py",
            "import",
            "statement",
            str(statement),
            "--account",
            ACCOUNT,
            "--db",
            url,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "LOANDESK_LOG_LEVEL": "WARNING"},
    )


def _finish(url: str, statement: Path) -> None:
    process = _import(url, statement)
    out, err = process.communicate(timeout=RUN_TIMEOUT_S)
    assert process.returncode == 0, (out + err).decode()


def _ledger(db: Database) -> list[tuple[str, list[str], dict[str, int]]]:
    """(status, steps done, counts without timings) of each reconciliation run."""
    with db.read_only() as session:
        rows = session.execute(
            text("SELECT status, steps_done, counts FROM job_runs WHERE job = 'reconciliation'")
        ).all()
    ledger = []
    for status, steps, counts in rows:
        steps = json.loads(steps) if isinstance(steps, str) else steps
        counts = json.loads(counts) if isinstance(counts, str) else counts
        ledger.append(
            (status, list(steps or []), {k: v for k, v in (counts or {}).items() if k != "seconds"})
        )
    return sorted(ledger, key=repr)


def _rows(db: Database, query: str) -> list[str]:
    with db.read_only() as session:
        return sorted(repr(tuple(str(v) for v in row)) for row in session.execute(text(query)))


def checksum(db: Database) -> str:
    """The reconciliation's state, without surrogate ids (PostgreSQL spends sequence values in
    rolled-back transactions) or wall-clock instants."""
    digest = hashlib.sha256()
    for name, query in STATE.items():
        digest.update(name.encode())
        for row in _rows(db, query):
            digest.update(row.encode())
    digest.update(repr(_ledger(db)).encode())
    return digest.hexdigest()


def doubled(db: Database) -> int:
    """Lines with two live matches, and payments or deposits live-matched to two lines."""
    queries = [
        "SELECT bank_line_id FROM bank_matches WHERE unmatched_at IS NULL "
        "GROUP BY bank_line_id HAVING COUNT(*) > 1",
        "SELECT payment_id FROM bank_matches WHERE unmatched_at IS NULL "
        "AND payment_id IS NOT NULL GROUP BY payment_id HAVING COUNT(*) > 1",
        "SELECT deposit_id FROM bank_matches WHERE unmatched_at IS NULL "
        "AND deposit_id IS NOT NULL GROUP BY deposit_id HAVING COUNT(*) > 1",
    ]
    with db.read_only() as session:
        return sum(
            int(session.execute(text(f"SELECT COUNT(*) FROM ({q}) d")).scalar_one())
            for q in queries
        )


def chain_intact(db: Database) -> bool:
    seal(db)
    with db.read_only() as session:
        return verify_chain(session).ok


def _match_step_done(db: Database) -> bool:
    return any("match" in steps for _, steps, _ in _ledger(db))


def _run_begun(db: Database) -> bool:
    """The import has committed and the job ledger holds its run: matching is under way."""
    return bool(_ledger(db))


def _wait_for(
    db: Database, process: subprocess.Popen[bytes], ready: Callable[[Database], bool]
) -> None:
    for _ in range(RUN_TIMEOUT_S * 20):
        if process.poll() is not None or ready(db):
            return
        time.sleep(0.05)


@pytest.fixture
def fresh_books(db_kind: str, tmp_path: Path, _template_root: Path) -> Iterator[Callable[[], Book]]:
    """A new database holding the same book before its statement, as often as asked."""
    made: list[tuple[Database, str]] = []

    def make() -> Book:
        folder = tmp_path / f"book{len(made)}"
        folder.mkdir()
        url = dbs.fresh_database_url(db_kind, folder, _template_root)
        database = Database(url)
        statement = folder / "hdfc-nov.csv"
        statement.write_bytes(build_book(database, PAYMENTS))
        made.append((database, url))
        return database, url, statement

    yield make
    for database, url in made:
        database.dispose()
        dbs.drop_database(url)


def test_a_reconciliation_killed_at_random_or_raced_by_two_processes_ends_as_one_clean_run(
    fresh_books: Callable[[], Book],
) -> None:
    twin, twin_url, twin_statement = fresh_books()
    started = time.perf_counter()
    _finish(twin_url, twin_statement)
    whole_run = time.perf_counter() - started
    clean, clean_matches = checksum(twin), _rows(twin, MATCHES)
    assert len(clean_matches) > PAYMENTS // 2
    assert doubled(twin) == 0
    rng = random.Random(19)
    landed = {"before the ledger": 0, "in the steps": 0, "after the run": 0}
    equal = doubled_total = half_written = broken_chains = 0
    for kill in range(KILLS):
        db, url, statement = fresh_books()
        process = _import(url, statement)
        if kill % 2 == 0:  # inside the run: the ledger row is there, matching under way
            _wait_for(db, process, _run_begun)
            time.sleep(rng.uniform(0.0, 0.5))
        else:  # anywhere in the command's life, interpreter start and import included
            time.sleep(rng.uniform(0.0, whole_run))
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=RUN_TIMEOUT_S)
        ledger = _ledger(db)
        if not ledger:
            landed["before the ledger"] += 1
        elif all(status == "done" for status, _, _ in ledger):
            landed["after the run"] += 1
        else:
            landed["in the steps"] += 1
        matches = _rows(db, MATCHES)
        expected = clean_matches if _match_step_done(db) else []
        half_written += matches != expected
        _finish(url, statement)
        equal += checksum(db) == clean
        doubled_total += doubled(db)
        broken_chains += not chain_intact(db)
    races = 0
    for _ in range(RACES):
        db, url, statement = fresh_books()
        first, second = _import(url, statement), _import(url, statement)
        answers = [p.communicate(timeout=RUN_TIMEOUT_S) for p in (first, second)]
        for process, (out, err) in zip((first, second), answers, strict=True):
            said = (out + err).decode()
            assert "Traceback" not in said, said
            assert process.returncode == 0 or "refused" in said or "not run" in said, said
        _finish(url, statement)
        races += checksum(db) == clean
        doubled_total += doubled(db)
        broken_chains += not chain_intact(db)
    figure(
        f"reconciliation under faults: {equal}/{KILLS} killed runs (killed {landed}) and "
        f"{races}/{RACES} two-process races equal one clean run of {len(clean_matches)} "
        f"matches; match sets half-written after a kill {half_written}; lines or entries "
        f"matched twice {doubled_total}; broken audit chains {broken_chains}"
    )
    assert half_written == 0
    assert equal == KILLS
    assert races == RACES
    assert doubled_total == 0
    assert broken_chains == 0
    assert chain_intact(twin)
