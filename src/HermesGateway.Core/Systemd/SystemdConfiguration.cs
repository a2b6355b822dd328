using HermesGateway.Core.Policy;

namespace HermesGateway.Core.Systemd;

/// <summary>A unit (with its drop-ins) as systemd would load it.</summary>
public sealed record SystemdConfiguration(SystemdUnit Unit) : ServiceConfiguration(Unit.ServiceName, Unit.Path, Unit.Diagnostics)
{
    public override ServicePlatform Platform => ServicePlatform.Systemd;

    public override bool Covers(ScenarioDefinition scenario) => scenario.Systemd;

    public override ScenarioVerdict Judge(ScenarioDefinition scenario, GatewayExitContract contract, EvaluationOptions options) =>
        SystemdScenarioJudge.Judge(this, new SystemdModel(Unit), contract, options, scenario);

    public override SupervisorOutcome Answer(SupervisorEventRequest request, GatewayExitContract contract, EvaluationOptions options) =>
        SystemdScenarioJudge.Answer(this, request, contract, options);

    public override IReadOnlyList<SupervisorStep> Play(SupervisorTimelineRequest request, GatewayExitContract contract, EvaluationOptions options) =>
        SystemdTimeline.Play(this, request, contract, options);
}
