#!/usr/bin/env bash
# The README's test command: sets up .venv (and Qt's system libraries when root), then runs
# the linters (ruff format, ruff check, mypy, import-linter) and the whole pytest suite, failing
# when loancore's tests leave a branch of loancore uncovered. Extra arguments go to pytest, in
# place of the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
bash scripts/lint.sh
if [ $# -gt 0 ]; then
  bash scripts/run_tests.sh "$@"
  exit
fi
# The whole suite, loancore's own tests first: they must reach every branch of loancore
# (pytest-cov fails the run below 100%), because the rules are what both sides trust.
echo "test: loancore's tests, with 100% branch coverage of loancore required"
bash scripts/run_tests.sh tests/loancore --cov=loancore --cov-branch \
  --cov-report=term-missing:skip-covered --cov-fail-under=100
bash scripts/run_tests.sh --ignore=tests/loancore
