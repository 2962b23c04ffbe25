"""The one "data changed" signal of the desktop.

Screens never call each other to say "refresh": whoever changes data (a sync round, a payment
entered, a promise logged) announces the topics it touched, and every screen that shows any
of them reloads. One signal object per application, handed to screens in their context.
"""

from __future__ import annotations

from enum import StrEnum

from desktop.qt import QObject, Signal


class Topic(StrEnum):
    LOANS = "loans"
    PAYMENTS = "payments"
    PROMISES = "promises"
    DISPUTES = "disputes"
    CONTACTS = "contacts"
    LEGAL = "legal"
    REMINDERS = "reminders"
    OUTBOX = "outbox"
    SYNC = "sync"


EVERYTHING: frozenset[Topic] = frozenset(Topic)


class DataChanged(QObject):
    """`changed` carries a frozenset of `Topic`; a listener checks `topics & what_i_show`."""

    changed = Signal(object)

    def announce(self, *topics: Topic) -> None:
        """Safe from any thread: Qt queues the delivery onto each listener's thread."""
        if topics:
            self.changed.emit(frozenset(topics))
