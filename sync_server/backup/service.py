"""Making a backup and restoring one, for either database.

A restore checks everything it can before it touches the target: the key and the
authenticated header, the checksum, the schema revision (a backup made by a newer LoanDesk
is refused: this code cannot know that schema), and then, on a full copy restored aside, the
audit chain. Only a copy that passes replaces the target; a refusal leaves it as it was.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from sync_server.audit.sealer import seal
from sync_server.audit.service import verify_chain
from sync_server.backup import archive, postgres, sqlite
from sync_server.backup.archive import BackupRefused, Header
from sync_server.db.engine import Database
from sync_server.db.migrate import alembic_config, upgrade


@dataclass(frozen=True)
class Restored:
    header: Header
    audit_entries: int
    upgraded_to: str | None
    """The head revision the restored book was migrated to, when the backup was older."""
    previous_database: str | None
    """PostgreSQL: the name the replaced database is kept under."""


def _kind(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _scripts(url: str) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(url))


def schema_revision(url: str) -> str:
    if url.startswith("sqlite") and not sqlite.database_path(url).exists():
        raise BackupRefused(f"There is no database at {sqlite.database_path(url)}")
    db = Database(url)
    try:
        with db.read_engine.connect() as conn:
            try:
                revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            except DBAPIError as exc:
                raise BackupRefused("That database holds no LoanDesk schema to back up") from exc
    except DBAPIError as exc:
        raise BackupRefused(
            f"Cannot reach the database ({type(exc.orig).__name__}); nothing was backed up"
        ) from exc
    finally:
        db.dispose()
    if not revision:
        raise BackupRefused("That database holds no LoanDesk schema to back up")
    return str(revision)


def make_backup(url: str, out: Path, *, key: bytes, now: datetime | None = None) -> Header:
    """Write an encrypted snapshot of `url` to `out` (via a temporary file, so a failed
    backup never leaves a half-written file under the final name)."""
    kind = _kind(url)
    revision = schema_revision(url)
    if revision == _scripts(url).get_current_head():  # an older schema has no sealer's columns
        _seal_first(url)
    created = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    with tempfile.TemporaryDirectory(prefix="loandesk-backup-") as folder:
        plaintext = Path(folder) / "book"
        if kind == "sqlite":
            sqlite.snapshot(url, plaintext)
        else:
            postgres.snapshot(url, plaintext)
        try:
            partial.unlink(missing_ok=True)
            partial.touch(mode=0o600)
            header = archive.seal(
                plaintext, partial, key=key, revision=revision, kind=kind, created_at=created
            )
            partial.replace(out)
        finally:
            partial.unlink(missing_ok=True)
    return header


def _seal_first(url: str) -> None:
    """Audit entries committed by now go into the backup sealed; any committed during the
    snapshot are carried unsealed (with their digests) and sealed when restored."""
    db = Database(url)
    try:
        seal(db)
    finally:
        db.dispose()


def check_revision(url: str, revision: str) -> bool:
    """True when the backup is at this code's head, False when older; refused when this code
    does not know the revision (a newer LoanDesk made it)."""
    scripts = _scripts(url)
    head = scripts.get_current_head()
    try:
        known = scripts.get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise BackupRefused(
            f"The backup was made by a newer LoanDesk (schema {revision}); this version knows "
            f"schemas up to {head}. Restore it with the version that made it; nothing was restored"
        )
    return revision == head


def _check_staged(staged_url: str, at_head: bool) -> tuple[int, str | None]:
    db = Database(staged_url)
    try:
        upgraded_to = None
        if not at_head:
            upgrade(db.engine)
            upgraded_to = _scripts(staged_url).get_current_head()
        seal(db)  # entries the backup carried unsealed; an altered one stays caught by its digest
        with db.read_only() as session:
            report = verify_chain(session)
    finally:
        db.dispose()
    if not report.ok:
        where = report.first_broken_id or "its end"
        raise BackupRefused(
            f"The backup's audit chain is broken at entry {where} ({report.problem}); "
            "nothing was restored"
        )
    return report.checked, upgraded_to


def restore_backup(
    url: str,
    source: Path,
    *,
    key: bytes,
    now: datetime | None = None,
    say: Callable[[str], None] = lambda _: None,
) -> Restored:
    now = now or datetime.now(UTC)
    if not source.is_file():
        raise BackupRefused(f"There is no backup file at {source}")
    with tempfile.TemporaryDirectory(prefix="loandesk-restore-") as folder:
        plaintext = Path(folder) / "book"
        header = archive.open_sealed(source, plaintext, key=key)
        return _restore_opened(url, header, plaintext, now, say)


def _restore_opened(
    url: str, header: Header, plaintext: Path, now: datetime, say: Callable[[str], None]
) -> Restored:
    kind = _kind(url)
    if header.database_kind != kind:
        raise BackupRefused(
            f"The backup is of a {header.database_kind} database; the target is {kind}"
        )
    at_head = check_revision(url, header.schema_revision)
    say(f"backup of {header.created_at} opened and its checksum matches; checking a copy")
    if kind == "sqlite":
        with sqlite.staged(url, plaintext) as staged_url:
            checked, upgraded_to = _check_staged(staged_url, at_head)
            sqlite.replace(url, staged_url)
        return Restored(header, checked, upgraded_to, None)
    with postgres.staged(url, plaintext, now) as staged_url:
        checked, upgraded_to = _check_staged(staged_url, at_head)
        previous = postgres.replace(url, staged_url, now)
    return Restored(header, checked, upgraded_to, previous)
