using System.Globalization;
using System.Text;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Launchd;

/// <summary>
/// Writes property lists in the XML form macOS writes (header, Apple DOCTYPE, tab indentation, LF line ends).
/// The output is deterministic and reads back to the same values, through <see cref="PlistReader.ParseXml"/>
/// and through other XML plist parsers; a value XML cannot carry exactly is refused, never altered.
/// </summary>
/// <remarks>
/// Refused with <see cref="HermesErrorIds.ValueNotRepresentable"/>: characters XML 1.0 cannot hold (control
/// characters other than tab, LF and CR, U+FFFE, U+FFFF, unpaired surrogates), dates with fractions of a second
/// (the XML date form has whole seconds), nesting deeper than <see cref="PlistReader.MaxDepth"/>, null values.
/// CR is written as the character reference <c>&amp;#13;</c>: a literal CR would come back as LF, since XML parsers
/// normalise line ends, while a character reference survives.
/// </remarks>
public static class PlistWriter
{
    private const string Header =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" +
        "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n" +
        "<plist version=\"1.0\">\n";

    private const int Base64LineLength = 76;

    public static string ToXml(PlistValue root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var text = new StringBuilder(Header);
        WriteValue(text, root, indent: 0, keyPath: string.Empty, depth: 1);
        text.Append("</plist>\n");
        return text.ToString();
    }

    private static void WriteValue(StringBuilder text, PlistValue? value, int indent, string keyPath, int depth)
    {
        if (value is null)
        {
            throw NotRepresentable(keyPath, "is null; a property list has no null value");
        }

        if (depth > PlistReader.MaxDepth)
        {
            throw NotRepresentable(keyPath, $"nests values more than {PlistReader.MaxDepth} levels deep");
        }

        switch (value)
        {
            case PlistString s:
                Indent(text, indent).Append("<string>");
                AppendEscaped(text, s.Value, keyPath, "string");
                text.Append("</string>\n");
                break;
            case PlistInteger i:
                Indent(text, indent).Append("<integer>").Append(i.Value.ToString(CultureInfo.InvariantCulture)).Append("</integer>\n");
                break;
            case PlistReal r:
                Indent(text, indent).Append("<real>").Append(FormatReal(r.Value)).Append("</real>\n");
                break;
            case PlistBoolean b:
                Indent(text, indent).Append(b.Value ? "<true/>\n" : "<false/>\n");
                break;
            case PlistDate d:
                Indent(text, indent).Append("<date>").Append(FormatDate(d.Value, keyPath)).Append("</date>\n");
                break;
            case PlistData data:
                WriteData(text, data, indent);
                break;
            case PlistArray a:
                WriteArray(text, a, indent, keyPath, depth);
                break;
            case PlistDict dict:
                WriteDict(text, dict, indent, keyPath, depth);
                break;
            default:
                throw NotRepresentable(keyPath, $"is a {value.GetType().Name}, which is no property-list type");
        }
    }

    private static void WriteArray(StringBuilder text, PlistArray array, int indent, string keyPath, int depth)
    {
        var items = array.Items.IsDefault ? [] : array.Items;
        if (items.IsEmpty)
        {
            Indent(text, indent).Append("<array/>\n");
            return;
        }

        Indent(text, indent).Append("<array>\n");
        for (var i = 0; i < items.Length; i++)
        {
            WriteValue(text, items[i], indent + 1, $"{keyPath}[{i.ToString(CultureInfo.InvariantCulture)}]", depth + 1);
        }

        Indent(text, indent).Append("</array>\n");
    }

    private static void WriteDict(StringBuilder text, PlistDict dict, int indent, string keyPath, int depth)
    {
        var entries = dict.Entries.IsDefault ? [] : dict.Entries;
        if (entries.IsEmpty)
        {
            Indent(text, indent).Append("<dict/>\n");
            return;
        }

        Indent(text, indent).Append("<dict>\n");
        foreach (var (key, value) in entries)
        {
            if (key is null)
            {
                throw NotRepresentable(keyPath, "has a null key");
            }

            var childPath = keyPath.Length == 0 ? Printable(key) : keyPath + "." + Printable(key);
            Indent(text, indent + 1).Append("<key>");
            AppendEscaped(text, key, childPath, "key");
            text.Append("</key>\n");
            WriteValue(text, value, indent + 1, childPath, depth + 1);
        }

        Indent(text, indent).Append("</dict>\n");
    }

    private static void WriteData(StringBuilder text, PlistData data, int indent)
    {
        var bytes = data.Value.IsDefault ? [] : data.Value;
        var base64 = Convert.ToBase64String(bytes.AsSpan());
        Indent(text, indent).Append("<data>\n");
        for (var start = 0; start < base64.Length; start += Base64LineLength)
        {
            Indent(text, indent).Append(base64, start, Math.Min(Base64LineLength, base64.Length - start)).Append('\n');
        }

        Indent(text, indent).Append("</data>\n");
    }

    /// <summary>Shortest text that parses back to the same double; NaN and the infinities as Apple writes them.</summary>
    private static string FormatReal(double value) =>
        double.IsNaN(value) ? "nan"
        : double.IsPositiveInfinity(value) ? "+infinity"
        : double.IsNegativeInfinity(value) ? "-infinity"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static string FormatDate(DateTimeOffset value, string keyPath)
    {
        if (value.UtcTicks % TimeSpan.TicksPerSecond != 0)
        {
            throw NotRepresentable(keyPath, $"is the date {value.UtcDateTime.ToString("O", CultureInfo.InvariantCulture)}, which has fractions of a second that an XML plist date cannot carry");
        }

        return value.UtcDateTime.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", CultureInfo.InvariantCulture);
    }

    private static void AppendEscaped(StringBuilder text, string value, string keyPath, string what)
    {
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            switch (c)
            {
                case '&':
                    text.Append("&amp;");
                    break;
                case '<':
                    text.Append("&lt;");
                    break;
                case '>':
                    text.Append("&gt;");
                    break;
                case '\r':
                    text.Append("&#13;");
                    break;
                case '\t' or '\n':
                    text.Append(c);
                    break;
                case < ' ':
                    throw NotRepresentable(keyPath, $"has a {what} holding the control character U+{(int)c:X4} at index {i}, which XML 1.0 cannot carry");
                case '\uFFFE' or '\uFFFF':
                    throw NotRepresentable(keyPath, $"has a {what} holding U+{(int)c:X4} at index {i}, which is not an XML 1.0 character");
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                    {
                        text.Append(c).Append(value[i + 1]);
                        i++;
                    }
                    else if (char.IsSurrogate(c))
                    {
                        throw NotRepresentable(keyPath, $"has a {what} holding the unpaired surrogate U+{(int)c:X4} at index {i}, which UTF-8 cannot encode");
                    }
                    else
                    {
                        text.Append(c);
                    }

                    break;
            }
        }
    }

    private static StringBuilder Indent(StringBuilder text, int indent) => text.Append('\t', indent);

    /// <summary>A key as it can be shown in a message: characters that would garble it as \uXXXX.</summary>
    private static string Printable(string key)
    {
        var shown = new StringBuilder(key.Length);
        for (var i = 0; i < key.Length; i++)
        {
            var c = key[i];
            if (char.IsHighSurrogate(c) && i + 1 < key.Length && char.IsLowSurrogate(key[i + 1]))
            {
                shown.Append(c).Append(key[++i]);
            }
            else if (c < ' ' || c == '\u007F' || char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF')
            {
                shown.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                shown.Append(c);
            }
        }

        return shown.ToString();
    }

    private static HermesException NotRepresentable(string keyPath, string what) =>
        new(HermesErrorIds.ValueNotRepresentable, HermesErrorCategory.InvalidArgument,
            $"The property-list value {(keyPath.Length == 0 ? "at the top level" : $"'{keyPath}'")} {what}.", keyPath);
}
