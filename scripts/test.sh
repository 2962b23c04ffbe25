#!/usr/bin/env bash
# The README's test command: sets up .venv (and Qt's system libraries when root), then runs
# the linters (ruff format, ruff check, mypy, import-linter) and the whole pytest suite.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
bash scripts/lint.sh
bash scripts/run_tests.sh "$@"
