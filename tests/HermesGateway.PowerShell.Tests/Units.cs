namespace HermesGateway.PowerShell.Tests;

/// <summary>Unit files the tests write, with what each is for.</summary>
public static class Units
{
    /// <summary>A unit that meets every systemd scenario's intent under Hermes' contract (as in tests/Pester/TestHelpers.ps1).</summary>
    public const string Good = """
        [Unit]
        Description=Hermes gateway (test)
        StartLimitIntervalSec=0

        [Service]
        Type=simple
        ExecStart=/usr/bin/hermes gateway run
        ExecStop=/usr/local/bin/hermes-mark-planned-stop $MAINPID
        ExecReload=/bin/kill -USR1 $MAINPID
        Restart=on-failure
        RestartSec=2
        RestartForceExitStatus=75
        SuccessExitStatus=75
        RestartPreventExitStatus=78
        KillMode=mixed
        TimeoutStopSec=90

        [Install]
        WantedBy=default.target

        """;

    /// <summary>A value systemd itself would complain about when loading the unit ("Failed to parse service restart specifier").</summary>
    public const string WithBadRestartValue = "[Service]\nExecStart=/usr/bin/hermes gateway run\nRestart=sometimes\n";

    /// <summary>Named *.service, but no [Section] header: not a unit at all.</summary>
    public const string WithoutSection = "ExecStart=/usr/bin/hermes gateway run\nRestart=always\n";

    /// <summary>The good unit with HERMES_HOME set, so a restart's planned-stop marker lands in <paramref name="hermesHome"/>.</summary>
    public static string GoodWithHome(string hermesHome) =>
        Good.Replace("Type=simple\n", $"Type=simple\nEnvironment=HERMES_HOME={hermesHome}\n", StringComparison.Ordinal);
}
