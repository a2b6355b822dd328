using System.Collections.Immutable;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Policy;

/// <summary>
/// A unit or plist as its supervisor would load it: what the exit policy is tested against. Each supervisor's reading
/// is its own type (SystemdConfiguration, LaunchdConfiguration), which plays the scenarios through that supervisor's model.
/// </summary>
/// <param name="Name">the unit name without '.service', or the job's Label</param>
/// <param name="Path">the file it was read from</param>
/// <param name="Diagnostics">what the supervisor would say about it when loading it</param>
public abstract record ServiceConfiguration(string Name, string Path, ImmutableArray<UnitDiagnostic> Diagnostics)
{
    public abstract ServicePlatform Platform { get; }

    /// <summary>The supervisor would not load it at all.</summary>
    public bool LoadRefused => Diagnostics.Any(d => d.Severity == DiagnosticSeverity.Fatal);

    /// <summary>Whether the situation a scenario describes exists under this supervisor.</summary>
    public abstract bool Covers(ScenarioDefinition scenario);

    /// <summary>Plays one scenario through the supervisor's model and judges the result against its intent.</summary>
    public abstract ScenarioVerdict Judge(ScenarioDefinition scenario, GatewayExitContract contract, EvaluationOptions options);

    /// <summary>What the supervisor does after one event, with no intent to judge it against.</summary>
    public abstract SupervisorOutcome Answer(SupervisorEventRequest request, GatewayExitContract contract, EvaluationOptions options);

    /// <summary>Plays a timeline of events through the supervisor's model, step by step; a supervisor without a simulator refuses.</summary>
    public virtual IReadOnlyList<SupervisorStep> Play(SupervisorTimelineRequest request, GatewayExitContract contract, EvaluationOptions options) =>
        throw new HermesException(HermesErrorIds.TimelineUnsupported, HermesErrorCategory.InvalidOperation,
            $"{Name} is a {Platform} job: timelines are played for systemd units only; put single events with -Event.", Platform);
}
