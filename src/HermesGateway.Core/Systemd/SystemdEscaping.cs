using System.Globalization;
using System.Text;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Systemd;

/// <summary>
/// Writes user-supplied values into unit files so that systemd reads back exactly the original value, or refuses
/// with <see cref="HermesErrorIds.ValueNotRepresentable"/> when no spelling can carry it.
/// </summary>
public static class SystemdEscaping
{
    /// <summary>A value that cannot be written: control characters a unit file has no syntax for.</summary>
    private static void RefuseControl(string what, string value)
    {
        foreach (var c in value)
        {
            if (c is '\n' or '\r' or '\0')
            {
                throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                    $"{what} contains a {(c == '\0' ? "NUL" : "line break")}, which a unit file cannot carry: '{Show(value)}'.", value);
            }
        }
    }

    /// <summary>%-specifiers are expanded in nearly every setting: a literal '%' is written '%%'.</summary>
    public static string Specifiers(string value) => value.Replace("%", "%%", StringComparison.Ordinal);

    /// <summary>
    /// One word of an Exec*= command line: specifiers doubled, '$' doubled (no variable expansion), and the word
    /// double-quoted with C escapes whenever it holds anything but plain characters.
    /// </summary>
    public static string ExecWord(string word, string what = "a command-line argument")
    {
        RefuseControl(what, word);
        var body = Specifiers(word).Replace("$", "$$", StringComparison.Ordinal);
        return NeedsQuotes(body) ? Quote(body) : body;
    }

    /// <summary>A whole command line: the executable (absolute) and its arguments.</summary>
    public static string ExecLine(string executable, IEnumerable<string> arguments)
    {
        if (!executable.StartsWith('/'))
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"The executable '{Show(executable)}' is not an absolute path; systemd needs one.", executable);
        }

        var sb = new StringBuilder(ExecWord(executable, "the executable path"));
        foreach (var a in arguments)
        {
            sb.Append(' ').Append(ExecWord(a));
        }

        return sb.ToString();
    }

    /// <summary>One assignment of Environment=: "NAME=value" quoted, specifiers doubled; '$' stays literal there.</summary>
    public static string EnvironmentAssignment(string name, string value)
    {
        if (!IsEnvironmentName(name))
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"'{Show(name)}' is not a valid environment variable name (letters, digits and '_', not starting with a digit).", name);
        }

        RefuseControl($"The value of {name}", value);
        return Quote(Specifiers(name + "=" + value));
    }

    /// <summary>A path setting (WorkingDirectory=, EnvironmentFile=): absolute, no surrounding blanks, specifiers doubled.</summary>
    public static string PathValue(string path, string what)
    {
        RefuseControl(what, path);
        if (!path.StartsWith('/'))
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"{what} '{Show(path)}' is not an absolute path.", path);
        }

        if (path != path.Trim() || path.EndsWith('\\'))
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"{what} '{Show(path)}' ends in a blank or a backslash, which a unit file cannot keep.", path);
        }

        return Specifiers(path);
    }

    /// <summary>Free text (Description=): specifiers doubled; surrounding blanks would be trimmed, so they are refused.</summary>
    public static string Text(string value, string what)
    {
        RefuseControl(what, value);
        if (value != value.Trim() || value.EndsWith('\\'))
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"{what} '{Show(value)}' starts or ends with a blank or ends with a backslash, which a unit file cannot keep.", value);
        }

        return Specifiers(value);
    }

    public static bool IsEnvironmentName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');

    private static bool NeedsQuotes(string s) =>
        s.Length == 0 || s.Any(c => !(char.IsAsciiLetterOrDigit(c) || "/._-+=:,@%$".Contains(c, StringComparison.Ordinal))) || s == ";";

    private static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (char.IsControl(c))
                    {
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append(c);
                    }

                    break;
            }
        }

        return sb.Append('"').ToString();
    }

    private static string Show(string value) =>
        value.Length > 80 ? value[..77].Replace("\n", "\\n", StringComparison.Ordinal) + "..." : value.Replace("\n", "\\n", StringComparison.Ordinal).Replace("\0", "\\0", StringComparison.Ordinal);
}
