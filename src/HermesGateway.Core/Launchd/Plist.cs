using System.Collections.Immutable;
using System.Globalization;
using System.Xml;
using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Launchd;

/// <summary>A property-list value (launchd.plist(5) types).</summary>
public abstract record PlistValue
{
    public abstract string TypeName { get; }
}

public sealed record PlistString(string Value) : PlistValue
{
    public override string TypeName => "string";
}

public sealed record PlistInteger(long Value) : PlistValue
{
    public override string TypeName => "integer";
}

public sealed record PlistReal(double Value) : PlistValue
{
    public override string TypeName => "real";
}

public sealed record PlistBoolean(bool Value) : PlistValue
{
    public override string TypeName => "boolean";
}

public sealed record PlistDate(DateTimeOffset Value) : PlistValue
{
    public override string TypeName => "date";
}

public sealed record PlistData(ImmutableArray<byte> Value) : PlistValue
{
    public override string TypeName => "data";

    // Value equality: ImmutableArray alone compares by reference.
    public bool Equals(PlistData? other) => other is not null && Value.AsSpan().SequenceEqual(other.Value.AsSpan());

    public override int GetHashCode() => Value.Length;
}

public sealed record PlistArray(ImmutableArray<PlistValue> Items) : PlistValue
{
    public override string TypeName => "array";

    public bool Equals(PlistArray? other) => other is not null && Items.SequenceEqual(other.Items);

    public override int GetHashCode() => Items.Length;
}

/// <summary>A dictionary; keys keep their order of appearance (a repeated key: the last one wins, as CoreFoundation does).</summary>
public sealed record PlistDict(ImmutableArray<KeyValuePair<string, PlistValue>> Entries) : PlistValue
{
    public override string TypeName => "dictionary";

    public PlistValue? this[string key]
    {
        get
        {
            for (var i = Entries.Length - 1; i >= 0; i--)
            {
                if (Entries[i].Key == key)
                {
                    return Entries[i].Value;
                }
            }

            return null;
        }
    }

    public IEnumerable<string> Keys => Entries.Select(e => e.Key).Distinct();

    public bool Equals(PlistDict? other) =>
        other is not null && Entries.Length == other.Entries.Length
        && Entries.Zip(other.Entries).All(p => p.First.Key == p.Second.Key && Equals(p.First.Value, p.Second.Value));

    public override int GetHashCode() => Entries.Length;
}

/// <summary>Reads XML property lists strictly: the same documents macOS' parser accepts, the same ones it rejects.</summary>
public static class PlistReader
{
    public static bool LooksBinary(ReadOnlySpan<byte> bytes) => bytes.StartsWith("bplist"u8);

    public static PlistValue ParseXml(string text, string path)
    {
        var settings = new XmlReaderSettings
        {
            DtdProcessing = DtdProcessing.Ignore,
            XmlResolver = null,
            IgnoreComments = true,
            IgnoreProcessingInstructions = true,
            IgnoreWhitespace = false,
        };

        XmlDocument doc;
        try
        {
            // Whitespace-only strings (" ", a tab) are values: macOS and plistlib keep them.
            doc = new XmlDocument { XmlResolver = null, PreserveWhitespace = true };
            using var reader = XmlReader.Create(new StringReader(text), settings);
            doc.Load(reader);
        }
        catch (XmlException e)
        {
            // XmlException's message already ends in "Line n, position m.": said once, at the front.
            var reason = System.Text.RegularExpressions.Regex.Replace(e.Message, @"\s*Line \d+, position \d+\.$", string.Empty);
            throw Malformed(path, $"is not well-formed XML at line {e.LineNumber}, position {e.LinePosition}: {reason}", e);
        }

        var root = doc.DocumentElement;
        if (root is null || root.Name != "plist")
        {
            throw Malformed(path, $"has the root element <{root?.Name}>, not <plist>");
        }

        List<XmlElement> values;
        try
        {
            values = Elements(root).ToList();
        }
        catch (XmlException e)
        {
            // Text beside the value under <plist> is as malformed as text inside a <dict>.
            throw Malformed(path, e.Message, e);
        }

        if (values.Count != 1)
        {
            throw Malformed(path, $"has {values.Count} values under <plist>; a property list has exactly one");
        }

        return Value(values[0], path, depth: 1);
    }

    private static IEnumerable<XmlElement> Elements(XmlNode node)
    {
        foreach (XmlNode child in node.ChildNodes)
        {
            switch (child)
            {
                case XmlElement e:
                    yield return e;
                    break;
                case XmlText t when !string.IsNullOrWhiteSpace(t.Value):
                    throw new XmlException($"unexpected text '{t.Value.Trim()}' inside <{node.Name}>");
            }
        }
    }

    /// <summary>Deeper nesting than any launchd job needs is refused before it can exhaust the stack.</summary>
    public const int MaxDepth = 64;

    private static PlistValue Value(XmlElement e, string path, int depth)
    {
        if (depth > MaxDepth)
        {
            throw Malformed(path, $"nests values more than {MaxDepth} levels deep");
        }

        try
        {
            switch (e.Name)
            {
                case "string":
                    return new PlistString(e.InnerText);
                case "integer":
                    var t = e.InnerText.Trim();
                    if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
                    {
                        return new PlistInteger(n);
                    }

                    if (t.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && long.TryParse(t.AsSpan(2), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var hex))
                    {
                        return new PlistInteger(hex);
                    }

                    throw Malformed(path, $"has <integer>{t}</integer>, which is not a number");
                case "real":
                    if (double.TryParse(e.InnerText.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
                    {
                        return new PlistReal(d);
                    }

                    throw Malformed(path, $"has <real>{e.InnerText.Trim()}</real>, which is not a number");
                case "true" or "false":
                    if (e.HasChildNodes && !string.IsNullOrWhiteSpace(e.InnerText))
                    {
                        throw Malformed(path, $"has text inside <{e.Name}/>");
                    }

                    return new PlistBoolean(e.Name == "true");
                case "date":
                    if (DateTimeOffset.TryParse(e.InnerText.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date))
                    {
                        return new PlistDate(date);
                    }

                    throw Malformed(path, $"has <date>{e.InnerText.Trim()}</date>, which is not an ISO 8601 date");
                case "data":
                    try
                    {
                        return new PlistData([.. Convert.FromBase64String(string.Concat(e.InnerText.Where(c => !char.IsWhiteSpace(c))))]);
                    }
                    catch (FormatException fe)
                    {
                        throw Malformed(path, "has <data> that is not base64", fe);
                    }

                case "array":
                    return new PlistArray([.. Elements(e).Select(x => Value(x, path, depth + 1))]);
                case "dict":
                    var entries = ImmutableArray.CreateBuilder<KeyValuePair<string, PlistValue>>();
                    var children = Elements(e).ToList();
                    for (var i = 0; i < children.Count; i += 2)
                    {
                        if (children[i].Name != "key")
                        {
                            throw Malformed(path, $"has <{children[i].Name}> where a <key> belongs in a <dict>");
                        }

                        if (i + 1 >= children.Count)
                        {
                            throw Malformed(path, $"has the key '{children[i].InnerText}' with no value");
                        }

                        if (children[i + 1].Name == "key")
                        {
                            throw Malformed(path, $"has the key '{children[i].InnerText}' followed by another <key>");
                        }

                        entries.Add(new(children[i].InnerText, Value(children[i + 1], path, depth + 1)));
                    }

                    return new PlistDict(entries.ToImmutable());
                default:
                    throw Malformed(path, $"has the unknown element <{e.Name}>");
            }
        }
        catch (XmlException xe)
        {
            throw Malformed(path, xe.Message, xe);
        }
    }

    private static HermesException Malformed(string path, string what, Exception? inner = null) =>
        new(HermesErrorIds.PlistMalformed, HermesErrorCategory.InvalidData, $"'{path}' {what.TrimEnd('.', ' ')}.", path, inner);
}
