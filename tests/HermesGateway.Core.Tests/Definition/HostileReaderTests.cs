namespace HermesGateway.Core.Tests.Definition;

/// <summary>
/// Hostile spellings in units written by someone else, read the way systemd 252 reads them. Tried on real systemd
/// while the suite was written: the executable path is exec'd as written ('$$' stays doubled there, '%%' is undone),
/// '$$' is undone in the arguments; \u and \U are code points, \xNN is one byte (\x85 reaches argv as a lone byte).
/// </summary>
public sealed class HostileReaderTests
{
    [Theory]
    [InlineData("/opt/a$$b/hermes x$$y", "/opt/a$$b/hermes", "x$y")]
    [InlineData("/opt/%%h/hermes \"%%h $$HOME\"", "/opt/%h/hermes", "%h $HOME")]
    [InlineData("/usr/bin/hermes \"\\u00e9\\U0001F600\"", "/usr/bin/hermes", "é😀")]
    [InlineData("/usr/bin/hermes \"a\\x41\\tb\"", "/usr/bin/hermes", "aA\tb")]
    [InlineData("/usr/bin/hermes \\;", "/usr/bin/hermes", ";")]
    public void A_foreign_ExecStart_reads_as_systemd_runs_it(string execStart, string executable, string argument)
    {
        var d = SystemdDefinitionReader.FromUnit(SystemdUnitReader.Parse($"[Service]\nExecStart={execStart}\n", "/x/foreign.service"));

        Assert.Equal(executable, d.Executable);
        Assert.Equal(argument, Assert.Single(d.Arguments));
    }

    [Theory]
    [InlineData("/usr/bin/hermes \"\\x85\"")] // one byte 0x85: not UTF-8, so no string holds it
    [InlineData("/usr/bin/hermes \"\\x00\"")] // systemd refuses NUL
    [InlineData("/usr/bin/hermes \"\\ud800\"")] // a surrogate is no code point
    public void A_foreign_ExecStart_no_string_can_hold_is_refused_not_guessed(string execStart)
    {
        var error = Assert.Throws<HermesException>(() =>
            SystemdDefinitionReader.FromUnit(SystemdUnitReader.Parse($"[Service]\nExecStart={execStart}\n", "/x/foreign.service")));

        Assert.Equal(HermesErrorIds.DefinitionInvalid, error.ErrorId);
    }
}
