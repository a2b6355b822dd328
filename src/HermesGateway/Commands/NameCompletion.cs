using System.Management.Automation;
using System.Management.Automation.Language;

namespace HermesGateway.Commands;

/// <summary>How the module's name completers match, quote and present names, the way PowerShell's own completers do.</summary>
internal static class NameCompletion
{
    /// <summary>
    /// The candidates whose names start with what was typed (case-sensitive, as the names are), or match it as a
    /// wildcard pattern if it holds one; one result per name, sorted. <paramref name="wildcardParameter"/>: the
    /// parameter takes wildcards, so a name with wildcard characters is escaped to match only itself.
    /// </summary>
    public static IEnumerable<CompletionResult> Complete(IEnumerable<(string Name, string ToolTip)> candidates, string? wordToComplete, bool wildcardParameter)
    {
        var (typed, quote) = Unquote(wordToComplete ?? string.Empty);
        var matches = Matcher(typed, wildcardParameter);
        return candidates
            .Where(c => matches(c.Name))
            .GroupBy(c => c.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g =>
            {
                var value = wildcardParameter ? WildcardPattern.Escape(g.Key) : g.Key;
                return new CompletionResult(Quote(value, quote), g.Key, CompletionResultType.ParameterValue, string.Join('\n', g.Select(c => c.ToolTip)));
            });
    }

    /// <summary>What was typed without its quotes (PowerShell passes a quoted word with them), and the quote used.</summary>
    internal static (string Typed, char? Quote) Unquote(string word)
    {
        if (word.Length == 0 || !(IsSingleQuote(word[0]) || IsDoubleQuote(word[0])))
        {
            return (word, null);
        }

        var quote = word[0];
        var single = IsSingleQuote(quote);
        var inner = word[1..];
        if (inner.Length > 0 && (single ? IsSingleQuote(inner[^1]) : IsDoubleQuote(inner[^1])))
        {
            inner = inner[..^1];
        }

        return (single ? inner.Replace("''", "'", StringComparison.Ordinal) : inner, quote);
    }

    private static Func<string, bool> Matcher(string typed, bool wildcardParameter)
    {
        if (WildcardPattern.ContainsWildcardCharacters(typed))
        {
            var pattern = new WildcardPattern(typed.EndsWith('*') ? typed : typed + "*", WildcardOptions.None);
            try
            {
                pattern.IsMatch(string.Empty);
                return pattern.IsMatch;
            }
            catch (WildcardPatternException)
            {
                // Not a valid pattern (say a lone '['): taken as the start of a name.
            }
        }

        var prefix = wildcardParameter ? WildcardPattern.Unescape(typed) : typed;
        return name => name.StartsWith(prefix, StringComparison.Ordinal);
    }

    /// <summary>The value as the user's quote writes it, or bare when PowerShell would read the bare word as exactly this value.</summary>
    internal static string Quote(string value, char? quote)
    {
        if (quote is { } q && IsDoubleQuote(q))
        {
            var escaped = string.Concat(value.Select(c => c is '`' or '$' || IsDoubleQuote(c) ? "`" + c : c.ToString()));
            return q + escaped + q;
        }

        return quote is null && ReadsAsBareWord(value) ? value : "'" + CodeGeneration.EscapeSingleQuotedStringContent(value) + "'";
    }

    /// <summary>Whether 'x value' parses as one command argument that is this very string (no space, comment, number, escape, operator ...).</summary>
    private static bool ReadsAsBareWord(string value)
    {
        var ast = Parser.ParseInput("x " + value, out _, out var errors);
        return errors.Length == 0
            && ast.EndBlock?.Statements is [PipelineAst { PipelineElements: [CommandAst command] }]
            && command.CommandElements is [_, StringConstantExpressionAst { StringConstantType: StringConstantType.BareWord } argument]
            && argument.Value == value;
    }

    private static bool IsSingleQuote(char c) => c is '\'' or '\u2018' or '\u2019' or '\u201A' or '\u201B';

    private static bool IsDoubleQuote(char c) => c is '"' or '\u201C' or '\u201D' or '\u201E';
}
