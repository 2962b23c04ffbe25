; Inno Setup script: LoanDesk-Setup-<version>.exe from the PyInstaller bundle in dist\LoanDesk.
; Build on Windows (docs/installer.md):
;   iscc /DAppVersion=0.1.0 installer\loandesk.iss
;
; Upgrades keep the person's work: the program goes to Program Files and is replaced there;
; the settings file, the per-user caches (with any payment not yet sent) and the remembered
; window places live in %LOCALAPPDATA%\LoanDesk\LoanDesk, which this installer never writes
; and the uninstaller never deletes. The refresh token is in Windows Credential Manager.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
; The AppId ties every version together: a new setup upgrades the installed one in place.
AppId={{6F1B7C2E-4C1D-4B8E-9A57-2F0D8C3E51A4}
AppName=LoanDesk
AppVersion={#AppVersion}
AppVerName=LoanDesk {#AppVersion}
AppPublisher=LoanDesk
DefaultDirName={autopf}\LoanDesk
DefaultGroupName=LoanDesk
DisableProgramGroupPage=yes
UsePreviousAppDir=yes
OutputDir=..\dist
OutputBaseFilename=LoanDesk-Setup-{#AppVersion}
SetupIconFile=..\resources\icons\loandesk.ico
UninstallDisplayIcon={app}\LoanDesk.exe
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
PrivilegesRequired=admin
; A running LoanDesk is asked to close (it saves its window place; queued work is already
; on disk) before its files are replaced.
CloseApplications=yes
RestartApplications=no
VersionInfoVersion={#AppVersion}
; Sign the setup and the uninstaller with the same certificate as LoanDesk.exe; the "signtool"
; entry is defined in the Inno Setup IDE or on the command line (docs/installer.md).
#ifdef SignTool
SignTool={#SignTool}
SignedUninstaller=yes
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"

[InstallDelete]
; The previous version's program files go before the new ones are copied, so no stale module
; survives an upgrade. Only {app} is touched: the user's data is elsewhere.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "..\dist\LoanDesk\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\LoanDesk"; Filename: "{app}\LoanDesk.exe"
Name: "{autodesktop}\LoanDesk"; Filename: "{app}\LoanDesk.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\LoanDesk.exe"; Description: "{cm:LaunchProgram,LoanDesk}"; Flags: nowait postinstall skipifsilent

; No [UninstallDelete] for {localappdata}\LoanDesk: uninstalling the program must not delete
; payments waiting to be sent. IT removes that folder by hand when a PC leaves the branch.
