"""The lender's settings: every setting with its value, default and who last changed it; and
below the list, the selected one's bounds and an edit box.

A change is checked on the desk first (loancore's rules: the message appears at once) and then
by the server, which saves it from today's business date on and audits it. Desks get the new
values with their next sync.
"""

from __future__ import annotations

from desktop.operations import QueryOp
from desktop.qt import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._online import answer_failure, fill_with_online, say
from desktop.screens._picking import Picked, picking_table
from desktop.screens._tables import RowsModel
from desktop.viewmodels.admin_settings import (
    COLUMNS,
    AdminSettingsViewModel,
    Setting,
    SettingsView,
)
from loancore.roles import Action


class AdminSettingsScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("adminSettingsScreen")
        self.context = context
        self.vm = AdminSettingsViewModel(context.session.api)

        body = QWidget(self)
        heading = QLabel("Lender settings", body)
        heading.setObjectName("heading")
        intro = QLabel(
            "The figures the rules use: limits on what is accepted, charges, the NPA threshold, "
            "contact hours, reconciliation windows and scoring weights. A change applies from "
            "today's business date; earlier nights keep the values they had. Desks receive it "
            "with their next sync.",
            body,
        )
        intro.setWordWrap(True)
        self.message = QLabel(body)
        self.message.setObjectName("notice")
        self.message.setWordWrap(True)
        self.message.hide()
        self.editor = QLineEdit(body)
        self.model = RowsModel(COLUMNS, parent=self)
        self.table = picking_table(self.model, body, self._selection)
        self.picked: Picked[Setting] = Picked(self.table, lambda setting: setting.key)
        self.table.doubleClicked.connect(lambda _i: self.editor.setFocus())

        self.chosen = QLabel("Choose a setting to change it.", body)
        self.chosen.setWordWrap(True)
        self.editor.setEnabled(False)
        self.editor.returnPressed.connect(self.save)
        self.editor.textEdited.connect(lambda _t: self.message.hide())
        self.save_button = QPushButton("Save", body)
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save)
        can_change = context.can(Action.MANAGE_SETTINGS)
        for widget in (self.editor, self.save_button):
            widget.setVisible(can_change)
        self.refresh_button = QPushButton("Refresh (F5)", body)
        self.refresh_button.clicked.connect(self.reload)
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.chosen, 2)
        edit_row.addWidget(self.editor, 1)
        edit_row.addWidget(self.save_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.message, 1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(body)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(edit_row)
        layout.addLayout(buttons)

        self.panel = fill_with_online(self, body, self.reload)
        self.reload()

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.panel.retry_button.setEnabled(False)
        QueryOp(parent=self, op=self.vm.load, success=self.show_settings).failure(
            self._failed
        ).run_in_background()

    def show_settings(self, view: SettingsView) -> None:
        self.vm.shown(view)
        self.panel.show_content()
        self.panel.retry_button.setEnabled(True)
        self.picked.replace(
            view.settings, lambda rows: self.model.set_rows([setting.row for setting in rows])
        )
        self._selection()

    @property
    def settings(self) -> tuple[Setting, ...]:
        return self.picked.rows

    def selected(self) -> Setting | None:
        return self.picked.current()

    def select(self, key: str) -> None:
        self.picked.select(key)

    def _selection(self) -> None:
        setting = self.selected()
        self.editor.setEnabled(setting is not None)
        self.save_button.setEnabled(setting is not None)
        if setting is None:
            self.chosen.setText("Choose a setting to change it.")
            return
        self.chosen.setText(f"{setting.title}: {setting.bounds}.")
        self.editor.setText(setting.editable_text)

    def save(self) -> None:
        setting = self.selected()
        if setting is None or not self.context.can(Action.MANAGE_SETTINGS):
            return
        try:
            body = self.vm.check(setting, self.editor.text())
        except ValueError as bad:
            say(self.message, str(bad), error=True)
            return
        self.save_button.setEnabled(False)
        QueryOp(
            parent=self, op=lambda: self.vm.change(body), success=lambda v: self._saved(setting, v)
        ).failure(self._failed).run_in_background()

    def _saved(self, setting: Setting, view: SettingsView) -> None:
        self.show_settings(view)
        now = next((s for s in view.settings if s.key == setting.key), setting)
        say(self.message, f"Saved: {now.title} is now {now.row[2]}.", error=False)

    def _failed(self, exc: Exception) -> None:
        self._selection()
        answer_failure(self.panel, self.message, exc)


register(
    ScreenSpec(
        key="admin_settings",
        title="Lender settings",
        action=Action.MANAGE_SETTINGS,
        factory=AdminSettingsScreen,
        icon="settings",
        order=96,
    )
)
