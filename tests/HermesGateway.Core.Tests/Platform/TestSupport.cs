namespace HermesGateway.Core.Tests.Platform;

/// <summary>Endings written the way the spec tables write them: "exit 75", "kill SIGTERM", "core SIGSEGV".</summary>
internal static class Endings
{
    public static ProcessEnding Parse(string text)
    {
        var parts = text.Split(' ', 2);
        return parts[0] switch
        {
            "exit" => ProcessEnding.Exit(int.Parse(parts[1], CultureInfo.InvariantCulture)),
            "kill" => ProcessEnding.KilledBy(UnixSignals.Parse(parts[1])),
            "core" => ProcessEnding.KilledBy(UnixSignals.Parse(parts[1]), coreDumped: true),
            _ => throw new ArgumentException($"not an ending: {text}", nameof(text)),
        };
    }
}

/// <summary>A payload whose reaction to every signal is fixed by the test; it remembers what it was sent.</summary>
internal sealed class ScriptedProcess : IProcessBehavior
{
    private readonly Func<UnixSignal, bool, SignalResponse> react;

    private ScriptedProcess(Func<UnixSignal, bool, SignalResponse> react) => this.react = react;

    public List<(UnixSignal Signal, bool Marked)> Received { get; } = [];

    /// <summary>Ends with <paramref name="ending"/> after <paramref name="afterSeconds"/>, whatever it is sent.</summary>
    public static ScriptedProcess EndsWith(string ending, double afterSeconds = 0) =>
        new((_, _) => new SignalResponse(Endings.Parse(ending), TimeSpan.FromSeconds(afterSeconds), "scripted"));

    /// <summary>Installs a handler for every signal and keeps running.</summary>
    public static ScriptedProcess IgnoresEverything() => new((_, _) => SignalResponse.Ignores("scripted: ignores it"));

    public SignalResponse OnSignal(UnixSignal signal, bool plannedStopMarked)
    {
        Received.Add((signal, plannedStopMarked));
        return this.react(signal, plannedStopMarked);
    }
}

/// <summary>Inline units: a [Service] section with ExecStart=/bin/true plus the lines a test cares about.</summary>
internal static class Units
{
    public static SystemdUnit Service(params string[] lines) => ServiceOn(SystemdUnitReader.DefaultVersion, lines);

    public static SystemdUnit ServiceOn(int version, params string[] lines) =>
        SystemdUnitReader.Parse("[Service]\nExecStart=/bin/true\n" + string.Join('\n', lines) + "\n", "/test/gw.service", version);

    /// <summary>A whole unit text, as given.</summary>
    public static SystemdUnit Text(string text, int version = SystemdUnitReader.DefaultVersion) =>
        SystemdUnitReader.Parse(text, "/test/gw.service", version);

    public static SystemdModel Model(params string[] lines) => new(Service(lines));

    public static SystemdModel ModelOn(int version, params string[] lines) => new(ServiceOn(version, lines));
}

/// <summary>A directory under the system temp folder, deleted afterwards.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "hermes-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Write(string relative, string text) => WriteBytes(relative, System.Text.Encoding.UTF8.GetBytes(text));

    public string WriteBytes(string relative, byte[] bytes)
    {
        var full = System.IO.Path.Combine(Path, relative);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, bytes);
        return full;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover temp folder is not a test failure.
        }
    }
}

internal static class Expect
{
    public static HermesException Error(string errorId, Action action)
    {
        var e = Assert.Throws<HermesException>(action);
        Assert.Equal(errorId, e.ErrorId);
        return e;
    }

    public static HermesException Error(string errorId, Func<object?> action)
    {
        var e = Assert.Throws<HermesException>(action);
        Assert.Equal(errorId, e.ErrorId);
        return e;
    }
}
