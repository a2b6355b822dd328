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
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c is '\n' or '\r' or '\0')
            {
                throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                    $"{what} contains a {(c == '\0' ? "NUL" : "line break")}, which a unit file cannot carry: '{Show(value)}'.", value);
            }

            // An unpaired surrogate has no UTF-8 form: writing the file would silently turn it into U+FFFD.
            int code = c;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                code = char.ConvertToUtf32(c, value[++i]);
            }
            else if (char.IsSurrogate(c))
            {
                throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                    $"{what} contains the unpaired surrogate U+{(int)c:X4} at index {i}, which UTF-8 cannot encode.", value);
            }

            // systemd's UTF-8 check (utf8_is_valid) also rejects the non-characters U+FDD0..U+FDEF and U+xxFFFE/U+xxFFFF:
            // it ignores the whole assignment ("String is not UTF-8 clean").
            if (code is >= 0xFDD0 and <= 0xFDEF || (code & 0xFFFE) == 0xFFFE)
            {
                throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                    $"{what} contains the non-character U+{code:X4}, which systemd refuses in a unit file.", value);
            }
        }
    }

    /// <summary>
    /// A path systemd takes as written: path_is_valid() (at most PATH_MAX - 1 bytes, components of at most NAME_MAX
    /// bytes) and path_is_normalized() (no '//', '.' or '..' components, no trailing '/'). systemd refuses the
    /// others or silently simplifies them, so the value read back would differ.
    /// </summary>
    private static void RequireNormalizedPath(string path, string what)
    {
        const int PathMax = 4096, NameMax = 255;
        var components = path.Split('/');
        var normalized = path == "/" || (!path.EndsWith('/') && components.Skip(1).All(p => p.Length > 0 && p is not ("." or "..")));
        var tooLong = Encoding.UTF8.GetByteCount(path) >= PathMax || components.Any(p => Encoding.UTF8.GetByteCount(p) > NameMax);
        if (!normalized || tooLong)
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                tooLong
                    ? $"{what} '{Show(path)}' is longer than systemd accepts ({PathMax - 1} bytes, {NameMax} per component)."
                    : $"{what} '{Show(path)}' is not a normalized path ('//', '.' or '..' components, or a trailing '/'): systemd would refuse or rewrite it.", path);
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

        // systemd execs the first word as written: '$' is not expanded there ('$$' would stay doubled), while
        // argv[0] is expanded, so no spelling gives both the path and argv[0] back.
        if (executable.Contains('$', StringComparison.Ordinal))
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"The executable '{Show(executable)}' contains '$', which systemd cannot pass unchanged as both the path and argv[0].", executable);
        }

        RefuseControl("the executable path", executable);

        // string_is_safe(): systemd refuses an executable path with control characters, quotes or backslashes.
        if (executable.Any(c => c < ' ' || c is '\u007F' or '"' or '\'' or '\\'))
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"The executable '{Show(executable)}' contains a control character, a quote or a backslash, which systemd refuses in an executable path.", executable);
        }

        RequireNormalizedPath(executable, "The executable");
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

        RequireNormalizedPath(path, what);
        return Specifiers(path);
    }

    /// <summary>
    /// EnvironmentFile=: a path as <see cref="PathValue"/>, without glob characters. systemd passes the path to glob(3)
    /// when it starts the service, so '*', '?' and '[' would match other files and '\' would escape the next character.
    /// </summary>
    public static string EnvironmentFilePath(string path)
    {
        if (path.IndexOfAny(['*', '?', '[', '\\']) >= 0)
        {
            throw new HermesException(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
                $"EnvironmentFile '{Show(path)}' contains '*', '?', '[' or '\\', which systemd reads as a glob pattern, not as the file name.", path);
        }

        return PathValue(path, "EnvironmentFile");
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
                    // Only ASCII controls as \xNN: systemd turns \xNN into the byte NN, so a C1 control (U+0080..U+009F)
                    // written that way would come back as a lone byte that is not UTF-8. It is written as itself.
                    if (char.IsControl(c) && c < '\u0080')
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
