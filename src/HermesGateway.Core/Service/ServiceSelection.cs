using HermesGateway.Core.Errors;

namespace HermesGateway.Core.Service;

/// <summary>
/// Whether an action that stops or restarts gateways knows which ones it is about. A call that names nothing may act on
/// the one gateway a machine has, not on several nobody named; a name that several gateways share (a user and a system
/// unit, or two accounts' user units) needs -Scope or -Owner, or the piped service itself.
/// </summary>
public static class ServiceSelection
{
    /// <summary>
    /// The error that refuses the action, or null when it is unambiguous. <paramref name="literalNames"/>: the names
    /// given without wildcards (null when none was given at all); <paramref name="narrowed"/>: -Scope, -Owner or a file
    /// was given.
    /// </summary>
    public static HermesException? Ambiguity(IReadOnlyList<HermesService> selected, IReadOnlyList<string>? literalNames, bool narrowed, string verb)
    {
        if (narrowed || selected.Count < 2)
        {
            return null;
        }

        if (literalNames is null)
        {
            return new HermesException(HermesErrorIds.ServiceAmbiguous, HermesErrorCategory.InvalidArgument,
                $"{selected.Count} gateways are installed ({string.Join(", ", selected.Select(s => s.Name).Distinct().Order(StringComparer.Ordinal))}); name the one to {verb} with -Name, narrow with -Scope or -Owner, or give -Name * to {verb} them all. Nothing was done.",
                null);
        }

        foreach (var name in literalNames)
        {
            var namesakes = selected.Where(s => s.Name == name).ToList();
            if (namesakes.Count > 1)
            {
                return new HermesException(HermesErrorIds.ServiceAmbiguous, HermesErrorCategory.InvalidArgument,
                    $"{namesakes.Count} gateways are named {name} ({string.Join(", ", namesakes.Select(Describe))}); say which to {verb} with -Scope or -Owner, or pipe that one from Get-HermesService. Nothing was done.",
                    name);
            }
        }

        return null;
    }

    private static string Describe(HermesService s) => s.Owner is { } owner ? $"{s.Scope} unit of {owner}" : $"{s.Scope} unit";
}
