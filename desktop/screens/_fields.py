"""The line under a form's field that says what is wrong with it (the payment, promise and
dispute forms): hidden until a check fails, then red and wrapped beside the field it names,
so the person sees which entry to correct without a dialog over the form."""

from __future__ import annotations

from desktop.qt import QLabel, QWidget


def field_error_label(parent: QWidget) -> QLabel:
    """A hidden label for one field's error; the form shows it with the error's text."""
    label = QLabel(parent)
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    label.setStyleSheet("color: #a61b1b;")
    label.hide()
    return label
