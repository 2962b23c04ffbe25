"""The screens of the desktop and how a new one joins the main window.

A screen is one module in this package. It builds its widget from a `ScreenContext` and
registers itself once, at import, with the action that gates it:

    # desktop/screens/loans.py
    from desktop.screens import ScreenContext, ScreenSpec, register
    from loancore.roles import Action

    class LoansScreen(QWidget):
        def __init__(self, context: ScreenContext) -> None: ...
        def activated(self) -> None:  # optional: called each time the user opens it
            ...

    register(ScreenSpec(key="loans", title="Loans", action=Action.VIEW_LOANS,
                        factory=LoansScreen, icon="loans", order=20, shortcut="Ctrl+L"))

`load_screens()` imports every module of the package, so nothing else needs editing. The main
window shows a screen only to roles for which `loancore.roles.can(role, action)` is true, in
`order`, and gives the first nine Ctrl+1..Ctrl+9 by position; `shortcut` is an extra one of the
screen's own. Factories run the first time a screen is opened, not at sign-in.

Screens stay thin: they bind widgets to a view-model, run slow work through
`desktop.operations.QueryOp`, show errors with `desktop.errors.show_error`, announce what they
changed on `context.changes` and reload when `context.changes.changed` names a topic they show.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from desktop.auth import SignedInUser, UserSession
from desktop.qt import QWidget
from desktop.settings import ClientSettings
from desktop.signals import DataChanged
from desktop.sync_worker import SyncWorker
from desktop.viewmodels.desk import DeskBook
from loancore.roles import Action, Role, can

MAX_NUMBERED_SHORTCUTS = 9


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ScreenContext:
    """Everything a screen may use. `book` hands out the view-models and the named cache
    reads (a screen never holds the cache); `sync` exposes `state`, `state_changed` and
    `sync_now()`."""

    session: UserSession
    book: DeskBook
    changes: DataChanged
    sync: SyncWorker
    settings: ClientSettings
    clock: Callable[[], datetime] = _utc_now

    @property
    def user(self) -> SignedInUser:
        return self.session.user

    @property
    def role(self) -> Role:
        return self.session.user.role

    def can(self, action: Action) -> bool:
        """For buttons inside a screen; the server checks again whatever is sent."""
        return can(self.role, action)


ScreenFactory = Callable[[ScreenContext], QWidget]


@dataclass(frozen=True, slots=True)
class ScreenSpec:
    key: str
    title: str
    action: Action
    factory: ScreenFactory
    shortcut: str | None = None
    icon: str | None = None
    order: int = 100
    ready: bool = True
    """False for a screen that only describes work the desk cannot do yet: Home then
    does not promise what it cannot do."""


SCREENS: list[ScreenSpec] = []
"""The registry, in navigation order. Append only through `register`."""


def register(spec: ScreenSpec) -> ScreenSpec:
    if any(existing.key == spec.key for existing in SCREENS):
        raise ValueError(f"a screen with key {spec.key!r} is already registered")
    SCREENS.append(spec)
    SCREENS.sort(key=lambda s: (s.order, s.title))
    return spec


def visible_screens(role: Role, screens: Iterable[ScreenSpec] | None = None) -> list[ScreenSpec]:
    """The screens `role` may open, in navigation order."""
    chosen = SCREENS if screens is None else list(screens)
    return sorted(
        (spec for spec in chosen if can(role, spec.action)), key=lambda s: (s.order, s.title)
    )


def ready_screen_keys(role: Role) -> frozenset[str]:
    """The screens `role` can open that do their work now (not a "coming" page)."""
    return frozenset(spec.key for spec in visible_screens(role, load_screens()) if spec.ready)


def load_screens() -> list[ScreenSpec]:
    """Imports every screen module (each registers itself) and returns the registry."""
    for module in pkgutil.iter_modules(__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__name__}.{module.name}")
    return list(SCREENS)
