"""The record-payment dialog: bound to `RecordPaymentViewModel`, which owns every rule.

Each keystroke re-assesses the input, so the provisional split and the refusals are always
those of what is on screen. A message appears beside a field once that field has been touched
(or Save pressed), so a fresh dialog does not open covered in red. After saving, the dialog
stays open on the saved payment, marked pending sync, with "Print receipt", which writes the
receipt PDF and then offers "Open" and "Print": both hand the file to the PC's own PDF viewer
(`QDesktopServices.openUrl`), which is where Windows users print from and which knows their
printers; LoanDesk does not drive printers itself.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from desktop.failures import sentence
from desktop.format import rupees
from desktop.operations import QueryOp
from desktop.qt import (
    QCheckBox,
    QComboBox,
    QDesktopServices,
    QDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRect,
    QScrollArea,
    QShowEvent,
    QSize,
    Qt,
    QTimer,
    QUrl,
    QVBoxLayout,
    QWidget,
    Signal,
)
from desktop.screens import ScreenContext
from desktop.screens._fields import field_error_label
from desktop.screens._fit import SCREEN_SHARE, available_for, fit_dialog, fit_rect
from desktop.signals import DataChanged, Topic
from desktop.viewmodels.receipt import Receipt, SavedPayment, receipt_of, write_receipt
from desktop.viewmodels.record_payment import Assessment, Field, RecordPaymentViewModel
from loancore.acceptance import PaymentMode

MINIMUM_SIZE = QSize(420, 300)
PREFERRED_WIDTH = 560
SAVED_TEXT = "Saved on this computer: pending sync. The server's split is final."
PRINT_HINT = "The receipt is open in your PDF viewer: print it from there (Ctrl+P)."
_READ_AGAIN_ON = frozenset({Topic.PAYMENTS, Topic.LOANS})


class RecordPaymentDialog(QDialog):
    """`saved(payment_id)` is emitted once the payment is in the outbox."""

    saved = Signal(str)

    def __init__(
        self,
        vm: RecordPaymentViewModel,
        *,
        changes: DataChanged | None = None,
        sync_now: Callable[[], object] | None = None,
        receipts_dir: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.vm = vm
        self._changes = changes
        self._sync_now = sync_now
        self._receipts_dir = receipts_dir
        self._touched: set[Field] = set()
        self.saved_payment: SavedPayment | None = None
        self.receipt_path: Path | None = None
        self.assessment: Assessment = vm.assess()
        header = vm.header
        self.setWindowTitle(f"Record payment — {header.account_no}")
        self.setObjectName("recordPaymentDialog")
        self.setMinimumSize(MINIMUM_SIZE)
        self._fitted = False
        self.page = QWidget(self)
        self.page.setObjectName("recordPaymentForm")

        title = QLabel(
            f"<b>{header.account_no}</b> — {header.borrower_name}<br>"
            f"DPD {header.dpd} · {header.bucket_label} · EMI {rupees(header.emi_paise)}",
            self,
        )
        self.closing = QLabel(self)
        self.loan_error = field_error_label(self)

        self.mode = QComboBox(self)
        for mode in PaymentMode:
            self.mode.addItem(mode.label[0].upper() + mode.label[1:], mode)
        self.reference = QLineEdit(self)
        self.reference_label = QLabel(self)
        self.amount = QLineEdit(self)
        self.amount.setPlaceholderText("e.g. 12,500 or 12500.50")
        self.amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.date = QLineEdit(vm.input.date_text, self)
        self.date.setPlaceholderText("DD-MM-YYYY")
        self.date.setInputMask("99-99-9999")
        self.foreclosure = QCheckBox("Foreclosure (close the loan; any excess is refundable)", self)
        self.reason = QLineEdit(self)
        self.reason.setPlaceholderText("Why is this payment dated before today?")
        self.reason_label = QLabel("Backdate reason", self)
        self.errors = {field: field_error_label(self) for field in Field}

        form = QFormLayout()
        form.addRow("Mode", self.mode)
        form.addRow(self.reference_label, self._with_error(self.reference, Field.REFERENCE))
        form.addRow("Amount (₹)", self._with_error(self.amount, Field.AMOUNT))
        form.addRow("Payment date", self._with_error(self.date, Field.DATE))
        form.addRow("", self.foreclosure)
        form.addRow(self.reason_label, self._with_error(self.reason, Field.REASON))

        self.split_box = QGroupBox("Provisional split (the server's is final)", self)
        self.split_lines = QLabel(self.split_box)
        self.split_lines.setObjectName("provisionalSplit")
        self.split_lines.setWordWrap(True)
        self.split_lines.setTextFormat(Qt.TextFormat.RichText)
        split_layout = QVBoxLayout(self.split_box)
        split_layout.addWidget(self.split_lines)
        self.warnings = QLabel(self)
        self.warnings.setObjectName("paymentWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet("color: #8a5a00;")
        self.status = QLabel(self)
        self.status.setObjectName("paymentStatus")
        self.status.setWordWrap(True)
        self.status.hide()

        self.save_button = QPushButton("Save", self)
        self.save_button.setDefault(True)
        self.print_button = QPushButton("Print receipt", self)
        self.print_button.hide()
        self.open_receipt_button = QPushButton("&Open receipt", self)
        self.open_receipt_button.hide()
        self.print_pdf_button = QPushButton("&Print…", self)
        self.print_pdf_button.hide()
        self.close_button = QPushButton("Cancel", self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.open_receipt_button)
        buttons.addWidget(self.print_pdf_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)

        content = QVBoxLayout(self.page)
        content.setContentsMargins(0, 0, 0, 0)
        content.addWidget(title)
        content.addWidget(self.closing)
        content.addWidget(self.loan_error)
        content.addLayout(form)
        content.addWidget(self.split_box)
        content.addWidget(self.warnings)
        content.addWidget(self.status)
        content.addStretch(1)
        # The form scrolls; the buttons stay below it, always on screen, however tall the
        # split, the warnings and the messages grow and whatever the screen's scaling.
        self.form_scroll = QScrollArea(self)
        self.form_scroll.setObjectName("recordPaymentScroll")
        self.form_scroll.setWidget(self.page)
        self.form_scroll.setWidgetResizable(True)
        self.form_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.form_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.outer = QVBoxLayout(self)
        self.outer.addWidget(self.form_scroll, 1)
        self.outer.addLayout(buttons)

        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.reference.textChanged.connect(lambda text: self._edit(Field.REFERENCE, reference=text))
        self.amount.textChanged.connect(lambda text: self._edit(Field.AMOUNT, amount_text=text))
        self.date.textChanged.connect(lambda text: self._edit(Field.DATE, date_text=text))
        self.reason.textChanged.connect(lambda text: self._edit(Field.REASON, backdate_reason=text))
        self.foreclosure.toggled.connect(lambda on: self._edit(Field.AMOUNT, foreclosure=on))
        self.save_button.clicked.connect(self.save)
        self.print_button.clicked.connect(self.print_receipt)
        self.open_receipt_button.clicked.connect(self.open_receipt)
        self.print_pdf_button.clicked.connect(self.print_pdf)
        self.close_button.clicked.connect(self.reject)
        if changes is not None:
            changes.changed.connect(self._data_changed)
        self._mode_changed()

    def wanted_size(self) -> QSize:
        """The form at its natural size, with the buttons, margins and a scroll bar's room."""
        margins = self.outer.contentsMargins()
        page = self.page.sizeHint()
        width = self.form_scroll.viewport().width()
        if self._fitted and width > 0 and self.page.hasHeightForWidth():
            # Wrapped messages are as tall as the width they have now, not the hint's width.
            page.setHeight(max(page.height(), self.page.heightForWidth(width)))
        buttons = self.save_button.sizeHint().height()
        bar = self.form_scroll.verticalScrollBar().sizeHint().width()
        return QSize(
            max(PREFERRED_WIDTH, page.width() + bar + margins.left() + margins.right()),
            page.height()
            + buttons
            + self.outer.spacing()
            + margins.top()
            + margins.bottom()
            + self.fontMetrics().height() // 2,  # slack: a rounding never brings a scroll bar
        )

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 -- Qt's name
        """Sized, when first shown, to the form within the screen it opens on."""
        if not self._fitted:
            self._fitted = True
            fit_dialog(self, self.wanted_size())
        super().showEvent(event)

    def _refit(self) -> None:
        """As messages come and go the dialog grows to show them, never past the screen
        (the form scrolls beyond that, Save stays in view), and shrinks back after."""
        if not self._fitted or not self.isVisible():
            return
        wanted = self.wanted_size().height()
        available = available_for(self)
        height = max(self.minimumHeight(), min(wanted, int(available.height() * SCREEN_SHARE)))
        if height != self.height():
            self.setGeometry(fit_rect(QRect(self.x(), self.y(), self.width(), height), available))

    def _with_error(self, editor: QWidget, where: Field) -> QWidget:
        box = QWidget(self)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(editor)
        column.addWidget(self.errors[where])
        return box

    def _mode_changed(self) -> None:
        mode = PaymentMode(self.mode.currentData())
        self.reference_label.setText(self.vm.reference_label(mode))
        self.reference.setPlaceholderText(self.vm.reference_label(mode))
        self._edit(None, mode=mode)

    def _data_changed(self, topics: frozenset[Topic]) -> None:
        """A pull (or a payment entered elsewhere) may change the dues or the payments the
        checks count: the view-model reads them again off the UI thread."""
        if self.saved_payment is not None or not topics & _READ_AGAIN_ON:
            return
        QueryOp(parent=self, op=self.vm.read, success=self._read_again).failure(
            lambda _exc: None  # the loan left this computer: Save's own read will say so
        ).run_in_background()

    def _read_again(self, _result: object) -> None:
        if self.saved_payment is None:
            self._show(self._reassess())

    def _reassess(self) -> Assessment:
        self.assessment = self.vm.assess()
        return self.assessment

    def _edit(self, where: Field | None, **change: object) -> None:
        if where is not None:
            self._touched.add(where)
        self.assessment = self.vm.update(**change)
        self._show(self.assessment)

    def _show(self, seen: Assessment) -> None:
        self.closing.setText(f"Needed to close the loan: {rupees(seen.closing_amount)}")
        for where, label in self.errors.items():
            message = seen.errors.get(where, "")
            visible = bool(message) and where in self._touched
            label.setText(message)
            label.setVisible(visible)
        self.loan_error.setText(seen.errors.get(Field.LOAN, ""))
        self.loan_error.setVisible(Field.LOAN in seen.errors)
        backdated = seen.backdated
        self.reason.setVisible(backdated)
        self.reason_label.setVisible(backdated)
        if seen.split:
            rows = "".join(
                f"<tr><td>{line.text}</td><td align='right'>{rupees(line.amount_paise)}</td></tr>"
                for line in seen.split
            )
            self.split_lines.setText(f"<table width='100%'>{rows}</table>")
        else:
            self.split_lines.setText("<i>Enter an amount and a date to see the split.</i>")
        self.warnings.setText("\n".join(seen.warnings))
        self.warnings.setVisible(bool(seen.warnings))
        self.save_button.setEnabled(seen.can_save and self.saved_payment is None)
        QTimer.singleShot(0, self, self._refit)

    def save(self) -> None:
        if self.saved_payment is not None:
            return
        self._touched.update(Field)
        self._show(self.vm.assess())
        if not self.assessment.can_save:
            return
        self.save_button.setEnabled(False)
        op = QueryOp(parent=self, op=self.vm.save, success=self._saved).failure(self._not_saved)
        if self._changes is not None:
            op = op.announcing(self._changes, Topic.PAYMENTS, Topic.OUTBOX, Topic.LOANS)
        op.run_in_background()

    def _saved(self, payment: SavedPayment) -> None:
        self.saved_payment = payment
        for editor in (self.mode, self.reference, self.amount, self.date, self.reason):
            editor.setEnabled(False)
        self.foreclosure.setEnabled(False)
        self.save_button.hide()
        self.print_button.show()
        self.print_button.setDefault(True)
        self.close_button.setText("Close")
        self._say(f"{SAVED_TEXT} Receipt no. {self._receipt(payment).number}.")
        self.saved.emit(payment.payment_id)
        if self._sync_now is not None:
            self._sync_now()

    def _not_saved(self, exc: Exception) -> None:
        self._say(f"Not saved: {sentence(exc, doing='saving a payment')}")
        self.save_button.setEnabled(True)

    def _receipt(self, payment: SavedPayment) -> Receipt:
        return receipt_of(payment)

    def print_receipt(self) -> None:
        """Write the PDF in the background; its path is shown and kept in `receipt_path`."""
        payment = self.saved_payment
        if payment is None or self._receipts_dir is None:
            return
        receipt = self._receipt(payment)
        target = self._receipts_dir / f"receipt-{receipt.number}.pdf"
        QueryOp(
            parent=self, op=lambda: write_receipt(receipt, target), success=self._printed
        ).run_in_background()

    def _printed(self, path: Path) -> None:
        self.receipt_path = path
        self.print_button.hide()
        self.open_receipt_button.show()
        self.print_pdf_button.show()
        self.print_pdf_button.setDefault(True)
        self._say(f"{SAVED_TEXT} Receipt saved as {path}")

    def open_receipt(self) -> bool:
        """Shows the saved PDF in the PC's viewer; False (and says so) when none opens it."""
        if self.receipt_path is None:
            return False
        opened = bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.receipt_path))))
        if not opened:
            self._say(
                f"No program on this computer opens PDF files. The receipt is saved as "
                f"{self.receipt_path}"
            )
        return opened

    def print_pdf(self) -> bool:
        if self.open_receipt():
            self._say(PRINT_HINT)
            return True
        return False

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.status.show()
        QTimer.singleShot(0, self, self._refit)


def payment_view_model(context: ScreenContext, loan_id: str) -> RecordPaymentViewModel:
    """Reads the cache: call it off the UI thread (`open_record_payment` does)."""
    user = context.user
    return context.book.record_payment(
        loan_id,
        user_id=user.id,
        user_name=user.full_name,
        role=user.role,
        business_date=context.book.business_date(context.clock()),
        clock=context.clock,
        lender=context.settings.lender,
    )


def receipts_folder(context: ScreenContext) -> Path:
    return context.settings.folder / "receipts"


def open_record_payment(
    context: ScreenContext,
    loan_id: str,
    parent: QWidget | None = None,
    then: Callable[[RecordPaymentDialog], object] | None = None,
) -> None:
    """Reads the loan, its dues and the payments entered off the UI thread, then opens the
    dialog for it (window-modal over `parent`) and hands it to `then`."""

    def opened(vm: RecordPaymentViewModel) -> None:
        dialog = RecordPaymentDialog(
            vm,
            changes=context.changes,
            sync_now=context.sync.sync_now,
            receipts_dir=receipts_folder(context),
            parent=parent,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.show()
        if then is not None:
            then(dialog)

    QueryOp(
        parent=parent, op=lambda: payment_view_model(context, loan_id), success=opened
    ).with_progress("Reading the loan…").run_in_background()
