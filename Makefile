# Conveniences over the scripts the README's quick start uses (make is not needed for those).
.PHONY: setup demo test lint bench clean
setup: ; bash scripts/bootstrap.sh
demo: ; bash scripts/demo.sh
test: ; bash scripts/test.sh
lint: setup ; bash scripts/lint.sh
bench: setup ; .venv/bin/python -m bench.bench_dayend --loans 10000 --db both && .venv/bin/python -m bench.bench_sync --quick --db both
clean: ; rm -rf .venv .pytest_cache .mypy_cache .ruff_cache artifacts
