"""A picture of every registered screen, in the real main window, over the demo book: the real
server (its own process) seeded with `sync_server.demo.seed_demo`, each desk's cache filled by a real sync, and
each screen opened by a user whose role may see it. Pictures go to artifacts/screens/<key>.png
for people to look at; the test fails when a screen draws nothing or has no picture.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import keyring
import pytest
import requests
from argon2 import PasswordHasher
from keyring.backend import KeyringBackend
from keyrings.alt.file import PlaintextKeyring
from pytestqt.qtbot import QtBot
from uuid6 import uuid7

from desktop.auth import SessionManager
from desktop.cache.store import Cache
from desktop.qt import QApplication, QThreadPool, QWidget
from desktop.screens import ScreenContext, ScreenSpec, load_screens
from desktop.screens.loan_detail import LoanDetailDialog
from desktop.screens.login import LoginDialog
from desktop.screens.main_window import MainWindow
from desktop.screens.record_payment import RecordPaymentDialog, payment_view_model
from desktop.settings import ClientSettings
from desktop.signals import DataChanged
from desktop.sync.engine import SyncEngine
from desktop.sync_worker import SyncWorker
from desktop.viewmodels.desk import DeskBook
from loancore.dates import IST
from loancore.roles import Role, can
from sync_server.auth import passwords
from sync_server.db.engine import Database
from sync_server.db.migrate import upgrade
from sync_server.demo import DEMO_PASSWORD, seed_demo
from tests.desktop.screens.conftest import OFFSCREEN_NOISE, type_text
from tests.desktop.screens_grab import SCREENS_DIR, drawn, grab
from tests.e2e.desktop_server import ServerProcess

pytestmark = [pytest.mark.slow, pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)]

DEMO_LOANS = 180
WINDOW_SIZE = (1280, 800)
ROLE_ORDER = (
    Role.COLLECTOR,
    Role.BRANCH_MANAGER,
    Role.FINANCE,
    Role.LEGAL,
    Role.AUDITOR,
    Role.ADMIN,
)
"""Each screen is shown to the first of these roles that may open it: the person who uses it."""
USERNAMES = {
    Role.COLLECTOR: "col.pnc1",
    Role.BRANCH_MANAGER: "bm.pnc",
    Role.FINANCE: "finance",
    Role.LEGAL: "legal",
    Role.AUDITOR: "auditor",
    Role.ADMIN: "admin",
}
SETTLE_ROUNDS = 4


@dataclass
class Demo:
    url: str
    root: Path
    windows: dict[Role, MainWindow] = field(default_factory=dict)
    workers: list[SyncWorker] = field(default_factory=list)
    caches: list[Cache] = field(default_factory=list)


@pytest.fixture
def plain_keyring(tmp_path: Path) -> Iterator[None]:
    previous: KeyringBackend = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "os-keyring" / "keyring.cfg")
    keyring.set_keyring(backend)
    yield
    keyring.set_keyring(previous)


def _hold_a_suspected_duplicate(url: str) -> None:
    """The same cash amount on one loan twice within minutes, as collector col.pnc1."""
    http = requests.Session()
    login = http.post(
        f"{url}/api/v1/auth/login",
        json={"username": USERNAMES[Role.COLLECTOR], "password": DEMO_PASSWORD},
        timeout=30,
    )
    login.raise_for_status()
    http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    page = http.get(f"{url}/api/v1/loans", params={"bucket": "current", "limit": "1"}, timeout=30)
    page.raise_for_status()
    loan_id = page.json()["items"][0]["id"]
    today = datetime.now(IST).date().isoformat()
    held = []
    for reference in ("RBPNC9000001", "RBPNC9000002"):
        answer = http.post(
            f"{url}/api/v1/payments",
            json={
                "id": str(uuid7()),
                "loan_id": loan_id,
                "amount_paise": 3_250_00,
                "mode": "cash",
                "reference": reference,
                "payment_date": today,
            },
            timeout=30,
        )
        assert answer.status_code == 201, answer.text
        held.append(answer.json()["held_for_review"])
    assert held == [False, True]


@pytest.fixture
def demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, plain_keyring: None, looked: QApplication
) -> Iterator[Demo]:
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024))
    url = f"sqlite:///{tmp_path / 'server.db'}"
    db = Database(url)
    upgrade(db.engine)
    seed_demo(db, loans=DEMO_LOANS, today=datetime.now(IST).date())
    server = ServerProcess(url, tmp_path / "server-data")
    server.start()
    try:
        _hold_a_suspected_duplicate(server.url)
        found = Demo(server.url, tmp_path)
        yield found
        for window in found.windows.values():
            window.close()
        for worker in found.workers:
            worker.stop()
        for cache in found.caches:
            cache.close()
    finally:
        server.stop()
    db.dispose()


def _window(qtbot: QtBot, demo: Demo, role: Role) -> MainWindow:
    """The main window of `role`'s demo user, after a real first sync of their cache."""
    if role in demo.windows:
        return demo.windows[role]
    folder = demo.root / role.value
    settings = ClientSettings(path=folder / "settings.json", device_id=f"dev-{role.value}")
    sessions = SessionManager(
        settings,
        hasher=PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1),
        allow_plaintext_keyring=True,  # the test's own keyring file (plain_keyring)
    )
    session = sessions.login(demo.url, USERNAMES[role], DEMO_PASSWORD)
    cache = Cache(folder / "cache.db")
    worker = SyncWorker(
        SyncEngine(session.api, cache), cache, DataChanged(), reachable=lambda: sessions.reachable
    )
    with qtbot.wait_signal(worker.finished, timeout=60_000) as round_done:
        worker.sync_now()
    assert round_done.args is not None
    assert round_done.args[0].caught_up
    context = ScreenContext(
        session=session,
        book=DeskBook(cache),
        changes=worker.changes,
        sync=worker,
        settings=settings,
    )
    window = MainWindow(context)
    window.resize(*WINDOW_SIZE)
    window.show()
    demo.windows[role] = window
    demo.workers.append(worker)
    demo.caches.append(cache)
    return window


def _settle(qtbot: QtBot) -> None:
    """Until the background reads a screen started (and any they started) have landed."""
    pool = QThreadPool.globalInstance()
    for _ in range(SETTLE_ROUNDS):
        qtbot.waitUntil(lambda: pool.activeThreadCount() == 0, timeout=30_000)
        QApplication.sendPostedEvents()
        QApplication.processEvents()


def _role_for(spec: ScreenSpec) -> Role:
    return next(role for role in ROLE_ORDER if can(role, spec.action))


def _shoot(qtbot: QtBot, widget: QWidget, name: str, problems: list[str]) -> None:
    _settle(qtbot)
    path = grab(widget, name)
    if not drawn(widget.grab()):
        problems.append(f"{name}: the picture is blank")
    if not path.is_file():
        problems.append(f"{name}: no picture written")


def test_every_registered_screen_is_pictured_with_demo_data(qtbot: QtBot, demo: Demo) -> None:
    specs = load_screens()
    started = datetime.now(IST).timestamp()
    problems: list[str] = []
    for spec in specs:
        window = _window(qtbot, demo, _role_for(spec))
        page = window.show_screen(spec.key)
        _settle(qtbot)
        if not drawn(page.grab()):
            problems.append(f"{spec.key}: the screen drew nothing")
        _shoot(qtbot, window, spec.key, problems)
    missing = [
        spec.key
        for spec in specs
        if not (SCREENS_DIR / f"{spec.key}.png").is_file()
        or (SCREENS_DIR / f"{spec.key}.png").stat().st_mtime < started - 1
    ]
    assert not missing, f"registered screens without a picture: {missing}"
    assert not problems, problems


def test_the_login_payment_and_loan_pages_are_pictured_with_demo_data(
    qtbot: QtBot, demo: Demo
) -> None:
    problems: list[str] = []
    window = _window(qtbot, demo, Role.COLLECTOR)
    context = window.context
    login = LoginDialog(SessionManager(context.settings), context.settings, server_url=demo.url)
    qtbot.add_widget(login)
    login.username.setText(USERNAMES[Role.COLLECTOR])
    _shoot(qtbot, login, "login", problems)

    dpd_as_of = context.book.cache.dpd_as_of()
    loan = max(
        context.book.cache.loans(), key=lambda loan: (loan.dpd_at(dpd_as_of), loan.account_no)
    )
    dialog = RecordPaymentDialog(payment_view_model(context, loan.id))
    qtbot.add_widget(dialog)
    dialog.show()
    type_text(qtbot, dialog.reference, "RBPNC0004419")
    type_text(qtbot, dialog.amount, "15,000")
    dialog.adjustSize()
    _shoot(qtbot, dialog, "record_payment", problems)
    type_text(qtbot, dialog.amount, ".505")
    _shoot(qtbot, dialog, "record_payment_refused", problems)
    assert dialog.errors

    paid = next(
        (p.loan_id for p in context.book.cache.payments() if p.sync_state == "synced"), loan.id
    )
    detail = LoanDetailDialog(context, paid)
    qtbot.add_widget(detail)
    detail.resize(1100, 700)
    detail.show()
    qtbot.waitUntil(lambda: detail.payments.rowCount() > 0, timeout=15_000)
    _shoot(qtbot, detail, "loan_detail_schedule", problems)
    detail.tabs.setCurrentIndex(1)
    _shoot(qtbot, detail, "loan_detail_payments", problems)
    assert not problems, problems
    assert uuid.UUID(paid)
