using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace HermesGateway.Core.Tests.E2e;

/// <summary>
/// tests/fake-signal/fake_signal_cli.py on a free loopback port: the signal-cli daemon the real gateway's Signal adapter
/// talks to, and a way to send the gateway a chat message from an allowed user, as a person would.
/// </summary>
internal sealed class FakeSignal : IDisposable
{
    private const string Account = "+15550009999";
    private const string Sender = "+15550001111";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Process process;
    private readonly int port;

    private FakeSignal(Process process, int port)
    {
        this.process = process;
        this.port = port;
    }

    /// <summary>What the unit needs to talk to it: the Signal adapter on, this account, this sender allowed.</summary>
    public IReadOnlyList<EnvironmentVariable> Environment =>
    [
        new("SIGNAL_HTTP_URL", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}"),
        new("SIGNAL_ACCOUNT", Account),
        new("SIGNAL_ALLOWED_USERS", Sender),
    ];

    public static FakeSignal Start(string log)
    {
        var script = Path.Combine(Definition.GoldenCases.RepoRoot(), "tests", "fake-signal", "fake_signal_cli.py");
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var psi = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { script, "--port", port.ToString(CultureInfo.InvariantCulture), "--log", log, "--sender", Sender, "--account", Account })
        {
            psi.ArgumentList.Add(a);
        }

        var p = Process.Start(psi) ?? throw new InvalidOperationException("python3 did not start");
        var fake = new FakeSignal(p, port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (fake.Clients() is null)
        {
            if (DateTime.UtcNow > deadline || p.HasExited)
            {
                fake.Dispose();
                throw new InvalidOperationException($"the fake signal-cli did not answer on port {port}");
            }

            Thread.Sleep(50);
        }

        return fake;
    }

    /// <summary>Waits until the gateway has finished starting (its log says so) and its Signal stream is connected.</summary>
    public void WaitConnected(string hermesHome)
    {
        var log = Path.Combine(hermesHome, "logs", "gateway.log");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (Clients() >= 1 && File.Exists(log) && File.ReadAllText(log).Contains("Press Ctrl+C to stop", StringComparison.Ordinal))
            {
                return;
            }

            Thread.Sleep(100);
        }

        throw new Xunit.Sdk.XunitException($"the gateway in {hermesHome} never connected to the fake signal-cli (clients: {Clients()})");
    }

    /// <summary>A direct message from the allowed sender.</summary>
    public void Send(string text)
    {
        using var response = Http.PostAsync(Url("/inject"), new StringContent(text, Encoding.UTF8)).GetAwaiter().GetResult();
        using var doc = JsonDocument.Parse(response.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        var delivered = doc.RootElement.GetProperty("delivered_to").GetInt32();
        if (delivered < 1)
        {
            throw new Xunit.Sdk.XunitException($"'{text}' reached no gateway");
        }
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill();
                process.WaitForExit(5000);
            }
        }
        finally
        {
            process.Dispose();
        }
    }

    private int? Clients()
    {
        try
        {
            using var doc = JsonDocument.Parse(Http.GetStringAsync(Url("/state")).GetAwaiter().GetResult());
            return doc.RootElement.GetProperty("sse_clients").GetInt32();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            return null;
        }
    }

    private string Url(string path) => $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}{path}";
}
