# Installs the LoanDesk server as Windows services with NSSM (https://nssm.cc), one service
# per port, behind a reverse proxy (IIS ARR, or nginx for Windows with deploy/nginx).
# Run in an elevated PowerShell from the folder LoanDesk is installed in (C:\LoanDesk):
#   .\deploy\windows\install-service.ps1 -Ports 8001,8002 -EnvFile C:\ProgramData\LoanDesk\loandesk.env
# nssm.exe must be on PATH. Services run as LocalService unless -Account is given.
param(
    [int[]]$Ports = @(8001),
    [string]$Root = (Resolve-Path "$PSScriptRoot\..\..").Path,
    [string]$EnvFile = "C:\ProgramData\LoanDesk\loandesk.env",
    [string]$Account = "NT AUTHORITY\LocalService"
)
$ErrorActionPreference = "Stop"
$python = Join-Path $Root ".venv\Scripts\python.exe"
$main = Join-Path $Root "main.py"
$logs = "C:\ProgramData\LoanDesk\logs"
New-Item -ItemType Directory -Force -Path $logs | Out-Null

# KEY=VALUE lines of the env file (comments and blanks skipped) become the services' environment.
$environment = Get-Content $EnvFile | Where-Object { $_ -match '^\s*[A-Z_]+=' }

# Migrate once, before any service starts.
& $python $main db upgrade
if ($LASTEXITCODE -ne 0) { throw "database migration failed" }

foreach ($port in $Ports) {
    $name = "LoanDesk-$port"
    nssm install $name $python $main server --host 127.0.0.1 --port $port
    nssm set $name AppDirectory $Root
    nssm set $name AppEnvironmentExtra $environment
    nssm set $name ObjectName $Account
    nssm set $name Start SERVICE_AUTO_START
    nssm set $name AppStdout (Join-Path $logs "$name.jsonl")
    nssm set $name AppStderr (Join-Path $logs "$name.jsonl")
    nssm set $name AppRotateFiles 1
    nssm set $name AppRotateBytes 52428800
    # Ctrl+C first (uvicorn finishes what is in flight), then stop after 30 s.
    nssm set $name AppStopMethodConsole 30000
    nssm set $name AppExit Default Restart
    nssm start $name
}
Write-Host "Installed: $($Ports | ForEach-Object { "LoanDesk-$_" })"
