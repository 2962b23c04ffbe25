"""Backup and restore on both databases: a restored book is the one backed up, table by table;
a backup that was altered, opens with another key, breaks the audit chain or comes from a
newer schema is refused and the database stays exactly as it was."""

from __future__ import annotations

import functools
import hashlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Table, func, select, text
from sqlalchemy.engine import make_url

from main import main
from sync_server.audit import service as audit
from sync_server.audit.chain import GENESIS, legacy_hash
from sync_server.audit.sealer import seal
from sync_server.auth import passwords
from sync_server.backup import archive as archive_format
from sync_server.backup.archive import MAGIC, BackupRefused, read_header
from sync_server.backup.service import make_backup, restore_backup
from sync_server.db.engine import Database
from sync_server.db.migrate import downgrade
from sync_server.db.models import AuditEntry, Base
from sync_server.demo import seed_demo
from sync_server.health.service import code_head
from tests import dbs

TODAY = date(2026, 11, 27)
_real_hash = passwords.hash_password


@functools.lru_cache(maxsize=2)
def _hash_once(password: str) -> str:
    return _real_hash(password)


@pytest.fixture(autouse=True)
def _hash_each_password_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "hash_password", _hash_once)


@pytest.fixture
def key() -> bytes:
    return os.urandom(32)


@pytest.fixture
def book(db: Database) -> Database:
    seed_demo(db, loans=6, seed=3, today=TODAY, scored_weeks=1)
    return db


@pytest.fixture
def kept_databases(database_url: str) -> Iterator[list[str]]:
    """PostgreSQL keeps the replaced database under another name; the test drops it."""
    names: list[str] = []
    yield names
    for name in names:
        dbs.drop_database(make_url(database_url).set(database=name).render_as_string(False))


def _table_digest(db: Database, table: Table) -> tuple[int, str]:
    order = list(table.primary_key.columns) or list(table.columns)
    with db.engine.connect() as conn:
        rows = conn.execute(select(table).order_by(*order)).all()
    digest = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
    return len(rows), digest


def fingerprint(db: Database) -> dict[str, tuple[int, str]]:
    """Row count and a checksum of the ordered rows, per table (the schema's version too)."""
    tables = {t.name: _table_digest(db, t) for t in Base.metadata.sorted_tables}
    with db.engine.connect() as conn:
        tables["alembic_version"] = (
            1,
            conn.execute(text("SELECT * FROM alembic_version")).one()[0],
        )
    return tables


def _restore(db: Database, source: Path, key: bytes, kept: list[str]) -> None:
    db.dispose()
    done = restore_backup(db.url, source, key=key)
    if done.previous_database:
        kept.append(done.previous_database)


def test_backup_wipe_restore_gives_back_every_table(
    book: Database, key: bytes, tmp_path: Path, kept_databases: list[str]
) -> None:
    seal(book)  # a backup seals what has committed first: the book as it will be restored
    before = fingerprint(book)
    assert before["loans"][0] == 6
    assert before["audit_log"][0] > 0
    assert before["payments"][0] > 0
    archive = tmp_path / "book.ldbk"
    header = make_backup(book.url, archive, key=key)
    assert header.schema_revision == before["alembic_version"][1]
    downgrade(book.engine, "base")
    assert fingerprint_or_none(book) is None
    _restore(book, archive, key, kept_databases)
    assert fingerprint(book) == before
    with book.read_only() as session:
        assert audit.verify_chain(session).ok
    with book.unit_of_work() as session:
        audit.record(session, actor=None, action="backup.check", entity="system")
    with book.read_only() as session:
        assert audit.verify_chain(session).checked == before["audit_log"][0] + 1


def fingerprint_or_none(db: Database) -> dict[str, tuple[int, str]] | None:
    with db.engine.connect() as conn:
        if "loans" not in conn.dialect.get_table_names(conn):
            return None
    return fingerprint(db)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def _staging_databases(url: str) -> list[str]:
    if not url.startswith("postgresql"):
        return []
    target = make_url(url).database or ""
    with psycopg.connect(host="127.0.0.1", user="postgres", dbname="postgres") as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{target[:30]}_restoring%"]
        ).fetchall()
    return [r[0] for r in rows]


def test_an_altered_or_foreign_backup_is_refused_and_changes_nothing(
    book: Database, key: bytes, tmp_path: Path, kept_databases: list[str]
) -> None:
    archive = tmp_path / "book.ldbk"
    make_backup(book.url, archive, key=key)
    blob = archive.read_bytes()
    header = read_header(archive)
    revision = header.schema_revision.encode()
    edited_header = blob.replace(revision, b"0" * len(revision), 1)
    assert edited_header != blob
    with book.unit_of_work() as session:
        audit.record(session, actor=None, action="after.backup", entity="system")
    before = fingerprint(book)
    cases = {
        "ciphertext byte flipped": _flip(blob, len(blob) - 100),
        "tag byte flipped": _flip(blob, len(blob) - 1),
        "header edited": edited_header,
        "magic edited": b"X" + blob[1:],
    }
    for name, altered in cases.items():
        bad = tmp_path / f"{name}.ldbk"
        bad.write_bytes(altered)
        with pytest.raises(BackupRefused):
            _restore(book, bad, key, kept_databases)
        assert fingerprint(book) == before, name
    with pytest.raises(BackupRefused, match="does not open with this key"):
        _restore(book, archive, os.urandom(32), kept_databases)
    assert fingerprint(book) == before
    assert blob.startswith(MAGIC)
    assert kept_databases == []
    assert _staging_databases(book.url) == []


def test_a_backup_cut_short_or_with_parts_reordered_is_refused(
    book: Database,
    key: bytes,
    tmp_path: Path,
    kept_databases: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(archive_format, "CHUNK_BYTES", 4096)
    archive = tmp_path / "book.ldbk"
    make_backup(book.url, archive, key=key)
    blob = archive.read_bytes()
    sealed = 4 + 4096 + 16  # length, chunk, tag
    start = blob.index(b"}") + 1 + archive_format.NONCE_PREFIX_BYTES  # the header is flat JSON
    last = (len(blob) - start) % sealed or sealed
    assert (len(blob) - start) // sealed > 10
    before = fingerprint(book)
    cases = {
        "last part dropped": blob[:-last],
        "cut mid-part": blob[:-7],
        "two parts swapped": blob[:start]
        + blob[start + sealed : start + 2 * sealed]
        + blob[start : start + sealed]
        + blob[start + 2 * sealed :],
        "a part repeated": blob[: start + sealed] + blob[start:],
        "bytes appended": blob + b"\0",
    }
    for name, altered in cases.items():
        bad = tmp_path / f"{name}.ldbk"
        bad.write_bytes(altered)
        with pytest.raises(BackupRefused):
            _restore(book, bad, key, kept_databases)
        assert fingerprint(book) == before, name
    _restore(book, archive, key, kept_databases)
    assert fingerprint(book) == before


def _break_the_chain(db: Database) -> None:
    with db.engine.begin() as conn:
        if db.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        conn.execute(text("UPDATE audit_log SET detail = 'edited' WHERE id = 2"))


def test_a_backup_whose_audit_chain_is_broken_is_refused_after_the_check_aside(
    book: Database, key: bytes, tmp_path: Path, kept_databases: list[str]
) -> None:
    good = tmp_path / "good.ldbk"
    make_backup(book.url, good, key=key)
    _break_the_chain(book)
    broken = tmp_path / "broken.ldbk"
    make_backup(book.url, broken, key=key)
    _restore(book, good, key, kept_databases)
    healed = fingerprint(book)
    with pytest.raises(BackupRefused, match="audit chain is broken at entry 2"):
        _restore(book, broken, key, kept_databases)
    assert fingerprint(book) == healed
    assert _staging_databases(book.url) == []


def _unsealed_entries(db: Database, count: int) -> None:
    with db.unit_of_work() as session:
        for n in range(count):
            audit.record(session, actor=None, action="late.entry", entity="system", entity_id=n)


def test_a_backup_seals_first_and_one_carrying_unsealed_entries_restores_sealed(
    book: Database,
    key: bytes,
    tmp_path: Path,
    kept_databases: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _unsealed_entries(book, 3)
    sealed_first = tmp_path / "sealed.ldbk"
    make_backup(book.url, sealed_first, key=key)
    with book.read_only() as session:
        assert audit.verify_chain(session).unsealed == 0
    # Entries committed while a snapshot is taken go into it unsealed (their digests with them).
    monkeypatch.setattr("sync_server.backup.service._seal_first", lambda url: None)
    _unsealed_entries(book, 4)
    carrying = tmp_path / "carrying.ldbk"
    make_backup(book.url, carrying, key=key)
    with book.read_only() as session:
        total = audit.verify_chain(session).checked
    _restore(book, carrying, key, kept_databases)
    with book.read_only() as session:
        report = audit.verify_chain(session)
    assert report.ok
    assert (report.sealed, report.unsealed) == (total, 0)


def test_an_entry_altered_in_a_backup_before_it_was_sealed_is_refused_by_its_position(
    book: Database,
    key: bytes,
    tmp_path: Path,
    kept_databases: list[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seal(book)
    _unsealed_entries(book, 3)
    with book.read_only() as session:
        victim = session.execute(
            select(func.max(AuditEntry.id)).where(AuditEntry.action == "late.entry")
        ).scalar_one()
    with book.engine.begin() as conn:
        if book.is_sqlite:
            conn.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_append_only ON audit_log"))
        conn.execute(text("UPDATE audit_log SET detail = 'edited' WHERE id = :id"), {"id": victim})
    monkeypatch.setattr("sync_server.backup.service._seal_first", lambda url: None)
    altered = tmp_path / "altered.ldbk"
    make_backup(book.url, altered, key=key)
    with pytest.raises(BackupRefused, match=f"audit chain is broken at entry {victim}"):
        _restore(book, altered, key, kept_databases)
    assert _staging_databases(book.url) == []


def test_a_backup_of_a_newer_schema_is_refused(
    book: Database, key: bytes, tmp_path: Path, kept_databases: list[str]
) -> None:
    with book.engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    newer = tmp_path / "newer.ldbk"
    assert make_backup(book.url, newer, key=key).schema_revision == "9999_future"
    with book.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
    before = fingerprint(book)
    with pytest.raises(BackupRefused, match="made by a newer LoanDesk"):
        _restore(book, newer, key, kept_databases)
    assert fingerprint(book) == before
    assert _staging_databases(book.url) == []


def test_the_commands_back_up_and_restore_with_the_key_from_the_environment(
    book: Database,
    key: bytes,
    tmp_path: Path,
    kept_databases: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import base64

    monkeypatch.setenv("LOANDESK_BACKUP_KEY", base64.b64encode(key).decode())
    seal(book)  # the backup command seals first
    before = fingerprint(book)
    archive = tmp_path / "nightly.ldbk"
    assert main(["backup", "--out", str(archive), "--db", book.url]) == 0
    assert "backup written" in capsys.readouterr().out
    book.dispose()
    assert main(["restore", str(archive), "--db", book.url]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["restore", str(archive), "--db", book.url, "--yes"]) == 0
    out = capsys.readouterr().out
    assert "audit chain intact" in out
    if "kept as" in out:
        kept_databases.append(out.split("kept as '")[1].split("'")[0])
    assert fingerprint(book) == before
    monkeypatch.setenv("LOANDESK_BACKUP_KEY", base64.b64encode(b"short").decode())
    assert main(["restore", str(archive), "--db", book.url, "--yes"]) == 2
    assert "32 bytes" in capsys.readouterr().err


def test_the_commands_say_what_is_wrong_without_a_traceback(
    database_url: str,
    key: bytes,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import base64

    monkeypatch.setenv("LOANDESK_BACKUP_KEY", base64.b64encode(key).decode())
    missing = tmp_path / "missing.ldbk"
    assert main(["restore", str(missing), "--db", database_url, "--yes"]) == 2
    assert f"There is no backup file at {missing}" in capsys.readouterr().err
    unreachable = (
        "postgresql://postgres@127.0.0.1:1/test"
        if database_url.startswith("postgresql")
        else f"sqlite:///{tmp_path / 'absent.db'}"
    )
    assert main(["backup", "--out", str(tmp_path / "b.ldbk"), "--db", unreachable]) == 2
    err = capsys.readouterr().err
    assert "Cannot reach the database" in err or "There is no database at" in err
    assert not (tmp_path / "b.ldbk").exists()
    monkeypatch.delenv("LOANDESK_BACKUP_KEY")
    monkeypatch.setattr("keyring.get_password", lambda service, user: None)
    assert main(["backup", "--out", str(tmp_path / "b.ldbk"), "--db", database_url]) == 2
    assert "No backup key: set LOANDESK_BACKUP_KEY" in capsys.readouterr().err


@dataclass(frozen=True)
class _OldEntry:
    at: datetime
    actor_id: uuid.UUID | None = None
    actor_username: str = "anonymous"
    actor_role: str | None = None
    action: str = "before.upgrade"
    outcome: str = "ok"
    entity: str = "system"
    entity_id: str | None = None
    before: str | None = None
    after: str | None = None
    detail: str | None = None
    address: str | None = None


def _old_style_entry(db: Database) -> None:
    """An entry as the code of that schema wrote it: linked to the head as it was appended."""
    at = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    link = legacy_hash(GENESIS, _OldEntry(at))
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (id, at, actor_username, action, outcome, entity, "
                "prev_hash, hash) VALUES (1, :at, 'anonymous', 'before.upgrade', 'ok', "
                "'system', :genesis, :link)"
            ),
            {"at": at, "genesis": GENESIS, "link": link},
        )
        conn.execute(text("DELETE FROM audit_head"))  # a head row the later schema made
        conn.execute(
            text("INSERT INTO audit_head (id, last_id, last_hash) VALUES (1, 1, :link)"),
            {"link": link},
        )


def test_a_backup_of_an_older_schema_is_migrated_aside_before_it_replaces_the_book(
    db: Database, key: bytes, tmp_path: Path, kept_databases: list[str]
) -> None:
    downgrade(db.engine, "0004")
    _old_style_entry(db)
    older = tmp_path / "older.ldbk"
    assert make_backup(db.url, older, key=key).schema_revision == "0004"
    downgrade(db.engine, "base")
    db.dispose()
    done = restore_backup(db.url, older, key=key)
    if done.previous_database:
        kept_databases.append(done.previous_database)
    assert done.upgraded_to == code_head()
    assert done.audit_entries == 1
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == code_head()
    assert fingerprint(db)["audit_log"][0] == 1
