"""Text a person typed, as the wire contract and the server's request bodies accept it.

A control character (NUL, ESC, BEL ...) is never text a person meant: PostgreSQL refuses a NUL
outright (aborting the whole transaction), SQLite stores it, and a screen or a receipt prints
the rest as garbage. Every text field is therefore a `Line` or a `Paragraph` (or is built from
the same validator and schema), refused with one clear message on both databases, and the JSON
schema carries the rule as a pattern, so a client generated from it refuses the same.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CONTROL_BUT_LINE_BREAKS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
LINE_PATTERN = r"^[^\x00-\x1f\x7f]*$"
PARAGRAPH_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


def refuse_controls(value: str) -> str:
    """Refuses every C0 control character and DEL."""
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (such as NUL or ESC)")
    return value


def refuse_controls_but_line_breaks(value: str) -> str:
    """As `refuse_controls`, for free text a person may write on several lines (a note)."""
    if _CONTROL_BUT_LINE_BREAKS.search(value):
        raise ValueError("must not contain control characters (such as NUL or ESC)")
    return value


NO_CONTROLS = AfterValidator(refuse_controls)
NO_CONTROLS_BUT_LINE_BREAKS = AfterValidator(refuse_controls_but_line_breaks)
LINE_SCHEMA = Field(json_schema_extra={"pattern": LINE_PATTERN})
PARAGRAPH_SCHEMA = Field(json_schema_extra={"pattern": PARAGRAPH_PATTERN})

Line = Annotated[str, NO_CONTROLS, LINE_SCHEMA]
"""One line of text: every text field of the contract (and of the server's request bodies) is
a Line or a Paragraph, so no control character reaches a database."""
Paragraph = Annotated[str, NO_CONTROLS_BUT_LINE_BREAKS, PARAGRAPH_SCHEMA]
"""Free text that may span lines (tab, line feed and carriage return are allowed)."""
