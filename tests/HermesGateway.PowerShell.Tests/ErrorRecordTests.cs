using System.Management.Automation;
using Xunit;

namespace HermesGateway.PowerShell.Tests;

/// <summary>
/// ErrorRecords as a host receives them: the stable id first in FullyQualifiedErrorId, the category, the target; one
/// non-terminating error per bad pipeline item, a terminating one when nothing can proceed.
/// </summary>
public sealed class ErrorRecordTests : IDisposable
{
    private readonly ScratchFolder files = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void A_missing_path_is_a_non_terminating_HermesPathNotFound_for_that_item_only()
    {
        var good = files.Write("good.service", Units.Good);
        var missing = Path.Combine(files.Path, "missing.service");

        var result = session.InvokeCommand("Test-HermesExitPolicy", input: [good, missing, good]);

        Assert.Null(result.TerminatingError);
        Assert.Equal<object>([true, true], [.. result.Output.Select(o => o.Properties["Ok"].Value)]);
        HostAssert.HermesError(Assert.Single(result.Errors), "HermesPathNotFound", ErrorCategory.ObjectNotFound, missing);
    }

    [Fact]
    public void A_missing_literal_path_is_HermesPathNotFound_with_the_path_as_written()
    {
        var missing = Path.Combine(files.Path, "none[1].service");

        var result = session.InvokeCommand("Test-HermesExitPolicy", new Dictionary<string, object?> { ["LiteralPath"] = missing });

        HostAssert.HermesError(Assert.Single(result.Errors), "HermesPathNotFound", ErrorCategory.ObjectNotFound, missing);
    }

    [Fact]
    public void A_service_file_without_a_section_header_is_HermesUnitMalformed_as_InvalidData()
    {
        var bad = files.Write("bad.service", Units.WithoutSection);
        var good = files.Write("good.service", Units.Good);

        var result = session.InvokeCommand("Test-HermesExitPolicy", input: [bad, good]);

        Assert.Null(result.TerminatingError);
        var answer = Assert.Single(result.Output); // two inputs: the answer names its file
        Assert.Equal((good, true), ((string)answer.Properties["Path"].Value, (bool)answer.Properties["Ok"].Value));
        HostAssert.HermesError(Assert.Single(result.Errors), "HermesUnitMalformed", ErrorCategory.InvalidData, bad);
    }

    [Fact]
    public void A_bad_profile_name_stops_New_HermesServiceDefinition_with_a_terminating_HermesNameInvalid()
    {
        var result = session.InvokeCommand("New-HermesServiceDefinition", new Dictionary<string, object?>
        {
            ["Profile"] = "Not A Profile",
            ["Executable"] = "/usr/local/bin/hermes",
        });

        Assert.Empty(result.Output);
        HostAssert.HermesError(result.Terminated, "HermesNameInvalid", ErrorCategory.InvalidArgument, "Not A Profile");
    }

    [Fact]
    public void Event_details_without_an_event_stop_the_command_before_any_input_is_judged()
    {
        var good = files.Write("good.service", Units.Good);

        var result = session.InvokeCommand("Test-HermesExitPolicy", new Dictionary<string, object?> { ["ExitCode"] = 3 }, [good, good]);

        Assert.Empty(result.Output);
        Assert.Empty(result.Errors);
        Assert.Equal("HermesEventInvalid", result.Terminated.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidArgument, result.Terminated.CategoryInfo.Category);
    }

    [Fact]
    public void ErrorAction_Stop_turns_the_first_bad_item_into_the_end_of_the_pipeline()
    {
        var good = files.Write("good.service", Units.Good);
        var missing = Path.Combine(files.Path, "missing.service");

        var result = session.InvokeCommand("Test-HermesExitPolicy", new Dictionary<string, object?> { ["ErrorAction"] = ActionPreference.Stop }, [good, missing, good]);

        // The answer for the first item is out before the error (as a result naming it: there were several inputs);
        // the item after the bad one is never judged.
        var answer = Assert.Single(result.Output);
        Assert.Equal((good, true), ((string)answer.Properties["Path"].Value, (bool)answer.Properties["Ok"].Value));
        HostAssert.HermesError(result.Terminated, "HermesPathNotFound", ErrorCategory.ObjectNotFound, missing);
    }

    [Fact]
    public void A_non_positive_restart_timeout_is_a_terminating_HermesOptionInvalid()
    {
        var result = session.InvokeCommand("Restart-HermesGateway", new Dictionary<string, object?>
        {
            ["Name"] = "hermes-gateway",
            ["Timeout"] = TimeSpan.Zero,
            ["Confirm"] = false,
        });

        Assert.Equal("HermesOptionInvalid", result.Terminated.FullyQualifiedErrorId.Split(',')[0]);
        Assert.Equal(ErrorCategory.InvalidArgument, result.Terminated.CategoryInfo.Category);
    }

    public void Dispose()
    {
        session.Dispose();
        files.Dispose();
    }
}

/// <summary>The service cmdlets' ErrorRecords, against a scratch HOME whose user bus answers nobody.</summary>
[Collection(ProcessStateGroup.Name)]
public sealed class ServiceErrorRecordTests : IDisposable
{
    private readonly ServiceSandbox sandbox = new();
    private readonly PowerShellSession session = new();

    [Fact]
    public void Each_name_that_matches_no_installed_service_is_its_own_HermesServiceNotFound()
    {
        sandbox.InstallUpstreamUnit();

        var result = session.InvokeCommand("Get-HermesService", input: ["nope-a", "hermes-gateway", "nope-b", "hermes-*"]);

        Assert.Null(result.TerminatingError);
        Assert.Equal(["hermes-gateway", "hermes-gateway"], result.Objects.Select(s => PowerShellSession.Property(s, "Name")));
        Assert.Collection(
            result.Errors,
            e => HostAssert.HermesError(e, "HermesServiceNotFound", ErrorCategory.ObjectNotFound, "nope-a"),
            e => HostAssert.HermesError(e, "HermesServiceNotFound", ErrorCategory.ObjectNotFound, "nope-b"));
    }

    [Fact]
    public void A_restart_the_supervisor_cannot_be_asked_about_is_HermesNoUserBus_carrying_the_restart_result()
    {
        sandbox.InstallUpstreamUnit();

        var result = session.Invoke("Get-HermesService | Restart-HermesGateway -Confirm:$false");

        Assert.Null(result.TerminatingError);
        var error = Assert.Single(result.Errors);
        Assert.StartsWith("HermesNoUserBus,", error.FullyQualifiedErrorId, StringComparison.Ordinal);
        Assert.Equal(ErrorCategory.ResourceUnavailable, error.CategoryInfo.Category);
        Assert.Equal("HermesGateway.Core.Restart.RestartResult", error.TargetObject?.GetType().FullName);
        Assert.Equal("hermes-gateway", PowerShellSession.Property(error.TargetObject, "Name"));
        Assert.Equal("unknown (HermesNoUserBus)", PowerShellSession.Property(error.TargetObject, "FinalState"));
    }

    [Fact]
    public void Replacing_a_unit_the_module_did_not_write_is_HermesFileChangedByHand_and_changes_nothing()
    {
        var unit = sandbox.InstallUpstreamUnit();
        var before = File.ReadAllText(unit);

        var result = session.InvokeCommand("Install-HermesService", new Dictionary<string, object?> { ["Name"] = "hermes-gateway", ["Confirm"] = false });

        HostAssert.HermesError(Assert.Single(result.Errors), "HermesFileChangedByHand", ErrorCategory.InvalidOperation, unit);
        Assert.Equal(before, File.ReadAllText(unit));
        Assert.Equal([Path.GetRelativePath(sandbox.Home, unit)], sandbox.FilesUnderHome());
    }

    public void Dispose()
    {
        session.Dispose();
        sandbox.Dispose();
    }
}
