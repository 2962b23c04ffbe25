"""Collection accounts, for the admin: the lender's bank accounts that take the branches' cash,
and the form to add one, edit it, or close it to new deposits.

A branch manager can deposit cash only into an account set up here for their branch (or one
that takes any branch's cash), so this is where a lender starts before its first deposit. The
list shows numbers masked to the last four digits; choosing an account reads it whole into
the form. Thin: every call runs as an op object through `BankAccountsViewModel`; a refusal
(a bad IFSC, a code or number already set up) is shown in the server's words and nothing is
kept. Keyboard: arrows choose, Ctrl+N starts a new account, Ctrl+S saves, F5 reloads.
"""

from __future__ import annotations

from desktop.operations import QueryOp
from desktop.qt import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QModelIndex,
    QPushButton,
    QStackedWidget,
    Qt,
    QVBoxLayout,
    QWidget,
)
from desktop.screens import ScreenContext, ScreenSpec, register
from desktop.screens._online import answer_failure, fill_with_online, say
from desktop.screens._picking import Picked, picking_table
from desktop.screens._tables import RowsModel
from desktop.viewmodels.bank_accounts import (
    COLUMNS,
    LENDER_WIDE,
    AccountDraft,
    AccountRefused,
    BankAccount,
    BankAccountsViewModel,
)
from desktop.viewmodels.online import Branch
from loancore.roles import Action

NO_ACCOUNTS = (
    "No collection accounts yet. Add each branch's account (Ctrl+N) so its manager can "
    "deposit the day's cash; statements imported later go into the account with their number."
)


class BankAccountsScreen(QWidget):
    def __init__(self, context: ScreenContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bankAccountsScreen")
        self.context = context
        self.vm = BankAccountsViewModel(context.session.api)
        self.branches: tuple[Branch, ...] = ()
        self.editing: BankAccount | None = None
        """The account in the form as the server last gave it; None for a new one."""

        body = QWidget(self)
        heading = QLabel("Collection accounts", body)
        heading.setObjectName("heading")
        intro = QLabel(
            "The lender's bank accounts that take the branches' cash and the borrowers' "
            "transfers. A branch manager deposits cash only into an open account of their "
            "branch or one that takes any branch's cash.",
            body,
        )
        intro.setWordWrap(True)
        self.model = RowsModel(COLUMNS, parent=self)
        self.table = picking_table(self.model, body, self._chosen)
        self.table.setObjectName("bankAccounts")
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.picked: Picked[BankAccount] = Picked(self.table, lambda account: account.code)
        self.empty = QLabel(NO_ACCOUNTS, body)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.listing = QStackedWidget(body)
        self.listing.addWidget(self.table)
        self.listing.addWidget(self.empty)

        self.form_title = QLabel(body)
        self.form_title.setObjectName("subheading")
        self.code = QLineEdit(body)
        self.code.setMaxLength(32)
        self.code.setPlaceholderText("short name finance and the branches use, e.g. HDFC-PNC")
        self.bank_name = QLineEdit(body)
        self.bank_name.setMaxLength(80)
        self.bank_name.setPlaceholderText("e.g. HDFC Bank")
        self.account_no = QLineEdit(body)
        self.account_no.setMaxLength(32)
        self.account_no.setPlaceholderText("9 to 18 digits, as on the cheque book")
        self.ifsc = QLineEdit(body)
        self.ifsc.setMaxLength(11)
        self.ifsc.setPlaceholderText("e.g. HDFC0000123")
        self.branch = QComboBox(body)
        form = QFormLayout()
        form.addRow("Code", self.code)
        form.addRow("Bank", self.bank_name)
        form.addRow("Account number", self.account_no)
        form.addRow("IFSC", self.ifsc)
        form.addRow("Takes the cash of", self.branch)
        self.new_button = QPushButton("New account (Ctrl+N)", body)
        self.new_button.setShortcut("Ctrl+N")
        self.save_button = QPushButton("Save (Ctrl+S)", body)
        self.save_button.setShortcut("Ctrl+S")
        self.active_button = QPushButton(body)
        self.refresh_button = QPushButton("Refresh (F5)", body)
        self.message = QLabel(body)
        self.message.setObjectName("notice")
        self.message.setWordWrap(True)
        self.message.hide()
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.active_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(body)
        layout.addWidget(heading)
        layout.addWidget(intro)
        layout.addWidget(self.listing, 1)
        layout.addWidget(self.form_title)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self.new_button.clicked.connect(self.start_new)
        self.save_button.clicked.connect(self.save)
        self.active_button.clicked.connect(self.toggle_active)
        self.refresh_button.clicked.connect(self.reload)
        for field in (self.code, self.bank_name, self.account_no, self.ifsc):
            field.returnPressed.connect(self.save)
        self.panel = fill_with_online(self, body, self.reload)
        self.start_new()
        self.reload()

    def activated(self) -> None:
        self.reload()

    # -- reading ---------------------------------------------------------------------------

    def reload(self) -> None:
        self.panel.retry_button.setEnabled(False)
        QueryOp(parent=self, op=self.vm.load, success=self.show_accounts).failure(
            self._failed
        ).run_in_background()

    @property
    def accounts(self) -> tuple[BankAccount, ...]:
        return self.picked.rows

    def show_accounts(self, found: tuple[tuple[BankAccount, ...], tuple[Branch, ...]]) -> None:
        accounts, branches = found
        if branches != self.branches:
            self.branches = branches
            self.branch.clear()
            for branch in branches:
                self.branch.addItem(branch.label, branch.id)
            self.branch.addItem(LENDER_WIDE, None)
        self.panel.show_content()
        self.panel.retry_button.setEnabled(True)
        self.picked.replace(accounts, lambda rows: self.model.set_rows([a.row for a in rows], rows))
        self.listing.setCurrentWidget(self.table if accounts else self.empty)
        if self.editing is not None and self.picked.current() is None:
            # an account just added is in the form but was never picked in the list
            self.select(self.editing.code)

    def select(self, code: str) -> None:
        self.picked.select(code)

    def _chosen(self) -> None:
        picked = self.picked.current()
        if picked is not None:
            code = picked.code
            QueryOp(
                parent=self, op=lambda: self.vm.account(code), success=self._chosen_read
            ).failure(self._failed).run_in_background()

    def _chosen_read(self, account: BankAccount) -> None:
        # Reads run in the background and may land out of order (focus picks the first row,
        # then the admin's row): the form follows the row that is current, not the last answer.
        picked = self.picked.current()
        if picked is not None and picked.code == account.code:
            self.edit(account)

    # -- the form ---------------------------------------------------------------------------

    def start_new(self) -> None:
        self.editing = None
        # no row current either, so a reload does not pick one again over the new account
        self.table.setCurrentIndex(QModelIndex())
        self.table.clearSelection()
        self.form_title.setText("New collection account (in rupees)")
        for field in (self.code, self.bank_name, self.account_no, self.ifsc):
            field.clear()
        self.code.setReadOnly(False)
        self.active_button.hide()
        self.message.hide()
        self.code.setFocus()

    def edit(self, account: BankAccount) -> None:
        self.editing = account
        state = "open to deposits" if account.active else "closed to deposits"
        self.form_title.setText(f"{account.code}: {state}")
        self.code.setText(account.code)
        self.code.setReadOnly(True)
        self.bank_name.setText(account.bank_name or "")
        self.account_no.setText(account.account_no)
        self.ifsc.setText(account.ifsc or "")
        self.branch.setCurrentIndex(max(0, self.branch.findData(account.branch_id)))
        self.active_button.setText(
            "Close to deposits" if account.active else "Open to deposits again"
        )
        self.active_button.show()

    def draft(self) -> AccountDraft:
        return AccountDraft(
            code=self.code.text(),
            bank_name=self.bank_name.text(),
            account_no=self.account_no.text(),
            ifsc=self.ifsc.text(),
            branch_id=self.branch.currentData(),
        )

    def save(self) -> None:
        draft, was = self.draft(), self.editing
        self.save_button.setEnabled(False)

        def send() -> BankAccount:
            return self.vm.create(draft) if was is None else self.vm.change(was, draft)

        done = "added" if was is None else "saved"
        QueryOp(parent=self, op=send, success=lambda a: self._saved(a, done)).failure(
            self._failed
        ).run_in_background()

    def toggle_active(self) -> None:
        account = self.editing
        if account is None:
            return
        self.active_button.setEnabled(False)
        done = "closed to deposits" if account.active else "open to deposits again"
        QueryOp(
            parent=self,
            op=lambda: self.vm.set_active(account.code, not account.active),
            success=lambda a: self._saved(a, done),
        ).failure(self._failed).run_in_background()

    def _saved(self, account: BankAccount, done: str) -> None:
        self.save_button.setEnabled(True)
        self.active_button.setEnabled(True)
        self.edit(account)
        say(self.message, f"{account.code} {done}.", error=False)
        self.reload()

    def _failed(self, exc: Exception) -> None:
        self.save_button.setEnabled(True)
        self.active_button.setEnabled(True)
        if isinstance(exc, AccountRefused):
            say(self.message, str(exc), error=True)
            return
        answer_failure(self.panel, self.message, exc)


register(
    ScreenSpec(
        key="bank_accounts",
        title="Collection accounts",
        action=Action.MANAGE_BANK_ACCOUNTS,
        factory=BankAccountsScreen,
        icon="rupee",
        order=97,
    )
)
