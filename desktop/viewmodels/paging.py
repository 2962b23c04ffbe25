"""Where a paged list stands: the one state class of every list that fetches a page at a time
(the loans list, the audit log, legal cases), so each says "more to come" and "a page is on
its way" the same way.

A page is asked for from where the last one ended (`cursor`: the server's keyset cursor, or
the sort values of the last row shown for the cache's keyset pages), never by offset: rows
keep arriving while people read, and an offset would skip or repeat them. A new filter or sort
starts a new generation, so a page that was on its way for the old one is dropped, not shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

C = TypeVar("C")


@dataclass
class Paging(Generic[C]):
    limit: int
    """Rows a page asks for."""
    cursor: C | None = None
    """Where the next page starts; None before the first page and after the last."""
    started: bool = False
    """The first page of this generation has come."""
    loading: bool = False
    """A page is on its way: no other is asked for until it comes (or fails)."""
    generation: int = 0

    def restart(self) -> int:
        """Back to before the first page, for a new filter or sort; returns the generation a
        page must carry to be accepted."""
        self.cursor = None
        self.started = False
        self.loading = False
        self.generation += 1
        return self.generation

    @property
    def has_more(self) -> bool:
        return not self.started or self.cursor is not None

    @property
    def can_fetch_more(self) -> bool:
        return not self.loading and self.has_more

    def begin(self) -> int:
        """A page is being asked for; returns its generation."""
        self.loading = True
        return self.generation

    def accept(self, generation: int, cursor: C | None) -> bool:
        """A page came, ending where `cursor` says the next one starts. False (and nothing
        changed) when it belongs to an earlier generation."""
        if generation != self.generation:
            return False
        self.loading = False
        self.started = True
        self.cursor = cursor
        return True

    def failed(self, generation: int) -> bool:
        """The page did not come; another may be asked for. False for an earlier generation."""
        if generation != self.generation:
            return False
        self.loading = False
        return True
