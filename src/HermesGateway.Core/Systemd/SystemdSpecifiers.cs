using System.Globalization;
using System.Text;
using HermesGateway.Core.Errors;
using HermesGateway.Core.Platform;

namespace HermesGateway.Core.Systemd;

/// <summary>
/// What systemd's %-specifiers resolve to for one unit, as far as the engine can know it without asking the manager:
/// the unit's names, and the account and directories of the manager that loads it (systemd.unit(5), "Specifiers").
/// The credential specifiers (%u %U %h) are those of the user running the manager: the calling user for a user unit,
/// root (/root, 0) for a system unit, whatever its User= says ("not influenced by the User= setting").
/// </summary>
public sealed record SpecifierContext
{
    /// <summary>The full unit name, "hermes-gateway.service".</summary>
    public required string UnitName { get; init; }

    public required bool SystemScope { get; init; }

    /// <summary>The user manager's user (user scope only).</summary>
    public string? UserName { get; init; }

    public uint? Uid { get; init; }

    public string? Home { get; init; }

    public string? RuntimeDirectory { get; init; }

    public string? ConfigHome { get; init; }

    public string? CacheHome { get; init; }

    /// <summary>A user unit loaded by the calling user's manager, or a system unit loaded by PID 1.</summary>
    public static SpecifierContext For(string unitName, bool systemScope, ServiceEnvironment caller) => systemScope
        ? new SpecifierContext { UnitName = unitName, SystemScope = true }
        : new SpecifierContext
        {
            UnitName = unitName,
            SystemScope = false,
            UserName = caller.UserName,
            Uid = caller.Uid,
            Home = caller.Home,
            RuntimeDirectory = caller.XdgRuntimeDir ?? $"/run/user/{caller.Uid.ToString(CultureInfo.InvariantCulture)}",
            ConfigHome = caller.XdgConfigHome ?? Path.Combine(caller.Home, ".config"),
            CacheHome = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } cache ? cache : Path.Combine(caller.Home, ".cache"),
        };
}

/// <summary>Resolves systemd's %-specifiers in a unit's values as systemd would, or refuses what cannot be known here.</summary>
public static class SystemdSpecifiers
{
    /// <summary>
    /// <paramref name="value"/> with every specifier resolved ("%%" is '%'). A specifier whose value the engine
    /// cannot know (the host's names and IDs, the credentials directory, a user manager's state and log directories,
    /// which differ between systemd versions) or that systemd does not have is refused with
    /// <see cref="HermesErrorIds.SpecifierUnresolvable"/>: never used as the literal text.
    /// </summary>
    public static string Expand(string value, SpecifierContext context, string what)
    {
        if (!value.Contains('%', StringComparison.Ordinal))
        {
            return value;
        }

        var sb = new StringBuilder(value.Length + 32);
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '%')
            {
                sb.Append(value[i]);
                continue;
            }

            if (i + 1 >= value.Length)
            {
                throw Unresolvable(value, "%", what, context, "a lone '%' at the end, which systemd refuses");
            }

            var c = value[++i];
            sb.Append(Resolve(c, value, context, what));
        }

        return sb.ToString();
    }

    private static string Resolve(char c, string value, SpecifierContext x, string what)
    {
        var (prefix, instance) = SplitName(x.UnitName);
        var system = x.SystemScope;
        string Known(string? v, string why) => v ?? throw Unresolvable(value, "%" + c, what, x, why);
        return c switch
        {
            '%' => "%",
            'n' => x.UnitName,
            'N' => StripSuffix(x.UnitName),
            'p' => prefix,
            'P' => Unescape(prefix),
            'i' => instance,
            'I' => Unescape(instance),
            'j' => prefix[(prefix.LastIndexOf('-') + 1)..],
            'J' => Unescape(prefix[(prefix.LastIndexOf('-') + 1)..]),
            'f' => "/" + Unescape(instance.Length > 0 ? instance : prefix).TrimStart('/'),
            'u' => system ? "root" : Known(x.UserName, "the user manager's user is not known"),
            'U' => system ? "0" : Known(x.Uid?.ToString(CultureInfo.InvariantCulture), "the user manager's UID is not known"),
            'h' => system ? "/root" : Known(x.Home, "the user manager's home directory is not known"),
            't' => system ? "/run" : Known(x.RuntimeDirectory, "the user manager's runtime directory is not known"),
            'E' => system ? "/etc" : Known(x.ConfigHome, "the user manager's configuration directory is not known"),
            'C' => system ? "/var/cache" : Known(x.CacheHome, "the user manager's cache directory is not known"),
            'S' when system => "/var/lib",
            'L' when system => "/var/log",
            'T' => "/tmp",
            'V' => "/var/tmp",
            'S' or 'L' => throw Unresolvable(value, "%" + c, what, x, "a user manager's state and log directories differ between systemd versions and environments"),
            'a' or 'A' or 'b' or 'B' or 'H' or 'l' or 'm' or 'M' or 'o' or 'q' or 'v' or 'w' or 'W' =>
                throw Unresolvable(value, "%" + c, what, x, "it names a fact of the host the manager runs on (architecture, boot, host name, machine or OS), which the engine does not assume"),
            'd' => throw Unresolvable(value, "%d", what, x, "the credentials directory exists only while the service runs"),
            'g' or 'G' or 's' => throw Unresolvable(value, "%" + c, what, x, "the manager's group and shell are not known here"),
            _ => throw Unresolvable(value, "%" + c, what, x, "systemd 252 has no such specifier and ignores the setting"),
        };
    }

    private static (string Prefix, string Instance) SplitName(string unitName)
    {
        var name = StripSuffix(unitName);
        var at = name.IndexOf('@', StringComparison.Ordinal);
        return at < 0 ? (name, string.Empty) : (name[..at], name[(at + 1)..]);
    }

    private static string StripSuffix(string unitName)
    {
        var dot = unitName.LastIndexOf('.');
        return dot > 0 ? unitName[..dot] : unitName;
    }

    /// <summary>unit_name_unescape(): '-' is '/', "\xNN" the byte NN.</summary>
    private static string Unescape(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '-')
            {
                sb.Append('/');
            }
            else if (s[i] == '\\' && i + 3 < s.Length && s[i + 1] == 'x' && int.TryParse(s.AsSpan(i + 2, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var b) && b is > 0 and < 0x80)
            {
                sb.Append((char)b);
                i += 3;
            }
            else
            {
                sb.Append(s[i]);
            }
        }

        return sb.ToString();
    }

    private static HermesException Unresolvable(string value, string specifier, string what, SpecifierContext x, string why) =>
        new(HermesErrorIds.SpecifierUnresolvable, HermesErrorCategory.InvalidData,
            $"{what} of {x.UnitName} ('{(value.Length > 120 ? value[..117] + "..." : value)}') uses {specifier}, which the engine cannot resolve as systemd would for this {(x.SystemScope ? "system" : "user")} unit: {why}. Write the value out in the unit.",
            value);
}
