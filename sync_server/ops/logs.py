"""Structured logs: one JSON object a line on stderr, for journald, the Windows service
wrapper's log file or any collector.

What a line may hold is decided by the code that writes it (a route template, a status, a
job's name and date, an error's kind), never by what a client sent. As a last guard the
formatter drops exception messages (a database error quotes the row it refused: a name, a
phone) and masks anything shaped like a bearer token, a JWT or a password assignment.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

_STANDARD = frozenset(
    vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)).keys()
    | {"message", "asctime", "taskName"}
)
_SECRETS = re.compile(
    r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"
    r"|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
    r"|((?:password|passwd|secret|token)\s*[=:]\s*)\S+"
)


def scrub(text: str) -> str:
    def mask(match: re.Match[str]) -> str:
        prefix = match.group(1) or match.group(2) or ""
        return f"{prefix}[redacted]"

    return _SECRETS.sub(mask, text)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = (
                    value if isinstance(value, int | float | bool | None) else scrub(str(value))
                )
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            line["exc_type"] = kind.__name__
            line["stack"] = [
                f"{frame.filename.rsplit('/', 1)[-1]}:{frame.lineno} {frame.name}"
                for frame in traceback.extract_tb(tb)
            ][-12:]
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str = "info", *, fmt: str | None = None) -> None:
    """JSON lines on stderr for the server process (`LOANDESK_LOG_FORMAT=text` for people
    reading a terminal). Uvicorn's own access log is replaced by `loandesk.request` lines,
    which name the route template instead of the path and query a client sent."""
    fmt = (fmt or os.environ.get("LOANDESK_LOG_FORMAT") or "json").lower()
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.disabled = True
