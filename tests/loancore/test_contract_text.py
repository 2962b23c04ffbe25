"""Text on the wire: no control character in any text field, line breaks only in notes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from loancore.contract import PAYLOAD_MODELS, PushRequest
from loancore.text import LINE_PATTERN, PARAGRAPH_PATTERN, Line, Paragraph

CONTROLS = [chr(c) for c in (*range(0x20), 0x7F)]


@pytest.mark.parametrize("control", CONTROLS)
def test_a_line_refuses_every_control_character(control: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        TypeAdapter(Line).validate_python(f"RCPT{control}1")


@pytest.mark.parametrize("control", [c for c in CONTROLS if c not in "\t\n\r"])
def test_a_paragraph_refuses_controls_other_than_line_breaks(control: str) -> None:
    with pytest.raises(ValidationError, match="control characters"):
        TypeAdapter(Paragraph).validate_python(f"note{control}")


def test_a_paragraph_keeps_its_line_breaks_and_tabs() -> None:
    text = "Visited twice.\r\nWife says\tMonday."
    assert TypeAdapter(Paragraph).validate_python(text) == text


@given(st.text(max_size=40))
def test_the_documented_patterns_agree_with_the_validators(text: str) -> None:
    """A client generated from the JSON schema refuses exactly what the server refuses."""
    for kind, pattern in ((Line, LINE_PATTERN), (Paragraph, PARAGRAPH_PATTERN)):
        accepted = True
        try:
            TypeAdapter(kind).validate_python(text)
        except ValidationError:
            accepted = False
        assert accepted == bool(re.fullmatch(pattern.strip("^$"), text))


def _text_properties(model: type[BaseModel]) -> list[tuple[str, dict[str, object]]]:
    schema = model.model_json_schema()
    found = []
    for name, prop in schema["properties"].items():
        options = prop.get("anyOf", [prop])
        found.extend(
            (name, option)
            for option in options
            if option.get("type") == "string" and "format" not in option and "enum" not in option
        )
    return found


@pytest.mark.parametrize("model", [*PAYLOAD_MODELS.values(), PushRequest])
def test_every_text_field_a_device_sends_documents_the_control_character_rule(
    model: type[BaseModel],
) -> None:
    for name, option in _text_properties(model):
        assert option.get("pattern") in (LINE_PATTERN, PARAGRAPH_PATTERN), (model, name)
