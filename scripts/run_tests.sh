#!/usr/bin/env bash
# Runs the whole pytest suite. The PostgreSQL suites run whenever a server is reachable
# (LOANDESK_TEST_PG_URL, default 127.0.0.1:5432 database `test`); with LOANDESK_REQUIRE_PG=1
# (set by .ci/run) an unreachable server is a failure instead of a note.
set -uo pipefail
cd "$(dirname "$0")/.."
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
export LOANDESK_TEST_PG_URL=${LOANDESK_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
mkdir -p artifacts
.venv/bin/python -m pytest "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "run_tests: pytest collected no tests: that is a failure" >&2
  exit 1
fi
exit $rc
