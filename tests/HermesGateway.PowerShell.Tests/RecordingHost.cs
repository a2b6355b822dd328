using System.Collections.ObjectModel;
using System.Globalization;
using System.Management.Automation;
using System.Management.Automation.Host;
using System.Security;

namespace HermesGateway.PowerShell.Tests;

/// <summary>A PowerShell host that shows nothing and remembers everything: what a terminal would have printed and asked.</summary>
public sealed class RecordingHost : PSHost
{
    private readonly RecordingHostUserInterface ui = new();

    public override string Name => "HermesGateway.PowerShell.Tests";

    public override Version Version { get; } = new(1, 0);

    public override Guid InstanceId { get; } = Guid.NewGuid();

    public override CultureInfo CurrentCulture => CultureInfo.InvariantCulture;

    public override CultureInfo CurrentUICulture => CultureInfo.InvariantCulture;

    public override PSHostUserInterface UI => ui;

    /// <summary>The same UI, typed: the record of every write and prompt, and the answers prompts get.</summary>
    public RecordingHostUserInterface Recorded => ui;

    public override void EnterNestedPrompt() => throw new NotSupportedException("The test host has no nested prompt.");

    public override void ExitNestedPrompt() => throw new NotSupportedException("The test host has no nested prompt.");

    public override void NotifyBeginApplication()
    {
    }

    public override void NotifyEndApplication()
    {
    }

    public override void SetShouldExit(int exitCode)
    {
    }
}

/// <summary>One thing the host was asked to show: which Write* call, and its text.</summary>
public sealed record HostWrite(string Call, string Text);

/// <summary>One question the host was asked (PromptForChoice and friends), and the answer it gave.</summary>
public sealed record HostPrompt(string Call, string Caption, string Message, IReadOnlyList<string> Choices, string? Answer);

/// <summary>
/// Records every Write*/WriteLine call, every progress record (as it was at that moment: cmdlets reuse and mutate one
/// ProgressRecord), and every prompt. Choice prompts are answered from <see cref="Answers"/>; a prompt nobody expected
/// fails the invocation instead of hanging or guessing.
/// </summary>
public sealed class RecordingHostUserInterface : PSHostUserInterface
{
    private readonly List<HostWrite> writes = [];
    private readonly List<ProgressRecord> progress = [];
    private readonly List<HostPrompt> prompts = [];

    public override PSHostRawUserInterface RawUI { get; } = new RecordingRawUserInterface();

    /// <summary>The labels (without '&amp;') the next choice prompts are answered with, in order: "Yes", "No", "Yes to All"...</summary>
    public Queue<string> Answers { get; } = new();

    public IReadOnlyList<HostWrite> Writes
    {
        get
        {
            lock (writes)
            {
                return [.. writes];
            }
        }
    }

    /// <summary>Every progress record the host was given, copied when it was given.</summary>
    public IReadOnlyList<ProgressRecord> Progress
    {
        get
        {
            lock (progress)
            {
                return [.. progress];
            }
        }
    }

    public IReadOnlyList<HostPrompt> Prompts
    {
        get
        {
            lock (prompts)
            {
                return [.. prompts];
            }
        }
    }

    /// <summary>Everything written for a person to read, as a terminal would show it (Write without a newline runs on).</summary>
    public string Text => string.Concat(Writes.Select(w => w.Call == nameof(Write) ? w.Text : w.Text + "\n"));

    public override void Write(string value) => Record(nameof(Write), value);

    public override void Write(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Record(nameof(Write), value);

    public override void WriteLine() => Record(nameof(WriteLine), string.Empty);

    public override void WriteLine(string value) => Record(nameof(WriteLine), value);

    public override void WriteLine(ConsoleColor foregroundColor, ConsoleColor backgroundColor, string value) => Record(nameof(WriteLine), value);

    public override void WriteErrorLine(string value) => Record(nameof(WriteErrorLine), value);

    public override void WriteDebugLine(string message) => Record(nameof(WriteDebugLine), message);

    public override void WriteVerboseLine(string message) => Record(nameof(WriteVerboseLine), message);

    public override void WriteWarningLine(string message) => Record(nameof(WriteWarningLine), message);

    public override void WriteInformation(InformationRecord record) => Record(nameof(WriteInformation), record.MessageData?.ToString() ?? string.Empty);

    public override void WriteProgress(long sourceId, ProgressRecord record)
    {
        var copy = new ProgressRecord(record.ActivityId, record.Activity, record.StatusDescription)
        {
            ParentActivityId = record.ParentActivityId,
            CurrentOperation = record.CurrentOperation,
            PercentComplete = record.PercentComplete,
            SecondsRemaining = record.SecondsRemaining,
            RecordType = record.RecordType,
        };
        lock (progress)
        {
            progress.Add(copy);
        }
    }

    public override int PromptForChoice(string caption, string message, Collection<ChoiceDescription> choices, int defaultChoice)
    {
        var labels = choices.Select(c => c.Label.Replace("&", string.Empty, StringComparison.Ordinal)).ToList();
        if (!Answers.TryDequeue(out var answer))
        {
            RecordPrompt(new HostPrompt(nameof(PromptForChoice), caption, message, labels, null));
            throw new InvalidOperationException($"The test host was asked, with no answer ready: {caption}: {message}");
        }

        var index = labels.FindIndex(l => string.Equals(l, answer, StringComparison.OrdinalIgnoreCase));
        if (index < 0)
        {
            throw new InvalidOperationException($"'{answer}' is not one of the choices offered: {string.Join(", ", labels)}.");
        }

        RecordPrompt(new HostPrompt(nameof(PromptForChoice), caption, message, labels, labels[index]));
        return index;
    }

    public override Dictionary<string, PSObject> Prompt(string caption, string message, Collection<FieldDescription> descriptions)
    {
        RecordPrompt(new HostPrompt(nameof(Prompt), caption, message, [.. descriptions.Select(d => d.Name)], null));
        throw new InvalidOperationException($"The test host cannot fill in fields: {caption}: {message}");
    }

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName) =>
        PromptForCredential(caption, message, userName, targetName, PSCredentialTypes.Default, PSCredentialUIOptions.Default);

    public override PSCredential PromptForCredential(string caption, string message, string userName, string targetName, PSCredentialTypes allowedCredentialTypes, PSCredentialUIOptions options)
    {
        RecordPrompt(new HostPrompt(nameof(PromptForCredential), caption, message, [], null));
        throw new InvalidOperationException($"The test host has no credentials: {caption}: {message}");
    }

    public override string ReadLine()
    {
        RecordPrompt(new HostPrompt(nameof(ReadLine), string.Empty, string.Empty, [], null));
        throw new InvalidOperationException("The test host has no one to type a line.");
    }

    public override SecureString ReadLineAsSecureString()
    {
        RecordPrompt(new HostPrompt(nameof(ReadLineAsSecureString), string.Empty, string.Empty, [], null));
        throw new InvalidOperationException("The test host has no one to type a secret.");
    }

    private void Record(string call, string text)
    {
        lock (writes)
        {
            writes.Add(new HostWrite(call, text));
        }
    }

    private void RecordPrompt(HostPrompt prompt)
    {
        lock (prompts)
        {
            prompts.Add(prompt);
        }
    }
}

/// <summary>A fixed-size window with no keyboard: enough for formatting, never a real terminal.</summary>
public sealed class RecordingRawUserInterface : PSHostRawUserInterface
{
    public override ConsoleColor BackgroundColor { get; set; } = ConsoleColor.Black;

    public override ConsoleColor ForegroundColor { get; set; } = ConsoleColor.Gray;

    public override Size BufferSize { get; set; } = new(160, 3000);

    public override Coordinates CursorPosition { get; set; }

    public override int CursorSize { get; set; } = 1;

    public override bool KeyAvailable => false;

    public override Size MaxPhysicalWindowSize => new(160, 50);

    public override Size MaxWindowSize => new(160, 50);

    public override Coordinates WindowPosition { get; set; }

    public override Size WindowSize { get; set; } = new(160, 50);

    public override string WindowTitle { get; set; } = string.Empty;

    public override void FlushInputBuffer()
    {
    }

    public override BufferCell[,] GetBufferContents(Rectangle rectangle) => throw new NotSupportedException("The test host keeps no screen buffer.");

    public override KeyInfo ReadKey(ReadKeyOptions options) => throw new InvalidOperationException("The test host has no keyboard.");

    public override void ScrollBufferContents(Rectangle source, Coordinates destination, Rectangle clip, BufferCell fill)
    {
    }

    public override void SetBufferContents(Coordinates origin, BufferCell[,] contents)
    {
    }

    public override void SetBufferContents(Rectangle rectangle, BufferCell fill)
    {
    }
}
