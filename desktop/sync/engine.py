"""The sync engine: push the outbox, then pull until caught up. No Qt here; the desktop runs
`sync()` on a worker thread and wraps `on_progress` in a signal.

An outbox row is retired only on a final answer (applied, duplicate, conflict, rejected:
`loancore.contract.FINAL_STATUSES`), in the same local transaction that stores the answer.
A `deferred` answer ("not now": the office has switched that work off, nothing was recorded)
keeps the row queued under the same id, marked paused, and each later round sends it again
until the switch is back on; the round's interval is its backoff. Anything else (a timeout,
a dropped reply, the server busy or away) leaves the row where it is, to be sent again: the
server answers a repeat with the first answer, so sending twice never records twice.

A batch the server refuses whole as unreadable (422: an entry the contract no longer accepts,
say one queued by an older desk) would be refused the same way on every round, and every
entry behind it would wait for ever. So the batch is sent again one entry at a time: an entry
refused on its own is settled as `rejected` with the server's words (nothing was recorded
under its id; Sync problems offers to enter it again) and the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)
from tenacity.wait import wait_base

from desktop.cache.queries import LOAN_PAGE_SIZE
from desktop.cache.store import Cache
from desktop.failures import sentence
from desktop.format import count
from desktop.sync.api import ApiClient, ApiError, ServerBusyError, TransportError
from loancore.contract import FINAL_STATUSES, CommandStatus
from loancore.money import indian_grouping

log = logging.getLogger("loandesk.desktop.sync")

DEFINITIVE = frozenset(status.value for status in FINAL_STATUSES)
DEFERRED = CommandStatus.DEFERRED.value
RETRYABLE = (TransportError, ServerBusyError)
UNREADABLE = 422
PULL_PAGE = 5000
"""Changes asked for per page: the server's most. A branch's first sync is 50,000 loans; each
page costs a request, a transaction and a refresh of the cache's statistics on both sides, so
few large pages beat many small ones (bench/bench_pull.py)."""
FIRST_PAGE = LOAN_PAGE_SIZE
"""The first page of a round: one screenful of the Loans list, so it is on screen fast (a
branch's first sync shows its loans while the rest arrive)."""
"""The server's answer to a push it cannot read: nothing in the batch was recorded."""


@dataclass(frozen=True, slots=True)
class SyncProgress:
    phase: str  # push | pull | done | failed
    done: int
    total: int | None
    message: str


@dataclass
class SyncReport:
    sent: int = 0
    deferred: int = 0
    answers: dict[str, int] = field(default_factory=dict)
    pulled: int = 0
    cursor: int = 0
    caught_up: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


ProgressCallback = Callable[[SyncProgress], None]


class SyncEngine:
    def __init__(
        self,
        api: ApiClient,
        cache: Cache,
        *,
        batch_size: int = 200,
        pull_limit: int = PULL_PAGE,
        first_page: int = FIRST_PAGE,
        attempts: int = 4,
        wait: wait_base | None = None,
        max_pages: int = 10_000,
        on_progress: ProgressCallback | None = None,
    ) -> None:
        self.api = api
        self.cache = cache
        self.batch_size = batch_size
        self.pull_limit = pull_limit
        self.first_page = first_page
        self.attempts = attempts
        self.wait = wait or wait_exponential(multiplier=0.5, min=0.5, max=30)
        self.max_pages = max_pages
        self.on_progress = on_progress

    def _progress(self, phase: str, done: int, total: int | None, message: str) -> None:
        if self.on_progress is not None:
            self.on_progress(SyncProgress(phase, done, total, message))

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self.wait,
            retry=retry_if_exception_type(RETRYABLE),
            reraise=False,
        )

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            return self._retrying()(fn)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise last if last is not None else exc from None

    def sync(self) -> SyncReport:
        """One round: push everything queued, then pull until the server has nothing more."""
        report = SyncReport()
        try:
            self.push(report)
            self.pull(report)
        except Exception as exc:  # any failure ends the round; the queue is intact
            # A sentence for people (Home, the status bar); the exception goes to the log.
            report.error = sentence(exc, doing="a sync round")
        if report.error:
            self._progress("failed", report.sent, None, report.error)
        else:
            self._progress("done", report.sent, report.sent, "Up to date")
        return report

    def push(self, report: SyncReport | None = None) -> SyncReport:
        report = report or SyncReport()
        total = self.cache.outbox_size()
        device_id = self.cache.device_id()
        after = 0
        for _ in range(total // max(1, self.batch_size) + 1):
            rows = self.cache.outbox(self.batch_size, after=after)
            if not rows:
                break
            after = rows[-1].position
            commands = [row.command for row in rows]
            ids = [row.command_id for row in rows]
            try:
                answers = self._call(partial(self.api.push, commands, device_id))
            except RETRYABLE as exc:
                self.cache.note_attempt(ids, str(exc))
                raise
            except ApiError as exc:
                if exc.status != UNREADABLE:
                    raise
                answers = self._one_at_a_time(commands, device_id)
            definitive = [answer for answer in answers if answer.get("status") in DEFINITIVE]
            self.cache.settle(definitive)
            for answer in definitive:
                status = str(answer["status"])
                report.answers[status] = report.answers.get(status, 0) + 1
            report.sent += len(definitive)
            deferred = [answer for answer in answers if answer.get("status") == DEFERRED]
            report.deferred += self.cache.defer(deferred)
            answered = definitive + deferred
            missing = set(ids) - {str(answer["id"]) for answer in answered}
            if missing:
                # An answer missing from the reply: those rows wait for the next round.
                self.cache.note_attempt(sorted(missing), "no answer in the reply")
            self._progress("push", report.sent, total, f"Sent {report.sent} of {total}")
        return report

    def _one_at_a_time(
        self, commands: list[dict[str, Any]], device_id: str
    ) -> list[dict[str, Any]]:
        """A batch refused whole as unreadable, sent again entry by entry: the entry the
        server cannot read is answered `rejected` with its words, the rest as they come."""
        answers: list[dict[str, Any]] = []
        for command in commands:
            try:
                answers.extend(self._call(partial(self.api.push, [command], device_id)))
            except RETRYABLE as exc:
                self.cache.note_attempt([str(command["id"])], str(exc))
                raise
            except ApiError as exc:
                if exc.status != UNREADABLE:
                    raise
                log.warning("entry %s refused as unreadable: %s", command["id"], exc.detail)
                answers.append(
                    {
                        "id": command["id"],
                        "status": CommandStatus.REJECTED.value,
                        "code": exc.code,
                        "reason": exc.detail,
                    }
                )
        return answers

    def pull(self, report: SyncReport | None = None) -> SyncReport:
        """Follow pages until caught up. The next page is asked for while this one lands in
        the cache, so a first sync of a whole branch costs about the larger of the server's
        work and the cache's, not their sum. Only the cache moves the cursor, after it has
        landed a page: if landing fails, the page fetched ahead is dropped and the next round
        asks for it again. Each page's `dpd_as_of` lands with it: a day-end that moved no
        loan still moves every overdue loan's DPD on this desk.

        The round's first page is a small one (`first_page`), so that a branch's first sync
        has loans on screen within a second while the rest follow in full pages; progress
        is reported after each page has landed, out of the total the server gives (what is
        received plus its `remaining`), so the desk can show a determinate bar."""
        report = report or SyncReport()
        cursor = self.cache.cursor()
        first = min(self.first_page, self.pull_limit)
        total: int | None = None
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="loandesk-pull") as ahead:
            pending = ahead.submit(self._call, partial(self.api.pull, cursor, first))
            for _ in range(self.max_pages):
                page = pending.result()
                next_cursor = int(page["next_cursor"])
                if page["has_more"]:
                    pending = ahead.submit(
                        self._call, partial(self.api.pull, next_cursor, self.pull_limit)
                    )
                changes = page["changes"]
                self.cache.apply_changes(
                    changes,
                    next_cursor,
                    business_date=page.get("business_date"),
                    dpd_as_of=page.get("dpd_as_of"),
                    settings=page.get("settings"),
                )
                report.pulled += len(changes)
                cursor = next_cursor
                remaining = page.get("remaining")
                if isinstance(remaining, int) and remaining >= 0:
                    total = report.pulled + (remaining if page["has_more"] else 0)
                self._progress("pull", report.pulled, total, _received(report.pulled, total))
                if not page["has_more"]:
                    report.caught_up = True
                    break
        report.cursor = cursor
        return report


def _received(done: int, total: int | None) -> str:
    """ "Received 5,000 of 50,000 changes", in Indian grouping as every count on the desk."""
    if total is None:
        return f"Received {count(done, 'change')}"
    return f"Received {indian_grouping(done)} of {count(total, 'change')}"
