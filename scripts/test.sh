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
# The whole suite on LOANDESK_TEST_WORKERS processes (pytest-xdist; default 2, one a core):
# most tests wait on a server, PostgreSQL or Qt's event loop, so two at once nearly halve the
# run. Each test file stays on one worker (--dist loadfile), so a file's module-scoped
# fixtures (demo servers, demo books) are built once, and the longest files are handed out
# first (tests/conftest.py) so that none of them is left running alone at the end.
workers=${LOANDESK_TEST_WORKERS:-2}
# loancore's own tests first: they must reach every branch of loancore (pytest-cov fails the
# run below 100%, adding up what each worker covered), because the rules are what both sides
# trust.
echo "test: loancore's tests, with 100% branch coverage of loancore required"
bash scripts/run_tests.sh tests/loancore -n "$workers" --cov=loancore --cov-branch \
  --cov-report=term-missing:skip-covered --cov-fail-under=100
bash scripts/run_tests.sh --ignore=tests/loancore -n "$workers" --dist loadfile \
  --no-loadscope-reorder
