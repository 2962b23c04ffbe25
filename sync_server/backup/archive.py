"""The backup file: a readable header, then the database dump sealed with AES-256-GCM in
chunks, so a backup of any size is written and read with a bounded amount of memory.

Layout: MAGIC, the header's length (4 bytes, big-endian), the header as canonical JSON, an
8-byte nonce prefix, then chunks, each its ciphertext length (4 bytes) and the ciphertext
with its 16-byte tag. Chunk i is sealed with the nonce prefix + i, and its associated data
is the magic, the header and (i, whether it is the last chunk): editing the header (the
schema revision, say), flipping any byte, reordering, dropping or cutting off chunks, or a
wrong key all make the file fail to open. The header stays readable without the key so an
operator can see what a file holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sync_server.errors import LoanDeskError

MAGIC = b"LOANDESK-BACKUP\n"
FORMAT_VERSION = 1
KEY_ENV = "LOANDESK_BACKUP_KEY"
KEYRING_SERVICE = "loandesk-backup"
KEYRING_USER = "archive-key"
NONCE_PREFIX_BYTES = 8
TAG_BYTES = 16
CHUNK_BYTES = 4 * 1024 * 1024
MAX_HEADER_BYTES = 64 * 1024


class BackupRefused(LoanDeskError):
    """A backup that cannot be made or trusted; nothing was changed."""

    status = 422
    code = "backup_refused"


@dataclass(frozen=True)
class Header:
    format_version: int
    schema_revision: str
    database_kind: str
    created_at: str
    """UTC, ISO 8601."""
    plaintext_sha256: str
    plaintext_bytes: int
    chunk_bytes: int

    def encoded(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode("utf-8")


def decode_key(text: str) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BackupRefused("The backup key is not valid base64") from exc
    if len(key) != 32:
        raise BackupRefused(f"The backup key must be 32 bytes (AES-256); this one is {len(key)}")
    return key


def load_key() -> bytes:
    """The key from $LOANDESK_BACKUP_KEY, else from the system keyring; never from a file
    beside the backups, which would travel with them."""
    text = os.environ.get(KEY_ENV)
    if not text:
        import keyring

        text = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    if not text:
        raise BackupRefused(
            f"No backup key: set {KEY_ENV} to 32 random bytes in base64, or store them in the "
            f"keyring (service '{KEYRING_SERVICE}', user '{KEYRING_USER}')"
        )
    return decode_key(text)


def _chunks(handle: BinaryIO, size: int) -> Iterator[tuple[bytes, bool]]:
    """Each chunk and whether it is the last (an empty file is one empty last chunk)."""
    current = handle.read(size)
    while True:
        following = handle.read(size)
        yield current, not following
        if not following:
            return
        current = following


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


def _chunk_data(associated: bytes, index: int, last: bool) -> bytes:
    return associated + struct.pack(">I?", index, last)


def _digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def seal(
    plaintext: Path, out: Path, *, key: bytes, revision: str, kind: str, created_at: str
) -> Header:
    """Encrypt the dump at `plaintext` into `out`; two passes (the checksum goes first)."""
    sha256, size = _digest(plaintext)
    header = Header(FORMAT_VERSION, revision, kind, created_at, sha256, size, CHUNK_BYTES)
    encoded = header.encoded()
    associated = MAGIC + struct.pack(">I", len(encoded)) + encoded
    prefix = os.urandom(NONCE_PREFIX_BYTES)
    cipher = AESGCM(key)
    with plaintext.open("rb") as source, out.open("wb") as sink:
        sink.write(associated + prefix)
        for index, (chunk, last) in enumerate(_chunks(source, header.chunk_bytes)):
            sealed = cipher.encrypt(
                _nonce(prefix, index), chunk, _chunk_data(associated, index, last)
            )
            sink.write(struct.pack(">I", len(sealed)) + sealed)
    return header


def _read_exactly(handle: BinaryIO, size: int, what: str) -> bytes:
    data = handle.read(size)
    if len(data) != size:
        raise BackupRefused(f"The backup file is cut short ({what})")
    return data


def _header(handle: BinaryIO) -> tuple[Header, bytes]:
    if handle.read(len(MAGIC)) != MAGIC:
        raise BackupRefused("This is not a LoanDesk backup file")
    length_bytes = _read_exactly(handle, 4, "header length")
    (length,) = struct.unpack(">I", length_bytes)
    if length > MAX_HEADER_BYTES:
        raise BackupRefused("The backup file's header is damaged")
    encoded = _read_exactly(handle, length, "header")
    try:
        header = Header(**json.loads(encoded))
    except (ValueError, TypeError) as exc:
        raise BackupRefused("The backup file's header is damaged") from exc
    if header.format_version != FORMAT_VERSION:
        raise BackupRefused(
            f"The backup is in format {header.format_version}; this LoanDesk reads "
            f"format {FORMAT_VERSION}"
        )
    if not 0 < header.chunk_bytes <= 64 * 1024 * 1024:
        raise BackupRefused("The backup file's header is damaged")
    return header, MAGIC + length_bytes + encoded


def read_header(path: Path) -> Header:
    """What the file says it holds (unauthenticated until `open_sealed` has read it all)."""
    with path.open("rb") as handle:
        return _header(handle)[0]


def open_sealed(source: Path, out: Path, *, key: bytes) -> Header:
    """Decrypt `source` into `out` and check it: every chunk's tag (which covers the header
    and the chunk's place), that the last chunk came, and the checksum of the whole. On any
    failure `out` is removed and BackupRefused raised."""
    cipher = AESGCM(key)
    digest = hashlib.sha256()
    try:
        with source.open("rb") as handle, out.open("wb") as sink:
            total = os.fstat(handle.fileno()).st_size
            header, associated = _header(handle)
            prefix = _read_exactly(handle, NONCE_PREFIX_BYTES, "nonce")
            index = 0
            while True:
                size_bytes = handle.read(4)
                if len(size_bytes) < 4:
                    raise BackupRefused("The backup file is cut short (its last part is missing)")
                (size,) = struct.unpack(">I", size_bytes)
                if size > header.chunk_bytes + TAG_BYTES:
                    raise BackupRefused("The backup file is damaged (a part is too long)")
                sealed = _read_exactly(handle, size, "chunk")
                last = handle.tell() == total
                chunk = _open_chunk(
                    cipher, prefix, _chunk_data(associated, index, last), index, sealed
                )
                digest.update(chunk)
                sink.write(chunk)
                index += 1
                if last:
                    break
        if digest.hexdigest() != header.plaintext_sha256:
            raise BackupRefused("The backup's checksum does not match its content")
        return header
    except BaseException:
        out.unlink(missing_ok=True)
        raise


def _open_chunk(
    cipher: AESGCM, prefix: bytes, associated: bytes, index: int, sealed: bytes
) -> bytes:
    """One part; its place (index, and whether the file ends after it) is in the associated
    data, so a part moved, repeated, dropped or followed by extra bytes does not open."""
    try:
        return cipher.decrypt(_nonce(prefix, index), sealed, associated)
    except InvalidTag as exc:
        raise BackupRefused(
            "The backup does not open with this key, or it was altered after it was made "
            "(header or content); nothing was restored"
        ) from exc
