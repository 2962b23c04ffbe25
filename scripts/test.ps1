# Windows: set up .venv and run the linters and the test suite (PostgreSQL suites run when a
# server answers at 127.0.0.1:5432 or $env:LOANDESK_TEST_PG_URL).
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
& "$PSScriptRoot\bootstrap.ps1"
$py = ".venv\Scripts\python.exe"
$env:QT_QPA_PLATFORM = "offscreen"
& $py -m ruff format --check --quiet . ; if ($LASTEXITCODE) { exit $LASTEXITCODE }
& $py -m ruff check --quiet . ; if ($LASTEXITCODE) { exit $LASTEXITCODE }
& $py -m mypy --no-error-summary loancore sync_server desktop main.py ; if ($LASTEXITCODE) { exit $LASTEXITCODE }
& ".venv\Scripts\lint-imports.exe" --no-cache ; if ($LASTEXITCODE) { exit $LASTEXITCODE }
if ($args.Count -gt 0) {
  & $py -m pytest @args
  if ($LASTEXITCODE -eq 5) { Write-Error "pytest collected no tests"; exit 1 }
  exit $LASTEXITCODE
}
# loancore's own tests first, with every branch of loancore covered (as scripts/test.sh)
& $py -m pytest tests/loancore --cov=loancore --cov-branch --cov-report=term-missing:skip-covered --cov-fail-under=100
if ($LASTEXITCODE) { exit $LASTEXITCODE }
& $py -m pytest --ignore=tests/loancore
if ($LASTEXITCODE -eq 5) { Write-Error "pytest collected no tests"; exit 1 }
exit $LASTEXITCODE
