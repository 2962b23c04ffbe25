"""The picked row of an admin list (`Picked`): it is found by its key, not its place, so it
survives a reload that brings new row objects back in another order, and a row gone from the
list leaves nothing picked rather than the row that took its place."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pytestqt.qtbot import QtBot

from desktop.qt import QApplication, QWidget
from desktop.screens._picking import Picked, picking_table
from desktop.screens._tables import RowsModel
from tests.desktop.screens.conftest import OFFSCREEN_NOISE

pytestmark = pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)


@dataclass(frozen=True)
class Account:
    code: str
    bank: str

    @property
    def row(self) -> tuple[str, str]:
        return (self.code, self.bank)


HDFC, SBI, ICICI = (
    Account("HDFC-PNC", "HDFC Bank"),
    Account("SBI-PNC", "SBI"),
    Account("ICICI", "ICICI"),
)


class Shown:
    """A screen's part: fills the model and counts the picks the table reports."""

    def __init__(self, qtbot: QtBot) -> None:
        self.holder = QWidget()
        qtbot.add_widget(self.holder)
        self.model = RowsModel(("Code", "Bank"), parent=self.holder)
        self.picks: list[Account | None] = []
        self.table = picking_table(self.model, self.holder, self._on_pick)
        self.picked: Picked[Account] = Picked(self.table, lambda account: account.code)

    def _on_pick(self) -> None:
        self.picks.append(self.picked.current())

    def show(self, rows: tuple[Account, ...]) -> None:
        self.model.set_rows([account.row for account in rows], rows)

    def reload(self, *rows: Account) -> None:
        self.picked.replace(rows, self.show)


def test_nothing_is_picked_until_a_row_is_chosen_by_its_key(
    qtbot: QtBot, looked: QApplication
) -> None:
    shown = Shown(qtbot)
    shown.reload(HDFC, SBI)
    assert shown.picked.rows == (HDFC, SBI)
    assert shown.picked.current() is None

    shown.picked.select("SBI-PNC")

    assert shown.picked.current() == SBI
    assert shown.table.currentIndex().row() == 1
    assert shown.picks[-1] == SBI, "the screen hears of the pick"


def test_the_pick_follows_its_key_through_a_reload_in_another_order(
    qtbot: QtBot, looked: QApplication
) -> None:
    shown = Shown(qtbot)
    shown.reload(HDFC, SBI, ICICI)
    shown.picked.select("HDFC-PNC")
    renamed = Account("HDFC-PNC", "HDFC Bank Ltd")

    shown.reload(ICICI, SBI, renamed)

    assert shown.picked.current() == renamed, "the fresh row object, not the old one"
    assert shown.table.currentIndex().row() == 2


def test_a_row_no_longer_listed_leaves_nothing_picked(qtbot: QtBot, looked: QApplication) -> None:
    shown = Shown(qtbot)
    shown.reload(HDFC, SBI)
    shown.picked.select("SBI-PNC")

    shown.reload(HDFC, ICICI)

    assert shown.picked.current() is None, "not the row that took its place"
    shown.picked.select("SBI-PNC")
    assert shown.picked.current() is None, "a key not listed picks nothing"


def test_a_current_row_beyond_the_rows_held_is_no_pick(qtbot: QtBot, looked: QApplication) -> None:
    """The model may show a row the rows do not hold yet (filled before `rows` is set)."""
    shown = Shown(qtbot)
    shown.show((HDFC, SBI))  # the model, not `Picked`, was given the rows
    shown.table.selectRow(1)
    assert shown.table.currentIndex().row() == 1
    assert shown.picked.current() is None
