"""The backup file: a readable header, then the database dump sealed with AES-256-GCM.

Layout: MAGIC, the header's length (4 bytes, big-endian), the header as canonical JSON,
a 12-byte nonce, then the ciphertext with its 16-byte tag. The magic, the length and the
header are the cipher's associated data, so editing any of them (the schema revision, say)
makes the file fail to open exactly as a flipped ciphertext byte or a wrong key does. The
header stays readable without the key so an operator can see what a file holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
from dataclasses import asdict, dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from sync_server.errors import LoanDeskError

MAGIC = b"LOANDESK-BACKUP\n"
FORMAT_VERSION = 1
KEY_ENV = "LOANDESK_BACKUP_KEY"
KEYRING_SERVICE = "loandesk-backup"
KEYRING_USER = "archive-key"
NONCE_BYTES = 12
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


def seal(plaintext: bytes, *, key: bytes, revision: str, kind: str, created_at: str) -> bytes:
    header = Header(
        format_version=FORMAT_VERSION,
        schema_revision=revision,
        database_kind=kind,
        created_at=created_at,
        plaintext_sha256=hashlib.sha256(plaintext).hexdigest(),
        plaintext_bytes=len(plaintext),
    ).encoded()
    associated = MAGIC + struct.pack(">I", len(header)) + header
    nonce = os.urandom(NONCE_BYTES)
    return associated + nonce + AESGCM(key).encrypt(nonce, plaintext, associated)


def read_header(blob: bytes) -> tuple[Header, int]:
    """The header (unauthenticated until `open_sealed`) and where the nonce starts."""
    if not blob.startswith(MAGIC):
        raise BackupRefused("This is not a LoanDesk backup file")
    start = len(MAGIC) + 4
    if len(blob) < start:
        raise BackupRefused("The backup file is cut short")
    (length,) = struct.unpack(">I", blob[len(MAGIC) : start])
    if length > MAX_HEADER_BYTES or len(blob) < start + length + NONCE_BYTES:
        raise BackupRefused("The backup file's header is damaged")
    try:
        fields = json.loads(blob[start : start + length])
        header = Header(**fields)
    except (ValueError, TypeError) as exc:
        raise BackupRefused("The backup file's header is damaged") from exc
    if header.format_version != FORMAT_VERSION:
        raise BackupRefused(
            f"The backup is in format {header.format_version}; this LoanDesk reads "
            f"format {FORMAT_VERSION}"
        )
    return header, start + length


def open_sealed(blob: bytes, *, key: bytes) -> tuple[Header, bytes]:
    """Decrypt and check: the tag covers header and content, the checksum the content."""
    header, at = read_header(blob)
    nonce = blob[at : at + NONCE_BYTES]
    try:
        plaintext = AESGCM(key).decrypt(nonce, blob[at + NONCE_BYTES :], blob[:at])
    except InvalidTag as exc:
        raise BackupRefused(
            "The backup does not open with this key, or it was altered after it was made "
            "(header or content); nothing was restored"
        ) from exc
    if hashlib.sha256(plaintext).hexdigest() != header.plaintext_sha256:
        raise BackupRefused("The backup's checksum does not match its content; nothing restored")
    return header, plaintext
