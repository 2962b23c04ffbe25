#!/usr/bin/env bash
# One lint target: formatting, lint rules, types, and the import contracts (the arrows).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "lint: ruff format --check"; .venv/bin/ruff format --check --quiet .
echo "lint: ruff check";          .venv/bin/ruff check --quiet .
echo "lint: mypy";                .venv/bin/mypy --no-error-summary loancore sync_server desktop harness main.py
echo "lint: import-linter";       .venv/bin/lint-imports --no-cache >/dev/null && echo "lint: import contracts kept"
