using System.Text.Json;

namespace HermesGateway.Core.Policy;

/// <summary>
/// $HERMES_HOME/gateway_state.json, where the gateway says what it is doing (starting, running, draining, stopped,
/// startup_failed) and for which PID. A dead gateway can leave "running" behind, so the PID always goes with it.
/// </summary>
public static class GatewayStateFile
{
    public const string FileName = "gateway_state.json";

    /// <summary>The state word and PID, or null when the file is missing, unreadable or not the gateway's shape.</summary>
    public static (string? State, int Pid)? Read(string hermesHome)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(hermesHome, FileName)));
            var root = doc.RootElement;
            return root.TryGetProperty("gateway_state", out var state) && state.ValueKind == JsonValueKind.String
                && root.TryGetProperty("pid", out var p) && p.ValueKind == JsonValueKind.Number && p.TryGetInt32(out var pid)
                ? (state.GetString(), pid)
                : null;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException or InvalidOperationException or FormatException)
        {
            return null;
        }
    }
}
