namespace HermesGateway.RestartBenchmark;

/// <summary>
/// The instants both benchmarks take of one restart, all on the same wall clock, and the spans they report from them:
/// the command, the stop request (signal), the old process' exit, the supervisor's fork of the new one, the moment it
/// counts as ready (<see cref="ReadyAt"/>) and when the restart was known to be done. <see cref="Sample"/> (the stub)
/// and <see cref="RealSample"/> (the real gateway) differ only in what their extra instants are and what "ready" means.
/// </summary>
internal abstract record RestartTimeline(double CommandAt, double SignalAt, double ExitAt, double ForkAt, double DoneAt)
{
    /// <summary>When the new process counts as up: the end of <see cref="StartUp"/>, the start of <see cref="Detection"/>.</summary>
    public abstract double ReadyAt { get; }

    public double Total => DoneAt - CommandAt;

    public double ToSignal => SignalAt - CommandAt;

    /// <summary>The gateway's own stop: the stop request (signal) → the process' exit.</summary>
    public double Drain => ExitAt - SignalAt;

    /// <summary>From the old process' exit to systemd's fork of the new one (RestartSec= plus systemd's own latency).</summary>
    public double ExitToFork => ForkAt - ExitAt;

    /// <summary>The gateway's own start-up: systemd's fork of it → <see cref="ReadyAt"/>.</summary>
    public double StartUp => ReadyAt - ForkAt;

    /// <summary>From <see cref="ReadyAt"/> to the method or path knowing it (its polling).</summary>
    public double Detection => DoneAt - ReadyAt;

    /// <summary>What is neither the gateway's drain nor its start-up.</summary>
    public double Overhead => Total - Drain - StartUp;
}
