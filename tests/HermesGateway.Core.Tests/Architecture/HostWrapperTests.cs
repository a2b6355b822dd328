using System.Reflection;

namespace HermesGateway.Core.Tests.Architecture;

/// <summary>
/// The engine wraps its caller's host (to note consent, to hold a lock on confirmation, ...). IEngineHost has members with
/// default bodies; a wrapper that does not forward one silently answers the default instead of the caller: that is how
/// -WhatIf over a hand-edited unit threw again once Install ran through a wrapper (issue 13, item 8).
/// </summary>
public sealed class HostWrapperTests
{
    [Fact]
    public void Every_host_wrapper_in_the_engine_implements_every_member_of_IEngineHost_itself()
    {
        var wrappers = typeof(IEngineHost).Assembly.GetTypes()
            .Where(t => typeof(IEngineHost).IsAssignableFrom(t) && !t.IsInterface
                && t.GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic).Any(c => c.GetParameters().Any(p => p.ParameterType == typeof(IEngineHost))))
            .ToList();

        Assert.NotEmpty(wrappers);
        foreach (var wrapper in wrappers)
        {
            var map = wrapper.GetInterfaceMap(typeof(IEngineHost));
            var inherited = map.TargetMethods.Where(m => m.DeclaringType != wrapper).Select(m => m.Name);
            Assert.True(!inherited.Any(), $"{wrapper.Name} answers {string.Join(", ", inherited)} with IEngineHost's default instead of its inner host's");
        }
    }
}
