# Windows: set up .venv, then run the server with demo data and the desktop client.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
& "$PSScriptRoot\bootstrap.ps1"
& ".venv\Scripts\python.exe" main.py demo @args
exit $LASTEXITCODE
