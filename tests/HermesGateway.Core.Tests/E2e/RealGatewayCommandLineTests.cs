namespace HermesGateway.Core.Tests.E2e;

/// <summary>
/// The command line and environment every default definition gives the gateway, run against the real Hermes 0.16
/// (../shared/fixtures/hermes-agent): it must start and report itself running — a flag it does not know makes it exit
/// 2 at every start, which a supervisor would retry forever. Argument parsing is the same on every platform, so the
/// launchd definitions are checked here too, with the XPC_SERVICE_NAME launchd gives its jobs.
/// </summary>
public sealed class RealGatewayCommandLineTests
{
    [RealGatewayTheory]
    [InlineData(ServicePlatform.Systemd, null)]
    [InlineData(ServicePlatform.Systemd, "work")]
    [InlineData(ServicePlatform.Launchd, null)]
    [InlineData(ServicePlatform.Launchd, "work")]
    public void The_default_command_line_starts_the_real_gateway(ServicePlatform platform, string? profile)
    {
        var scratch = Directory.CreateTempSubdirectory("hermes-real-cmdline-");
        try
        {
            var userHome = Path.Combine(scratch.FullName, "home");
            var d = ServiceDefinitionFactory.Create(new DefinitionRequest
            {
                Platform = platform,
                Profile = profile,
                Executable = RealGatewayTests.Launcher,
                HomeDirectory = userHome,
            });
            Directory.CreateDirectory(d.HermesHome!);
            var info = new ProcessStartInfo(d.Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in d.Arguments)
            {
                info.ArgumentList.Add(a);
            }

            info.Environment.Remove("INVOCATION_ID"); // what the unit's UnsetEnvironment= does
            info.Environment["HOME"] = userHome;
            info.Environment["HERMES_HOME"] = d.HermesHome;
            foreach (var v in d.Environment)
            {
                info.Environment[v.Name] = v.Value;
            }

            if (platform == ServicePlatform.Launchd)
            {
                info.Environment["XPC_SERVICE_NAME"] = d.Name;
            }

            using var gateway = Process.Start(info)!;
            var stderr = gateway.StandardError.ReadToEndAsync();
            var stdout = gateway.StandardOutput.ReadToEndAsync();
            try
            {
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
                while (!gateway.HasExited && !RealGatewayTests.ReportsRunning(d.HermesHome!, gateway.Id, "/proc") && DateTime.UtcNow < deadline)
                {
                    Thread.Sleep(50);
                }

                if (gateway.HasExited)
                {
                    Assert.Fail($"'{string.Join(' ', d.Arguments)}' exited {gateway.ExitCode}: {stdout.Result}{stderr.Result}");
                }

                Assert.True(RealGatewayTests.ReportsRunning(d.HermesHome!, gateway.Id, "/proc"), $"not running within 60 s: {string.Join(' ', d.Arguments)}");
            }
            finally
            {
                if (!gateway.HasExited)
                {
                    // SIGINT is a planned stop for the gateway (exit 0); it is the process this test started.
                    using var kill = Process.Start("kill", ["-INT", gateway.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!;
                    kill.WaitForExit();
                    if (!gateway.WaitForExit(TimeSpan.FromSeconds(30)))
                    {
                        gateway.Kill();
                    }
                }
            }

            Assert.Equal(0, gateway.ExitCode);
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }
}

/// <summary>
/// A theory that needs the real gateway (../shared/fixtures/hermes-agent and Debian's python3 with its packages):
/// reported skipped where they are missing, except where the suite must run (HERMES_REQUIRE_SANDBOX=1, CI as root).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RealGatewayTheoryAttribute : TheoryAttribute
{
    public RealGatewayTheoryAttribute()
    {
        if (Environment.GetEnvironmentVariable("HERMES_REQUIRE_SANDBOX") == "1")
        {
            return;
        }

        if (!OperatingSystem.IsLinux())
        {
            Skip = "the real gateway fixture runs on Debian's python3 (Linux)";
        }
        else if (!File.Exists(RealGatewayTests.Launcher))
        {
            Skip = $"the real gateway is not at {RealGatewayTests.Launcher}";
        }
        else if (!Directory.Exists("/usr/lib/python3/dist-packages/yaml") || !Directory.Exists("/usr/lib/python3/dist-packages/httpx"))
        {
            Skip = "the real gateway's Debian packages are not installed (python3-rich python3-httpx python3-dotenv python3-yaml)";
        }
    }
}
