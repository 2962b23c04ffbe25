"""Who a token's user is, remembered for a moment: the role, branch and standing that every
request reads, without a database read (and a worker thread) per request.

Why it stays safe: an access token proves identity only; whether the user is still active,
and in which role and branch, is the database's say (auth/deps.py). A remembered answer is
forgotten
- at once in this process when anything here changes a user: every flush that writes or
  deletes a User row drops it, and its commit drops it again (a request that read the old row
  between the flush and the commit cannot keep it past the commit), so an administrator's
  deactivation, role change or branch move is obeyed from the next request on;
- after `ttl_seconds` (two by default) when another process changed it (a second server
  process, the `user` command line): that process cannot tell this one, so a deactivated user
  may be served for at most that long there, against the fifteen minutes their token lives.
A user found missing or inactive is never remembered: they are refused by a database read
each time, so their reactivation is seen at once too.

Bounded: at most `max_users` entries (an office has tens of users); when full, the oldest go."""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from sync_server.db.models import User

_CHANGED = "loandesk_changed_users"


@dataclass(frozen=True, slots=True)
class Standing:
    """What a request needs of its user beyond the token: read from the users table."""

    username: str
    role: str
    branch_id: int | None


class PrincipalCache:
    """user id -> Standing for `ttl_seconds`; thread-safe (worker threads forget, the event
    loop reads)."""

    def __init__(
        self,
        *,
        ttl_seconds: float = 2.0,
        max_users: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl_seconds < 0 or max_users < 1:
            raise ValueError("ttl_seconds must not be negative, max_users at least 1")
        self.ttl_seconds = ttl_seconds
        self.max_users = max_users
        self.clock = clock
        self._entries: OrderedDict[uuid.UUID, tuple[float, Standing]] = OrderedDict()
        self._generation = 0
        self._lock = threading.Lock()

    @property
    def generation(self) -> int:
        """Raised by every `forget`: a reader that began before a change does not store the
        standing it read (`remember`), so a change made while it read is never undone."""
        return self._generation

    def get(self, user_id: uuid.UUID) -> Standing | None:
        with self._lock:
            entry = self._entries.get(user_id)
            if entry is None:
                return None
            if self.clock() >= entry[0]:
                del self._entries[user_id]
                return None
            return entry[1]

    def remember(self, user_id: uuid.UUID, standing: Standing, generation: int) -> None:
        """Store what was read, unless a user changed since `generation` was taken."""
        if self.ttl_seconds == 0:
            return
        with self._lock:
            if generation != self._generation:
                return
            self._entries[user_id] = (self.clock() + self.ttl_seconds, standing)
            self._entries.move_to_end(user_id)
            while len(self._entries) > self.max_users:
                self._entries.popitem(last=False)

    def forget(self, user_ids: set[uuid.UUID]) -> None:
        with self._lock:
            self._generation += 1
            for user_id in user_ids:
                self._entries.pop(user_id, None)


_CACHES: weakref.WeakSet[PrincipalCache] = weakref.WeakSet()
_CACHES_GUARD = threading.Lock()


def watch(cache: PrincipalCache) -> None:
    """Have every session of this process tell `cache` of the users it writes (held weakly:
    an app dropped, as tests drop theirs, takes its cache with it)."""
    with _CACHES_GUARD:
        _CACHES.add(cache)


def _forget_everywhere(user_ids: set[uuid.UUID]) -> None:
    with _CACHES_GUARD:
        caches = list(_CACHES)
    for cache in caches:
        cache.forget(user_ids)


@event.listens_for(Session, "after_flush")
def _users_written(session: Session, _context: Any) -> None:
    changed = {
        obj.id
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, User) and obj.id is not None
    }
    if changed:
        session.info.setdefault(_CHANGED, set()).update(changed)
        _forget_everywhere(changed)


@event.listens_for(Session, "after_commit")
def _users_committed(session: Session) -> None:
    changed = session.info.pop(_CHANGED, None)
    if changed:
        _forget_everywhere(changed)


@event.listens_for(Session, "after_rollback")
def _users_rolled_back(session: Session) -> None:
    session.info.pop(_CHANGED, None)
