using System.Text;
using System.Text.Json;

namespace HermesGateway.RestartBenchmark;

/// <summary>One record of the stub's stub-events.jsonl: when (epoch seconds, the stub's own clock), who, what.</summary>
internal sealed record StubEvent(double Time, int Pid, string Name, string? State, string? Signal, int? Code);

/// <summary>Reads the stub's append-only event log incrementally and answers when a given PID did what.</summary>
internal sealed class StubEventLog(string path)
{
    private readonly List<StubEvent> events = [];
    private long offset;

    public void Refresh()
    {
        if (!File.Exists(path))
        {
            return;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(offset, SeekOrigin.Begin);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        var end = text.LastIndexOf('\n');
        if (end < 0)
        {
            return; // only a partial line so far
        }

        offset += Encoding.UTF8.GetByteCount(text.AsSpan(0, end + 1));
        foreach (var line in text[..end].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                var r = doc.RootElement;
                string? S(string key) => r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
                int? I(string key) => r.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
                events.Add(new StubEvent(r.GetProperty("time").GetDouble(), r.GetProperty("pid").GetInt32(), S("event") ?? string.Empty, S("state"), S("signal"), I("code")));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or FormatException)
            {
                Console.Error.WriteLine($"skipping an unreadable line of {path}: {e.Message}");
            }
        }
    }

    /// <summary>The first event of <paramref name="pid"/> named <paramref name="name"/> (and in <paramref name="state"/>), after <paramref name="since"/>.</summary>
    public StubEvent? First(int pid, string name, string? state = null, double since = 0) =>
        events.FirstOrDefault(e => e.Pid == pid && e.Name == name && (state is null || e.State == state) && e.Time >= since);

    /// <summary>Waits (briefly) until the events a finished restart must have left are in the file.</summary>
    public bool WaitFor(Func<StubEventLog, bool> complete, TimeSpan within, CancellationToken cancellation)
    {
        var deadline = DateTime.UtcNow + within;
        while (true)
        {
            Refresh();
            if (complete(this))
            {
                return true;
            }

            if (DateTime.UtcNow >= deadline || cancellation.WaitHandle.WaitOne(10))
            {
                return false;
            }
        }
    }
}
