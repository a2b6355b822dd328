@{
    # The module version lives here and nowhere else: the build reads it for the assemblies.
    ModuleVersion        = '0.1.0'
    RootModule           = 'HermesGateway.dll'
    GUID                 = '5f6c3d1e-8a2b-4c7e-9d41-2b7f0e6a9c13'
    Author               = 'HermesGateway contributors'
    CompanyName          = 'HermesGateway'
    Copyright            = '(c) HermesGateway contributors. MIT License.'
    Description          = 'Supervise the Hermes Agent gateway under systemd and launchd: exit-policy verdicts, service files, and restarts that never leave the gateway dead.'
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')
    FormatsToProcess     = @('HermesGateway.format.ps1xml')
    CmdletsToExport      = @(
        'Compare-HermesServiceDefinition'
        'Copy-HermesModule'
        'Get-HermesExitPolicy'
        'Get-HermesGatewayLog'
        'Get-HermesService'
        'Install-HermesService'
        'New-HermesServiceDefinition'
        'Restart-HermesGateway'
        'Start-HermesGateway'
        'Stop-HermesGateway'
        'Test-HermesExitPolicy'
        'Test-HermesGatewayConformance'
        'Uninstall-HermesService'
        'Wait-HermesGateway'
    )
    FunctionsToExport    = @()
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('PSEdition_Core', 'Linux', 'MacOS', 'systemd', 'launchd', 'Hermes')
            ProjectUri = 'https://github.com/hermesgateway/HermesGateway'
            LicenseUri = 'https://github.com/hermesgateway/HermesGateway/blob/main/LICENSE'
            # The section of CHANGELOG.md for ModuleVersion, word for word (a test compares them).
            ReleaseNotes = @'
- Get-HermesExitPolicy and Test-HermesExitPolicy: the gateway's exit-code contract as data, and verdicts for every
  lifecycle event under an exact model of systemd's (252, RestartSteps= from 254) and launchd's restart rules.
- New-HermesServiceDefinition and Compare-HermesServiceDefinition: systemd units (user and system scope) and launchd
  plists (agent and daemon) with defaults chosen by the model, rendered exactly, with hostile input refused.
- Install-HermesService, Uninstall-HermesService and Get-HermesService: idempotent installs with drift reports,
  backups, atomic writes and -WhatIf; upstream's own installs are read and judged.
- Start-HermesGateway, Stop-HermesGateway and Restart-HermesGateway: planned stops that never leave a unit failed,
  and graceful restarts by signal that wait for the drain, check the new process' health, retry and fall back.
- Argument completion for -Name (installed gateway services) and -Profile (existing profiles).
- Closer to the real gateway (Hermes 0.16): units hide INVOCATION_ID, so its restart signal (SIGUSR1) exits 75 and
  is revived in every scope and under every name; plists no longer pass --external-supervisor, which 0.16 refuses.
- The exit contract per gateway: -Contract takes 'hermes-0.16' (the default: the released gateway as measured),
  'documented', or what Test-HermesGatewayConformance learned; verdicts follow what the gateway sees (INVOCATION_ID).
- A /restart typed in chat comes back on 0.16 too: units gain an ExecStopPost= reviver that starts the unit after a
  clean exit whose gateway_state.json records a restart, never while systemctl stop or restart runs.
- Files root writes into a directory another account owns (HERMES_HOME of a system unit's User=) cannot be turned
  against root: temp files and backups are created exclusively under random names, never through a link; modes are
  set on open descriptors; the directory is fsynced after the rename; a linked directory is refused (as root); the environment
  file's backup is 0600 and only the newest is kept; the unit's ExecStop= writes its marker the same way.
- Restart lock and result where only the caller can write (root: /run/hermesgateway), checked against the supervisor
  before a result is joined, per scope and name; Stop waits for a restart under way; every escalation (-Force, a hung
  drain, a start limit, a marker that cannot be written) ends running within the restart's own times.
- Input that systemd would misread is refused or resolved: leading '-' in names ('--' before unit names), specifiers
  in hand-written units, lines and environment files systemd cannot load; backslashes in paths kept; exit statuses
  200-245 shown by name; Install -Start refuses a missing HERMES_HOME. The security suite: 71 attacks, 0 succeeded.
- Results are values: Restart-HermesGateway's result names its Kind (Graceful, Escalated, Forced, Start, HandOff)
  and the HelperJob it was handed to; an action declined by -WhatIf or at -Confirm returns nothing (Uninstall's
  result lost its Removed flag). Engine objects for -InputObject come from [HermesGateway.Core.Definition.ServiceFormats]::Read.
- A service installed under a name of your choosing (-Name relay-gateway) is found again by Get-HermesService and
  every cmdlet that selects by -Name: the module recognises its own files by their checksum line, reading only the
  head of a regular file (never a link or a FIFO) in the unit and agent folders.
- For scripts that name the engine's types: LaunchdDomain and LaunchdDomainKind are in HermesGateway.Core.Policy,
  UnitDiagnostic and DiagnosticSeverity in .Errors, ProcessEnding and ProcessStartTime in .Platform, the service managers
  and RestartLock in .Service; ServicePlatforms.Native is ServiceFormats.Native; a read unit is a SystemdConfiguration.
- Install-HermesService warns when the file would not meet a lifecycle scenario (a stop timeout shorter than the drain,
  for one), and -Name takes a unit's or plist's file name too ('relay.service' is the unit relay, not relay.service.service).
- Every gateway addressed exactly: -Scope and -Owner on the service cmdlets; a piped service acts on exactly itself,
  also after remoting or Import-Clixml (name, scope, owner, file), and one from another computer is refused
  (HermesRemoteObject). Root sees other accounts' user units (Owner) and acts on them through that account's own user
  manager; writing into their homes is refused (HermesOtherAccountWriteRefused). A bare Stop or Restart with several
  gateways installed names them and does nothing (HermesServiceAmbiguous).
- Start, Install -Start and Restart notice a gateway that ends while starting at once (HermesGatewayExitedOnStart: its
  exit in the contract's words and its last log lines), never retry a configuration error, and ask the supervisor at
  most 10 times a second; Start and Install -Start wait for health by default (-Timeout, -NoWait); Restart's default
  drain wait follows the unit's own stop timeout. New: Wait-HermesGateway (Running or Stopped) and
  Get-HermesGatewayLog (the unit's journal or the plist's log files as objects; -Tail, -Since, -Follow).
- Install checks the gateway's command and accounts (HermesExecutableNotFound, HermesAccountNotFound; refused with
  -Start), previews a hand-edited unit under -WhatIf with the supervisor calls it would make, takes -Secret values
  (SecureString, PSCredential) for the environment file without echoing them, reports a failing loginctl as
  HermesLingerFailed after enabling the unit, installs again from Get-HermesService output (-Service), and keeps only
  the newest backup of its own files. A file it wrote shows no drift; Uninstall resets a unit left failed and
  -PassThru names the service.
- Objects for runbooks: LastExitCode, LastExitSignal, LastExitMeaning, Drifted, PolicyOk, PolicyFailed, CrashLoop (State
  'crash-loop'); the table fits 80 columns; ConvertTo-Json of a service is small (GetDefinition(),
  GetPolicyVerdicts()). Test-HermesExitPolicy over several files returns one result per file (-Quiet: booleans).
  Every PS> example of the README and the help is run by the tests.
- Test-HermesExitPolicy poses any process and any sequence: -SignalReaction (Gateway, Default, Ignore, Exit with
  -ReactionExitCode) says how the process takes a signal; -Timeline plays events in a row with times ('0 exit 1',
  '+500ms stop', 'start', 'restart', 'kill SIGKILL', 'oom', 'is-active'), one step each, with the manager's own timers
  between them: the RestartSec= wait (stop, start and restart during it, 252-256 against 257+), NRestarts resets,
  Type=notify without READY=1 (timeout) or ending before it (protocol), WatchdogSec=, RuntimeMaxSec=, starts that fail
  before exec (-ExecFailure; what systemctl start returns for simple, exec and notify), core dumps by LimitCORE=, and
  what systemctl is-active prints; a plist's timeline speaks launchctl (bootout, kickstart, kickstart -k, throttled
  relaunches). Checked against systemd 252 by 62 new differential pairs (129 in all). After a
  manager restart, Result is the new run's (StopResult and its codes keep the stop half). Settings the model reads but
  does not play warn; a gateway unit with Type=notify or WatchdogSec= fails every scenario (the gateway speaks neither).
- launchd model: EnableTransactions (bootout kills at once, no drain), a missing program (78, retried under KeepAlive),
  a disabled job (the plist's Disabled key; never loaded) and the job's children (process group signalled; own-session
  children survive), each with its source and what is unverified. Test-HermesExitPolicy -LaunchdProgramMissing and
  -LaunchdDisabled pose a missing program and a label disabled with launchctl.
- A fleet over PowerShell remoting (SSH): Get-HermesService -Session reads every host at once (PSComputerName; a host
  unreachable, or without this build of the module, is an error of its own); Restart-HermesGateway -Session and
  Install-HermesService -Session roll out host by host (-MaxUnavailable), each host's own command run there, health
  read before the next, halted at the first failure with the rest untouched and reported, -WhatIf/-Confirm per host,
  canaries (-Canary, -CanaryWait, -CanaryConfirm), one FleetHostResult per host. A host found down, or one that cannot
  be checked, counts as down; a host whose connection breaks mid-way is read again over a new connection. New:
  Copy-HermesModule puts this very build (version and assemblies by SHA-256) on hosts, checked before it is used.
'@
        }
    }
}
