#!/usr/bin/env bash
# The README's demo command: sets up .venv, then runs the server on an embedded SQLite
# database filled with demo data, and the desktop client against it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/python main.py demo "$@"
