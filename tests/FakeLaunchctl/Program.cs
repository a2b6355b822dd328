using HermesGateway.Core.Policy;

namespace HermesGateway.FakeLaunchctl;

/// <summary>
/// fake-launchctl: a TEST DOUBLE of launchctl(1) + launchd for Linux. The CLI checks the command line and the domain,
/// keeps the enable/disable database itself, and hands everything about jobs to the fake launchd daemon.
/// </summary>
internal static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length >= 1 && args[0] == Daemon.Verb)
        {
            return Daemon.Run(args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable(StateDirectory.EnvironmentVariable) ?? string.Empty);
        }

        if (args.Length >= 1 && args[0] is "help" or "--help" or "-h")
        {
            if (args.Length == 2 && Command.Usages.TryGetValue(args[1], out var one))
            {
                Console.Out.Write(one + "\n");
            }
            else
            {
                Console.Out.Write(Command.Help());
            }

            return 0;
        }

        var result = Run(args);
        Console.Out.Write(result.Out);
        Console.Error.Write(result.Err);
        return result.Exit;
    }

    private static WireResponse Run(string[] args)
    {
        var (command, usage) = Command.Parse(args);
        if (command is null)
        {
            return new WireResponse(64, string.Empty, usage + "\n");
        }

        var state = Environment.GetEnvironmentVariable(StateDirectory.EnvironmentVariable);
        if (string.IsNullOrEmpty(state) || !Path.IsPathRooted(state))
        {
            return new WireResponse(1, string.Empty,
                "fake-launchctl (a test double of launchctl) needs FAKE_LAUNCHD_STATE: an absolute path to its state directory.\n");
        }

        Directory.CreateDirectory(state);
        var config = DomainConfig.Read(state);
        if (command.Verb is Verb.Submit or Verb.Remove && config.NoGuiSession)
        {
            command = command.InDomain(Command.CallerSession(noGuiSession: true));
        }

        if (command.Domain.Kind == LaunchdDomainKind.Gui && config.NoGuiSession)
        {
            return DomainMissing(command);
        }

        if (command.Domain.Kind == LaunchdDomainKind.System && Native.GetEuid() != 0 && command.Verb is not (Verb.PrintDomain or Verb.PrintService or Verb.PrintDisabled))
        {
            return new WireResponse(1, string.Empty, $"{Failed(command)}: 1: Operation not permitted\n");
        }

        switch (command.Verb)
        {
            case Verb.Enable or Verb.Disable:
                DisabledDatabase.Set(state, command.Domain.Name, command.Service!.Label, command.Verb == Verb.Disable);
                return new WireResponse(0, string.Empty, string.Empty);

            case Verb.PrintDisabled:
                return new WireResponse(0, Output.Disabled(command.Domain, DisabledDatabase.Read(state, command.Domain.Name)), string.Empty);
        }

        // The daemon resolves nothing relative to a caller's working directory.
        var argv = command.Verb == Verb.Bootstrap
            ? ["bootstrap", command.Domain.Name, .. command.Paths!.Select(Path.GetFullPath)]
            : args;
        var needsDaemon = command.Verb is Verb.Bootstrap or Verb.Submit;
        if (DaemonClient.Send(state, argv, startIfMissing: needsDaemon) is { } answer)
        {
            return answer;
        }

        // No daemon runs, so no job is loaded anywhere: answer as launchd would for an unknown service.
        return command.Verb switch
        {
            Verb.PrintDomain => new WireResponse(0, Output.Domain(command.Domain, []), string.Empty),
            Verb.Bootstrap => new WireResponse(5, string.Empty, "Bootstrap failed: 5: Input/output error\nfake-launchctl: the fake launchd daemon could not be started; see launchd.log in the state directory.\n"),
            _ => Output.NotFound(command),
        };
    }

    private static WireResponse DomainMissing(Command c) => c.Verb switch
    {
        Verb.PrintDomain or Verb.PrintService or Verb.PrintDisabled => new WireResponse(125, string.Empty, "Domain does not support specified action\n"),
        _ => new WireResponse(125, string.Empty, $"{Failed(c)}: 125: Domain does not support specified action\n"),
    };

    public static string Failed(Command c) => c.Verb switch
    {
        Verb.Bootstrap => "Bootstrap failed",
        Verb.Bootout => "Boot-out failed",
        Verb.Enable => "Could not enable service",
        Verb.Disable => "Could not disable service",
        Verb.Kickstart => $"Could not kickstart service \"{c.Service!.Label}\"",
        Verb.Kill => "Could not kill service",
        Verb.Submit => "launchctl submit",
        Verb.Remove => "launchctl remove",
        _ => "Could not print",
    };
}
