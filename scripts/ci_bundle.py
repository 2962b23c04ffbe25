"""CI's installer check: build the desktop bundle from build_installer.spec, start a demo
server on 127.0.0.1, run the *built* executable with --smoke against it, and record the
bundle's size, its build time and its start time in artifacts/bundle.json.

    .venv/bin/python scripts/ci_bundle.py [--skip-build] [--loans 60]

Exit 0 when the bundle was built and its smoke check passed; 1 otherwise (the reason on
stderr). Every wait is bounded; the server is stopped however the script ends.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo_server import DEMO_PASSWORD, demo_server

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "dist" / "LoanDesk"
EXE = BUNDLE / ("LoanDesk.exe" if os.name == "nt" else "LoanDesk")
SMOKE_USER = "col.pnc1"
BUILD_TIMEOUT_S = 600
SMOKE_TIMEOUT_S = 180


def _folder_bytes(folder: Path) -> tuple[int, int]:
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def build() -> float:
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "build_installer.spec",
        ],
        cwd=ROOT,
        check=True,
        timeout=BUILD_TIMEOUT_S,
    )
    return time.monotonic() - started


def smoke_against_demo(loans: int) -> tuple[float, str]:
    """The built exe's --smoke against a freshly built demo book; (wall seconds, its line)."""
    with tempfile.TemporaryDirectory(prefix="loandesk-ci-bundle-") as folder:
        env = {**os.environ, "LOANDESK_DATA_DIR": folder}
        with demo_server(Path(folder), loans=loans, env=env) as url:
            smoke_env = {k: v for k, v in os.environ.items() if k != "LOANDESK_DATA_DIR"}
            smoke_env["QT_QPA_PLATFORM"] = "offscreen"
            smoke_env["LOANDESK_SMOKE_PASSWORD"] = DEMO_PASSWORD
            started = time.monotonic()
            done = subprocess.run(
                [str(EXE), "--smoke", "--server", url, "--user", SMOKE_USER],
                env=smoke_env,
                capture_output=True,
                text=True,
                timeout=SMOKE_TIMEOUT_S,
            )
            wall = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(
            f"the bundled LoanDesk --smoke exited {done.returncode}: "
            f"{done.stderr.strip()[-2000:] or done.stdout.strip()[-2000:]}"
        )
    return wall, done.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-build", action="store_true", help="use the dist/ already built")
    parser.add_argument("--loans", type=int, default=60, help="demo book size (default 60)")
    args = parser.parse_args()
    try:
        build_s = None if args.skip_build else build()
        if not EXE.exists():
            raise RuntimeError(f"no executable at {EXE}")
        size, files = _folder_bytes(BUNDLE)
        wall, line = smoke_against_demo(args.loans)
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        print(f"ci_bundle FAILED: {exc}", file=sys.stderr)
        return 1
    report = {
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
        "build_seconds": None if build_s is None else round(build_s, 1),
        "bundle_bytes": size,
        "bundle_mib": round(size / 2**20, 1),
        "bundle_files": files,
        "smoke_wall_seconds": round(wall, 2),
        "smoke": line,
        "demo_loans": args.loans,
    }
    (ROOT / "artifacts").mkdir(exist_ok=True)
    (ROOT / "artifacts" / "bundle.json").write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"ci_bundle: bundle {report['bundle_mib']} MiB in {files} files"
        + ("" if build_s is None else f", built in {build_s:.0f} s")
        + f"; the built exe's --smoke took {wall:.1f} s: {line}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
