namespace HermesGateway.PowerShell.Tests;

/// <summary>A temporary folder for files a test hands to the cmdlets; removed on Dispose. Changes nothing process-wide.</summary>
public sealed class ScratchFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("hermes-pwsh-files-").FullName;

    /// <summary>Writes <paramref name="text"/> to <paramref name="name"/> (taken literally, brackets and all); returns the full path.</summary>
    public string Write(string name, string text)
    {
        var path = System.IO.Path.Combine(Path, name);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
