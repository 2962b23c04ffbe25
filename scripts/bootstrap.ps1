# Windows: create .venv from pyproject.toml when it is missing or stale (Python 3.11+ from
# python.org or the py launcher).
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
$want = (Get-FileHash pyproject.toml -Algorithm SHA256).Hash.ToLower()
$stamp = ".venv\.installed-from"
if (-not (Test-Path ".venv\Scripts\python.exe") -or -not (Test-Path $stamp) -or ((Get-Content $stamp) -ne $want)) {
    if (-not (Test-Path ".venv\Scripts\python.exe")) {
        if (Get-Command py -ErrorAction SilentlyContinue) { py -3 -m venv .venv } else { python -m venv .venv }
    }
    & ".venv\Scripts\python.exe" -m pip install -q --disable-pip-version-check --upgrade pip
    & ".venv\Scripts\python.exe" -m pip install -q --disable-pip-version-check -e ".[dev]"
    Set-Content -Path $stamp -Value $want
}
