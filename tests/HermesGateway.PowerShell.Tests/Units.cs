namespace HermesGateway.PowerShell.Tests;

/// <summary>Unit files the tests write, with what each is for.</summary>
public static class Units
{
    /// <summary>A unit that meets every systemd scenario's intent under Hermes' contract (tests/fixtures, shared with Pester).</summary>
    public static readonly string Good = File.ReadAllText(Path.Combine(PowerShellSession.RepoRoot, "tests", "fixtures", "good-unit.service"));

    /// <summary>A value systemd itself would complain about when loading the unit ("Failed to parse service restart specifier").</summary>
    public const string WithBadRestartValue = "[Service]\nExecStart=/usr/bin/hermes gateway run\nRestart=sometimes\n";

    /// <summary>Named *.service, but no [Section] header: not a unit at all.</summary>
    public const string WithoutSection = "ExecStart=/usr/bin/hermes gateway run\nRestart=always\n";

    /// <summary>The good unit with HERMES_HOME set, so a restart's planned-stop marker lands in <paramref name="hermesHome"/>.</summary>
    public static string GoodWithHome(string hermesHome) =>
        Good.Replace("Type=simple\n", $"Type=simple\nEnvironment=HERMES_HOME={hermesHome}\n", StringComparison.Ordinal);
}
