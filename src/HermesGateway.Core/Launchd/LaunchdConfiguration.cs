using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Launchd;

/// <summary>A plist as launchd would load it.</summary>
public sealed record LaunchdConfiguration(LaunchdJob Job) : ServiceConfiguration(NameOf(Job), Job.Path, Job.Diagnostics)
{
    public override ServicePlatform Platform => ServicePlatform.Launchd;

    public override bool Covers(ScenarioDefinition scenario) => scenario.Launchd;

    public override ScenarioVerdict Judge(ScenarioDefinition scenario, GatewayExitContract contract, EvaluationOptions options) =>
        LaunchdScenarioJudge.Judge(this, new LaunchdModel(Job, options.LaunchdDomain), contract, options, scenario);

    public override SupervisorOutcome Answer(SupervisorEventRequest request, GatewayExitContract contract, EvaluationOptions options) =>
        LaunchdScenarioJudge.Answer(this, request, contract, options);

    public override IReadOnlyList<SupervisorStep> Play(SupervisorTimelineRequest request, GatewayExitContract contract, EvaluationOptions options) =>
        LaunchdTimeline.Play(this, request, contract, options);

    private static string NameOf(LaunchdJob job) => job.Settings.Label.Length > 0 ? job.Settings.Label : System.IO.Path.GetFileNameWithoutExtension(job.Path);
}
