"""Bank statement files read into checked statements: MT940, camt.053, CSV and XLSX.

`read_statement` tells the formats apart by their content (an XLSX is a zip, camt.053 is XML,
MT940 lines start with a field tag such as :20:), not by the file name, which users get wrong.
"""

from __future__ import annotations

import re

from sync_server.reconciliation.statements.camt053_reader import read_camt053
from sync_server.reconciliation.statements.model import (
    Statement,
    StatementLine,
    StatementRefused,
)
from sync_server.reconciliation.statements.mt940_reader import read_mt940
from sync_server.reconciliation.statements.tabular_reader import (
    PRESETS,
    ColumnMapping,
    read_csv,
    read_xlsx,
)

__all__ = [
    "PRESETS",
    "ColumnMapping",
    "Statement",
    "StatementLine",
    "StatementRefused",
    "read_statement",
]

_MT940_FIELD = re.compile(rb"(^|\n)[ \t]*:\d{2}[A-Z]?:")


def read_statement(data: bytes, mapping: ColumnMapping | None = None) -> tuple[Statement, ...]:
    """Every statement in the file, or one StatementRefused naming where and why."""
    if not data.strip():
        raise StatementRefused("line 1: the file is empty")
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"PK\x03\x04"):
        return read_xlsx(data, mapping)
    if head.startswith(b"<"):
        return read_camt053(data)
    if _MT940_FIELD.search(data[:4096]):
        return read_mt940(data)
    return read_csv(data, mapping)
