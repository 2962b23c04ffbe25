"""The template in resources/ is exactly what the code writes, so it cannot drift from the
reader; and every sheet the reader knows has a README entry."""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from sync_server.book.template import SHEETS, TEMPLATE_PATH, write_template


def _cells(path: Path) -> dict[str, list[tuple[object, ...]]]:
    book = load_workbook(path, read_only=True)
    try:
        return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}
    finally:
        book.close()


def test_the_template_in_resources_is_the_one_the_code_writes(tmp_path: Path) -> None:
    fresh = write_template(tmp_path / "template.xlsx")
    assert _cells(TEMPLATE_PATH) == _cells(fresh), (
        "resources/loan_book_template.xlsx is stale: run python -m sync_server.book.template"
    )


def test_every_sheet_and_column_is_documented_in_the_readme() -> None:
    cells = _cells(TEMPLATE_PATH)
    readme = "\n".join(str(v) for row in cells["README"] for v in row if v)
    for spec in SHEETS:
        assert [c for c in cells[spec.name][0]] == [c.header for c in spec.columns]
        assert f"Sheet '{spec.name}'" in readme
        for col in spec.columns:
            assert col.header in readme
