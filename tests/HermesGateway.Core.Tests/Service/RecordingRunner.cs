namespace HermesGateway.Core.Tests.Service;

/// <summary>A process runner that records every call and answers from a script of canned replies.</summary>
internal sealed class RecordingRunner : IProcessRunner
{
    private readonly List<(Func<string, IReadOnlyList<string>, bool> When, Func<ProcessResult> Reply)> replies = [];

    public List<string> Calls { get; } = [];

    public RecordingRunner On(Func<string, IReadOnlyList<string>, bool> when, int exitCode = 0, string stdout = "", string stderr = "")
    {
        replies.Insert(0, (when, () => new ProcessResult(exitCode, stdout, stderr, false)));
        return this;
    }

    public RecordingRunner OnArgs(string joined, int exitCode = 0, string stdout = "", string stderr = "") =>
        On((f, a) => $"{f} {string.Join(' ', a)}" == joined, exitCode, stdout, stderr);

    public ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, CancellationToken cancellation = default)
    {
        Calls.Add($"{fileName} {string.Join(' ', arguments)}");
        foreach (var (when, reply) in replies)
        {
            if (when(fileName, arguments))
            {
                return reply();
            }
        }

        return new ProcessResult(0, string.Empty, string.Empty, false);
    }

    /// <summary>A unit systemd knows, in the given state.</summary>
    public static string Show(string active = "inactive", string sub = "dead", int pid = 0, string fileState = "disabled") =>
        $"LoadState=loaded\nActiveState={active}\nSubState={sub}\nResult=success\nMainPID={pid}\nExecMainStartTimestamp=\nExecMainCode=0\nExecMainStatus=0\nNRestarts=0\nUnitFileState={fileState}\nFragmentPath=/x\n";
}

internal sealed class TestHost : Core.Service.IEngineHost
{
    public TestHost(bool whatIf = false) => WhatIf = whatIf;

    public bool WhatIf { get; }

    public List<string> Asked { get; } = [];

    public List<string> Warnings { get; } = [];

    public bool ShouldProcess(string target, string action)
    {
        Asked.Add(action);
        return !WhatIf;
    }

    public void WriteVerbose(string message)
    {
    }

    public void WriteWarning(string message) => Warnings.Add(message);

    public CancellationToken Cancellation => CancellationToken.None;

    /// <summary>A fixed time, so what the engine stamps is reproducible; a host facing a real gateway sets <see cref="RealClock"/>.</summary>
    public DateTimeOffset Now => RealClock ? DateTimeOffset.UtcNow : new(2026, 11, 22, 10, 15, 0, TimeSpan.Zero);

    /// <summary>Whether <see cref="Now"/> is the real time: a real gateway ignores a planned-stop marker older than 60 s.</summary>
    public bool RealClock { get; init; }
}
