"""From a pushed command's type to the feature service that owns the write.

Nothing is decided here: each feature's service checks the role and the loan's scope, writes
the change and its audit entry in the caller's transaction, and emits the change-log rows
devices will pull (`sync_server.auth.command`). A refusal raises a LoanDeskError before
anything is written; the push turns it into a `rejected` answer.
"""

from __future__ import annotations

from sync_server.auth.command import Handler
from sync_server.contacts.service import log_contact
from sync_server.disputes.service import close_dispute, open_dispute
from sync_server.legal.service import record_note
from sync_server.payments.service import record_pushed_payment
from sync_server.promises.service import record_promise

HANDLERS: dict[str, Handler] = {
    "payment": record_pushed_payment,
    "promise": record_promise,
    "dispute_open": open_dispute,
    "dispute_close": close_dispute,
    "contact_log": log_contact,
    "legal_note": record_note,
}
