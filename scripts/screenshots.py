"""The pictures in docs/guides/: the real desk, offscreen, signed in to a demo server on
127.0.0.1 as each role, each screen of that role's guide grabbed to a PNG.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs/guides/img]

It builds a demo book (120 loans) in a temporary folder, serves it with `main.py server`,
signs in through the desk's own SessionManager, lets the first sync finish, opens each
screen, waits for its background work, and saves `<role>-<screen>.png`. The server is
stopped however the script ends; every wait is bounded.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from demo_server import DEMO_PASSWORD, DemoServerFailed, demo_server

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


WINDOW = (1360, 820)
WAIT_S = 60.0

# role guide -> (demo user, the screens its guide shows, in order)
GUIDES: dict[str, tuple[str, tuple[str, ...]]] = {
    "collector": ("col.pnc1", ("home", "my_day", "loans", "promises")),
    "branch-manager": (
        "bm.pnc",
        ("home", "dashboard", "payment_review", "cash_deposits", "collector_performance"),
    ),
    "finance": ("finance", ("dashboard", "collector_performance", "loans")),
    "legal": ("legal", ("legal_cases", "disputes")),
    "auditor": ("auditor", ("audit_log", "dashboard")),
    "admin": ("admin", ("home", "admin_users", "bank_accounts", "admin_flags")),
}


def _settle(min_s: float = 0.4, max_s: float = 8.0) -> None:
    """Qt's events until the background ops are done (at least `min_s`, at most `max_s`)."""
    from desktop.qt import QApplication, QThreadPool

    started = time.monotonic()
    while time.monotonic() - started < max_s:
        QApplication.processEvents()
        idle = QThreadPool.globalInstance().activeThreadCount() == 0
        if idle and time.monotonic() - started >= min_s:
            break
        time.sleep(0.05)
    QApplication.processEvents()


def shoot_role(
    server_url: str, username: str, screens: tuple[str, ...], out: Path, name: str
) -> list[Path]:
    import keyring

    from desktop.app import Shell
    from desktop.auth import SessionManager
    from desktop.screens import ready_screen_keys
    from desktop.settings import ClientSettings
    from desktop.smoke import memory_keyring

    keyring.set_keyring(memory_keyring())
    settings = ClientSettings.load()
    sessions = SessionManager(settings)
    session = sessions.login(server_url, username, DEMO_PASSWORD)
    shell = Shell(settings, sessions, server_url=server_url)
    saved: list[Path] = []
    try:
        window = shell.enter(session)
        window.resize(*WINDOW)
        worker = shell.worker
        assert worker is not None
        deadline = time.monotonic() + WAIT_S
        while worker.state.last_sync is None and worker.state.error is None:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{username}: the first sync did not finish")
            _settle(0.05, 0.2)
        for key in screens:
            if key not in window.nav_keys() or key not in ready_screen_keys(session.user.role):
                raise RuntimeError(f"{username} has no working '{key}' screen to show")
            window.show_screen(key)
            _settle()
            path = out / f"{name}-{key.replace('_', '-')}.png"
            if not window.grab().save(str(path)):
                raise RuntimeError(f"could not write {path}")
            saved.append(path)
    finally:
        shell.shutdown()
        from desktop.qt import QApplication

        QApplication.closeAllWindows()
        QApplication.processEvents()
        sessions.logout()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "guides" / "img")
    parser.add_argument("--loans", type=int, default=120)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="loandesk-shots-") as folder:
        env = {**os.environ, "LOANDESK_DATA_DIR": str(Path(folder) / "server")}
        try:
            with demo_server(Path(folder), loans=args.loans, env=env, quiet=True) as url:
                os.environ["LOANDESK_DATA_DIR"] = str(Path(folder) / "desk")
                shoot_guides(url, args.out)
        except DemoServerFailed as exc:
            print(f"screenshots: the demo server did not start: {exc}", file=sys.stderr)
            return 1
    return 0


def shoot_guides(url: str, out: Path) -> None:
    from desktop.qt import QApplication
    from desktop.resources import apply_look

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_look(app)
    for name, (username, screens) in GUIDES.items():
        for path in shoot_role(url, username, screens, out, name):
            print(f"screenshots: {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")


if __name__ == "__main__":
    sys.exit(main())
