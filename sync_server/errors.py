"""One error family for everything a person or a client can cause.

Services raise these; one handler in app.py turns them into `{"error": code, "detail": message}`
with the status they carry, so a client never sees a stack trace and every refusal reads the same.

A switched-off feature (`FeatureDisabled`) is "not now", never "no": over REST it is a 503 with
`Retry-After` (nothing was recorded; the same request may be sent again later), and in a sync
push it is the per-command answer `deferred`, which no client retires from its outbox.
"""

from __future__ import annotations

NESTED_TOO_DEEPLY = "The request body is nested too deeply to read"


class LoanDeskError(Exception):
    status: int = 400
    code: str = "bad_request"
    headers: dict[str, str] | None = None
    """Response headers the answer carries (e.g. `Retry-After` on a "not now")."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ValidationFailed(LoanDeskError):
    status = 422
    code = "validation_failed"


class NotAuthenticated(LoanDeskError):
    status = 401
    code = "not_authenticated"


class Forbidden(LoanDeskError):
    status = 403
    code = "forbidden"


class NotFound(LoanDeskError):
    status = 404
    code = "not_found"


class Conflict(LoanDeskError):
    status = 409
    code = "conflict"


class IdTaken(Conflict):
    """An entry's client-minted id is already on record with other content. A sync push
    answers it `conflict` (not `rejected`) and records nothing under the id, so the first
    entry's own retry is still recognised as a duplicate."""

    code = "id_conflict"


class ImmutableField(Conflict):
    code = "immutable_field"


class SameMakerAndChecker(Conflict):
    """Maker-checker: whoever entered a record may not also be the one who approves it, whatever
    their role. A 409, not a 403: the user has the right to decide such records, just not this
    one, and the same request from another user succeeds (audited as 'refused')."""

    code = "maker_checker"


class FeatureDisabled(LoanDeskError):
    """The office has paused this work: try again later (the status and header say so)."""

    status = 503
    code = "feature_disabled"
    headers = {"Retry-After": "300"}  # noqa: RUF012 (read only, one shared value)


class TooManyRequests(LoanDeskError):
    status = 429
    code = "too_many_requests"


class UpgradeRequired(LoanDeskError):
    status = 426
    code = "upgrade_required"


class PayloadTooLarge(LoanDeskError):
    status = 413
    code = "payload_too_large"
