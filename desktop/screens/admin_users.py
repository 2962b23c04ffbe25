"""Users: everyone who can sign in, with role, branch and access; a form to add a user (the
password typed twice, never shown) and the changes an administrator makes to a user.

Every change is one request the server checks and audits; the server's refusals ("You cannot
change your own role", a weak password, a username already taken) are shown as it words them.
"""

from __future__ import annotations

from collections.abc import Callable

from desktop.format import role_label
from desktop.operations import QueryOp
from desktop.qt import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QKeySequence,
    QLabel,
    QLineEdit,
    QPushButton,
    QShortcut,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._online import answer_failure, fill_with_online, say
from desktop.screens._picking import Picked, picking_table
from desktop.screens._tables import RowsModel
from desktop.viewmodels.admin_users import (
    COLUMNS,
    HEAD_OFFICE,
    AdminUsersViewModel,
    FormField,
    NewUser,
    UserRow,
)
from desktop.viewmodels.online import Branch, message_for
from loancore.roles import Action, Role


def _roles(parent: QWidget) -> QComboBox:
    box = QComboBox(parent)
    for role in Role:
        box.addItem(role_label(role), role.value)
    return box


def _branches(parent: QWidget, branches: tuple[Branch, ...]) -> QComboBox:
    box = QComboBox(parent)
    box.addItem(HEAD_OFFICE, None)
    for branch in branches:
        box.addItem(branch.label, branch.id)
    return box


class CreateUserDialog(QDialog):
    """Sends the form itself and stays open on a refusal, so nothing typed is lost."""

    def __init__(
        self, vm: AdminUsersViewModel, branches: tuple[Branch, ...], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.vm = vm
        self.created: UserRow | None = None
        self.setWindowTitle("LoanDesk — New user")
        self.username = QLineEdit(self)
        self.full_name = QLineEdit(self)
        self.role = _roles(self)
        self.role.setCurrentIndex(self.role.findData(Role.COLLECTOR.value))
        self.branch = _branches(self, branches)
        if branches:
            self.branch.setCurrentIndex(1)
        self.password = QLineEdit(self)
        self.password_again = QLineEdit(self)
        for field in (self.password, self.password_again):
            field.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel(self)
        self.error.setObjectName("error")
        self.error.setWordWrap(True)
        self.error.hide()
        form = QFormLayout()
        form.addRow("Username", self.username)
        form.addRow("Full name", self.full_name)
        form.addRow("Role", self.role)
        form.addRow("Branch", self.branch)
        form.addRow("Password", self.password)
        form.addRow("Password again", self.password_again)
        self.buttons = QDialogButtonBox(self)
        self.create_button = self.buttons.addButton(
            "Create user", QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.create_button.setDefault(True)
        self.buttons.accepted.connect(self.send)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)

    def draft(self) -> NewUser:
        return NewUser(
            username=self.username.text(),
            full_name=self.full_name.text(),
            role=Role(self.role.currentData()),
            branch_id=self.branch.currentData(),
            password=self.password.text(),
            password_again=self.password_again.text(),
        )

    def send(self) -> None:
        draft = self.draft()
        problems = draft.problems()
        if problems:
            self._refused(" ".join(problems.values()))
            focus = {
                FormField.USERNAME: self.username,
                FormField.FULL_NAME: self.full_name,
                FormField.PASSWORD: self.password,
                FormField.PASSWORD_AGAIN: self.password_again,
            }.get(next(iter(problems)))
            if focus is not None:
                focus.setFocus()
            return
        self.create_button.setEnabled(False)
        QueryOp(parent=self, op=lambda: self.vm.create(draft), success=self._created).failure(
            self._failed
        ).run_in_background()

    def _created(self, user: UserRow) -> None:
        self.created = user
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.create_button.setEnabled(True)
        self._refused(message_for(exc))

    def _refused(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


class AdminUsersScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("adminUsersScreen")
        self.context = context
        self.vm = AdminUsersViewModel(context.session.api)
        self.branch_list: tuple[Branch, ...] = ()
        self.dialog: CreateUserDialog | None = None

        body = QWidget(self)
        heading = QLabel("Users", body)
        heading.setObjectName("heading")
        self.summary = QLabel("Loading…", body)
        self.summary.setObjectName("subheading")
        self.new_button = QPushButton("New user…", body)
        self.new_button.clicked.connect(self.new_user)
        self.new_button.setToolTip("Ctrl+N")
        new_key = QShortcut(QKeySequence("Ctrl+N"), self)
        new_key.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        new_key.activated.connect(self.new_user)
        self.refresh_button = QPushButton("Refresh (F5)", body)
        self.refresh_button.clicked.connect(self.reload)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.refresh_button)
        top.addWidget(self.new_button)

        self.model = RowsModel(COLUMNS, parent=self)
        self.table = picking_table(self.model, body, self._selection)
        self.table.setAlternatingRowColors(True)
        self.picked: Picked[UserRow] = Picked(self.table, lambda user: user.username)

        self.editing = QGroupBox("Selected user", body)
        self.who = QLabel("Select a user in the list", self.editing)
        self.who.setWordWrap(True)
        self.role = _roles(self.editing)
        self.role_button = QPushButton("Change role", self.editing)
        self.role_button.clicked.connect(self.change_role)
        self.branch = QComboBox(self.editing)
        self.branch_button = QPushButton("Move", self.editing)
        self.branch_button.clicked.connect(self.change_branch)
        self.active_button = QPushButton("Deactivate", self.editing)
        self.active_button.clicked.connect(self.toggle_active)
        self.message = QLabel(self.editing)
        self.message.setObjectName("notice")
        self.message.setWordWrap(True)
        self.message.hide()
        edit = QFormLayout(self.editing)
        edit.addRow(self.who)
        role_row = QHBoxLayout()
        role_row.addWidget(self.role, 1)
        role_row.addWidget(self.role_button)
        edit.addRow("Role", role_row)
        branch_row = QHBoxLayout()
        branch_row.addWidget(self.branch, 1)
        branch_row.addWidget(self.branch_button)
        edit.addRow("Branch", branch_row)
        edit.addRow("Access", self.active_button)
        edit.addRow(self.message)
        self.editing.setMinimumWidth(340)

        middle = QHBoxLayout()
        middle.addWidget(self.table, 3)
        right = QVBoxLayout()
        right.addWidget(self.editing)
        right.addStretch(1)
        middle.addLayout(right, 2)
        layout = QVBoxLayout(body)
        layout.addWidget(heading)
        layout.addLayout(top)
        layout.addLayout(middle, 1)

        self.panel = fill_with_online(self, body, self.reload)
        self._selection()
        self.reload()

    def activated(self) -> None:
        self.reload()

    def reload(self) -> None:
        self.panel.retry_button.setEnabled(False)
        QueryOp(parent=self, op=self.vm.load, success=self._loaded).failure(
            self._failed
        ).run_in_background()

    def _loaded(self, answer: tuple[tuple[UserRow, ...], tuple[Branch, ...]]) -> None:
        users, self.branch_list = answer
        self.panel.show_content()
        self.panel.retry_button.setEnabled(True)
        active = sum(1 for u in users if u.active)
        self.summary.setText(
            f"{len(users)} users · {active} active · {len(self.branch_list)} branches"
        )
        self.branch.clear()
        self.branch.addItem(HEAD_OFFICE, None)
        for branch in self.branch_list:
            self.branch.addItem(branch.label, branch.id)
        self.picked.replace(users, lambda rows: self.model.set_rows([user.row for user in rows]))
        self._selection()

    @property
    def users(self) -> tuple[UserRow, ...]:
        return self.picked.rows

    def selected(self) -> UserRow | None:
        return self.picked.current()

    def select(self, username: str) -> None:
        self.picked.select(username)

    def _selection(self) -> None:
        user = self.selected()
        for widget in (self.role, self.role_button, self.branch, self.branch_button):
            widget.setEnabled(user is not None)
        self.active_button.setEnabled(user is not None)
        if user is None:
            self.who.setText("Select a user in the list")
            return
        self.who.setText(f"{user.full_name} ({user.username})")
        self.role.setCurrentIndex(self.role.findData(user.role.value))
        self.branch.setCurrentIndex(max(0, self.branch.findData(user.branch_id)))
        self.active_button.setText("Deactivate" if user.active else "Reactivate")

    def _change(self, done: str, call: Callable[[], UserRow]) -> None:
        for button in (self.role_button, self.branch_button, self.active_button):
            button.setEnabled(False)
        QueryOp(parent=self, op=call, success=lambda user: self._changed(user, done)).failure(
            self._failed
        ).run_in_background()

    def change_role(self) -> None:
        user = self.selected()
        if user is not None:
            role = Role(self.role.currentData())
            self._change(
                f"{user.username} is now {role_label(role).lower()}.",
                lambda: self.vm.set_role(user.id, role),
            )

    def change_branch(self) -> None:
        user = self.selected()
        if user is not None:
            branch_id = self.branch.currentData()
            self._change(
                f"{user.username} moved to {self.branch.currentText()}.",
                lambda: self.vm.set_branch(user.id, branch_id),
            )

    def toggle_active(self) -> None:
        user = self.selected()
        if user is not None:
            word = "reactivated" if not user.active else "deactivated; their sessions ended"
            self._change(
                f"{user.username} {word}.", lambda: self.vm.set_active(user.id, not user.active)
            )

    def _changed(self, user: UserRow, done: str) -> None:
        self._say(done, error=False)
        self.reload()

    def new_user(self) -> None:
        dialog = CreateUserDialog(self.vm, self.branch_list, self)
        dialog.accepted.connect(lambda: self._user_created(dialog))
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def _user_created(self, dialog: CreateUserDialog) -> None:
        if dialog.created is not None:
            self._say(f"Created {dialog.created.username}.", error=False)
            self.reload()

    def _failed(self, exc: Exception) -> None:
        self._selection()
        answer_failure(self.panel, self.message, exc)

    def _say(self, text: str, *, error: bool) -> None:
        say(self.message, text, error=error)


register(
    ScreenSpec(
        key="admin_users",
        title="Users",
        action=Action.MANAGE_USERS,
        factory=AdminUsersScreen,
        icon="users",
        order=90,
    )
)
