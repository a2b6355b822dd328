using System.Globalization;

namespace HermesGateway.Core.Platform;

/// <summary>An account of this machine as the password database lists it.</summary>
public sealed record LocalAccount(string Name, uint Uid, uint Gid, string Home);

/// <summary>The machine's accounts, from a passwd(5) file (/etc/passwd; a sandbox's own).</summary>
public static class LocalAccounts
{
    /// <summary>
    /// The accounts in <paramref name="passwdFile"/>: name, UID, GID and home of every well-formed line (others are
    /// skipped); none when the file cannot be read. NSS sources other than the file (LDAP, sssd) are not asked.
    /// </summary>
    public static IReadOnlyList<LocalAccount> Read(string passwdFile)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(passwdFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }

        var accounts = new List<LocalAccount>();
        foreach (var line in lines)
        {
            var f = line.Split(':');
            if (f.Length >= 7 && f[0].Length > 0 && !f[0].StartsWith('+') && !f[0].StartsWith('-')
                && uint.TryParse(f[2], NumberStyles.None, CultureInfo.InvariantCulture, out var uid)
                && uint.TryParse(f[3], NumberStyles.None, CultureInfo.InvariantCulture, out var gid)
                && f[5].StartsWith('/'))
            {
                accounts.Add(new LocalAccount(f[0], uid, gid, f[5]));
            }
        }

        return accounts;
    }
}
