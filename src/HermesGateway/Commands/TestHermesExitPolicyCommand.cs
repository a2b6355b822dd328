using System.Management.Automation;
using HermesGateway.Core.Definition;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Policy;
using HermesGateway.Core.Systemd;

namespace HermesGateway.Commands;

/// <summary>Test-HermesExitPolicy: does this unit or plist do what the gateway's exit contract means, in every lifecycle event?</summary>
[Cmdlet(VerbsDiagnostic.Test, "HermesExitPolicy", DefaultParameterSetName = PathSet)]
[OutputType(typeof(bool))]
[OutputType(typeof(ExitPolicyTestResult))]
[OutputType(typeof(ScenarioVerdict))]
[OutputType(typeof(SupervisorOutcome))]
[OutputType(typeof(SupervisorStep))]
public sealed class TestHermesExitPolicyCommand : ExitContractCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private const string InputObjectSet = "InputObject";
    private const string DefinitionSet = "Definition";

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    [SupportsWildcards]
    public string[] Path { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = InputObjectSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public ServiceConfiguration[] InputObject { get; set; } = [];

    [Parameter(Mandatory = true, Position = 0, ParameterSetName = DefinitionSet, ValueFromPipeline = true)]
    [ValidateNotNull]
    public ServiceDefinition[] Definition { get; set; } = [];

    [Parameter(ParameterSetName = PathSet)]
    [Parameter(ParameterSetName = LiteralPathSet)]
    public ServicePlatform? Platform { get; set; }

    [Parameter]
    public LifecycleScenario[]? Scenario { get; set; }

    [Parameter]
    [ValidateRange(SystemdUnitReader.MinimumVersion, 999)]
    public int SystemdVersion { get; set; } = SystemdUnitReader.DefaultVersion;

    [Parameter]
    public LaunchdDomainKind LaunchdDomain { get; set; } = LaunchdDomainKind.Gui;

    /// <summary>A launchd job's program does not exist on the Mac that runs it: every spawn fails.</summary>
    [Parameter]
    public SwitchParameter LaunchdProgramMissing { get; set; }

    /// <summary>A launchd job's label is disabled in its domain (launchctl disable).</summary>
    [Parameter]
    public SwitchParameter LaunchdDisabled { get; set; }

    [Parameter]
    public TimeSpan? ReviveWithin { get; set; }

    [Parameter]
    public SwitchParameter Detailed { get; set; }

    /// <summary>One $true/$false per input, also when there are several (without it, several inputs give one result object each).</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    [Parameter]
    public SupervisorEventKind? Event { get; set; }

    [Parameter]
    public int? ExitCode { get; set; }

    [Parameter]
    [ArgumentCompleter(typeof(SignalNameCompleter))]
    public string? Signal { get; set; }

    [Parameter]
    public TimeSpan? RunTime { get; set; }

    /// <summary>How the process reacts to the signals of -Event and -Timeline answers (the gateway's contract by default).</summary>
    [Parameter]
    public SignalReaction SignalReaction { get; set; } = SignalReaction.Gateway;

    /// <summary>The code the Exit reaction's handler exits with.</summary>
    [Parameter]
    [ValidateRange(0, 255)]
    public int? ReactionExitCode { get; set; }

    /// <summary>Events in time, one "&lt;time&gt; &lt;event&gt; [argument]" a string, played against a systemd unit or a launchd plist.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Timeline { get; set; }

    [Parameter]
    public SwitchParameter SendsReady { get; set; }

    [Parameter]
    public SwitchParameter PingsWatchdog { get; set; }

    [Parameter]
    [ValidateRange(SupervisorTimelineRequest.MinExecFailure, SupervisorTimelineRequest.MaxExecFailure)]
    public int? ExecFailure { get; set; }

    /// <summary>How long the manager's timers run on after the last item of a timeline (default one hour).</summary>
    [Parameter]
    public TimeSpan? Horizon { get; set; }

    protected override void BeginProcessing()
    {
        if (Event is null && (ExitCode is not null || Signal is not null || RunTime is not null))
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.EventInvalid, HermesErrorCategory.InvalidArgument,
                "-ExitCode, -Signal and -RunTime describe an event: give -Event too (Exit, Signal, ManagerStop, ManagerRestart or OomKill).", MyInvocation.BoundParameters)));
        }

        if (Detailed && Quiet)
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                "-Quiet answers $true or $false; it does not combine with -Detailed.", Quiet)));
        }

        if (Timeline is not null && (Event is not null || Scenario is not null || Detailed || Quiet))
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.TimelineInvalid, HermesErrorCategory.InvalidArgument,
                "-Timeline plays events in time; it does not combine with -Event, -Scenario, -Detailed or -Quiet.", Timeline)));
        }

        if (Horizon is { } horizon && horizon < TimeSpan.Zero)
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"-Horizon is {horizon}; it cannot be negative.", horizon)));
        }

        if (Timeline is null && (SendsReady || PingsWatchdog || ExecFailure is not null || Horizon is not null))
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.TimelineInvalid, HermesErrorCategory.InvalidArgument,
                "-SendsReady, -PingsWatchdog, -ExecFailure and -Horizon describe a timeline: give -Timeline too.", MyInvocation.BoundParameters)));
        }

        var reactionGiven = MyInvocation.BoundParameters.ContainsKey(nameof(SignalReaction)) || ReactionExitCode is not null;
        if (reactionGiven && Event is null && Timeline is null)
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.SignalReactionInvalid, HermesErrorCategory.InvalidArgument,
                "-SignalReaction and -ReactionExitCode apply to -Event and -Timeline answers; the scenarios always read the gateway's contract.", SignalReaction)));
        }

        try
        {
            SignalReactions.Validate(SignalReaction, ReactionExitCode);
        }
        catch (HermesException e)
        {
            ThrowTerminatingError(ToErrorRecord(e));
        }

        if (Event is not null && (Scenario is not null || Detailed))
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.EventInvalid, HermesErrorCategory.InvalidArgument,
                "-Event answers one raw event; it does not combine with -Scenario or -Detailed.", Event)));
        }
    }

    // One input answers $true or $false (like Test-Path); from the second input on (a path, an expanded wildcard match,
    // a definition or configuration, given or piped, failed ones included) every answer is an ExitPolicyTestResult
    // naming its input. The first answer is held until a second input shows up or the pipeline ends, and written
    // before anything about the second input, an error included, so -ErrorAction Stop loses no answer.
    private int inputs;
    private ExitPolicyTestResult? held;

    private void NextInput()
    {
        if (++inputs > 1 && held is not null)
        {
            WriteObject(held);
            held = null;
        }
    }

    private void Answer(ExitPolicyTestResult result)
    {
        if (inputs > 1)
        {
            WriteObject(result);
        }
        else
        {
            held = result;
        }
    }

    private IEnumerable<string> EachInput(string[] paths, bool literal)
    {
        foreach (var p in paths)
        {
            NextInput();
            var first = true;
            foreach (var resolved in ResolvePaths([p], literal))
            {
                if (!first)
                {
                    NextInput();
                }

                first = false;
                yield return resolved;
            }
        }
    }

    protected override void EndProcessing()
    {
        if (held is not null)
        {
            WriteObject(held.Ok);
        }
    }

    protected override void ProcessRecord()
    {
        GatewayExitContract contract;
        try
        {
            contract = BuildContract();
        }
        catch (HermesException e)
        {
            ThrowTerminatingError(ToErrorRecord(e));
            return;
        }

        if (ReviveWithin is { } limit && limit < TimeSpan.Zero)
        {
            ThrowTerminatingError(ToErrorRecord(new HermesException(HermesErrorIds.OptionInvalid, HermesErrorCategory.InvalidArgument,
                $"-ReviveWithin is {limit}; it cannot be negative.", limit)));
        }

        var options = new EvaluationOptions
        {
            SystemdVersion = SystemdVersion,
            ReviveWithin = ReviveWithin ?? new EvaluationOptions().ReviveWithin,
            LaunchdDomain = new LaunchdDomain { Kind = LaunchdDomain, ProgramMissing = LaunchdProgramMissing, JobDisabled = LaunchdDisabled },
            CrashLoopHorizon = Horizon ?? new EvaluationOptions().CrashLoopHorizon,
        };

        IEnumerable<Func<ServiceConfiguration>> configs = ParameterSetName switch
        {
            PathSet => EachInput(Path, literal: false).Select<string, Func<ServiceConfiguration>>(p => () => ServiceFormats.Read(p, Platform, SystemdVersion)),
            LiteralPathSet => EachInput(LiteralPath, literal: true).Select<string, Func<ServiceConfiguration>>(p => () => ServiceFormats.Read(p, Platform, SystemdVersion)),
            DefinitionSet => Definition.Select<ServiceDefinition, Func<ServiceConfiguration>>(d => () => { NextInput(); return ServiceFiles.ToConfiguration(d, SystemdVersion); }),
            _ => InputObject.Select<ServiceConfiguration, Func<ServiceConfiguration>>(c => () => { NextInput(); return c; }),
        };

        foreach (var load in configs)
        {
            try
            {
                var config = load();
                var path = ParameterSetName == DefinitionSet ? ExitPolicyTestResult.DefinitionPath : config.Path;
                foreach (var d in config.Diagnostics)
                {
                    WriteWarning($"{config.Platform}: {d}");
                }

                if (Event is { } kind)
                {
                    WriteObject(ExitPolicyEvaluator.Answer(config, new SupervisorEventRequest(kind, ExitCode, Signal, RunTime, SignalReaction, ReactionExitCode), contract, options) with { Path = path });
                    continue;
                }

                if (Timeline is not null)
                {
                    var request = new SupervisorTimelineRequest(Timeline, SignalReaction, ReactionExitCode, SendsReady, PingsWatchdog, ExecFailure);
                    WriteObject(ExitPolicyEvaluator.Play(config, request, contract, options).Select(step => step with { Path = path }), enumerateCollection: true);
                    continue;
                }

                var verdicts = ExitPolicyEvaluator.Evaluate(config, contract, options, Scenario);
                foreach (var v in verdicts.Where(v => !v.Applicable))
                {
                    WriteError(ToErrorRecord(new HermesException(HermesErrorIds.ScenarioNotApplicable, HermesErrorCategory.InvalidArgument,
                        $"{v.Scenario} does not apply to {config.Name} ({config.Platform}): {v.Why}.", v.Scenario)));
                }

                verdicts = verdicts.Where(v => v.Applicable).ToList();
                foreach (var v in verdicts.Where(v => !v.Ok))
                {
                    WriteVerbose($"{v.Name}: {v.Scenario} fails: {v.Why}");
                }

                if (Detailed)
                {
                    WriteObject(verdicts.Select(v => v with { Path = path }), enumerateCollection: true);
                }
                else if (Quiet)
                {
                    WriteObject(verdicts.All(v => v.Ok));
                }
                else
                {
                    // One input answers $true or $false; several answer one object each, saying which is which (EndProcessing).
                    Answer(ExitPolicyTestResult.From(config.Name, path, config.Platform, verdicts));
                }
            }
            catch (HermesException e)
            {
                WriteError(ToErrorRecord(e));
            }
        }
    }
}
