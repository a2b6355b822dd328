# The examples the module documents, as code: every "PS>" example of README.md (with its ">>" continuation lines and
# the output shown under it) and of about_HermesGateway, and every <dev:code> example of the cmdlet help. Shared by
# Examples.Tests.ps1 (which parses and runs each one) and ExampleRunner.ps1 (which runs them inside a sandbox).

function Get-HermesDocExample {
    param([Parameter(Mandatory)][string] $Root)

    $examples = [Collections.Generic.List[object]]::new()

    # README.md: in ``` blocks, a "PS> " line starts an example; ">> " lines continue it; what follows up to the next
    # prompt, "$ " shell line or the block's end is the output shown.
    $lines = Get-Content -LiteralPath (Join-Path $Root 'README.md')
    $inBlock = $false; $current = $null
    for ($i = 0; $i -lt $lines.Count; $i++) {
        $line = $lines[$i]
        if ($line -match '^```') {
            if ($current) { $examples.Add($current); $current = $null }
            $inBlock = -not $inBlock
            continue
        }

        if (-not $inBlock) { continue }
        if ($line -match '^PS> (.*)$') {
            if ($current) { $examples.Add($current) }
            $current = [pscustomobject]@{ Source = "README.md:$($i + 1)"; Kind = 'Readme'; Code = $Matches[1]; Output = [Collections.Generic.List[string]]::new() }
        }
        elseif ($current -and $line -match '^>> ?(.*)$' -and $current.Output.Count -eq 0) {
            $current.Code += "`n" + $Matches[1]
        }
        elseif ($current -and $line -match '^\$ ') {
            $examples.Add($current); $current = $null
        }
        elseif ($current) {
            $current.Output.Add($line)
        }
    }

    # The cmdlet help: each example's code, named after its cmdlet and number.
    [xml] $help = Get-Content -Raw -LiteralPath (Join-Path $Root 'en-US/HermesGateway.dll-Help.xml')
    $ns = [Xml.XmlNamespaceManager]::new($help.NameTable)
    $ns.AddNamespace('command', 'http://schemas.microsoft.com/maml/dev/command/2004/10')
    $ns.AddNamespace('maml', 'http://schemas.microsoft.com/maml/2004/10')
    $ns.AddNamespace('dev', 'http://schemas.microsoft.com/maml/dev/2004/10')
    foreach ($command in $help.SelectNodes('//command:command', $ns)) {
        $name = $command.SelectSingleNode('command:details/command:name', $ns).InnerText.Trim()
        $n = 0
        foreach ($code in $command.SelectNodes('command:examples/command:example/dev:code', $ns)) {
            $n++
            $examples.Add([pscustomobject]@{ Source = "help $name #$n"; Kind = 'Help'; Code = $code.InnerText; Output = @() })
        }
    }

    # about_HermesGateway: indented "PS>" lines, continued by indented lines while the previous one ends in '|'.
    $about = Get-Content -LiteralPath (Join-Path $Root 'en-US/about_HermesGateway.help.txt')
    for ($i = 0; $i -lt $about.Count; $i++) {
        if ($about[$i] -match '^\s*PS> (.*)$') {
            $code = $Matches[1]; $source = "about_HermesGateway:$($i + 1)"
            while ($code.TrimEnd().EndsWith('|') -and $i + 1 -lt $about.Count) { $i++; $code += "`n" + ($about[$i].Trim() -replace '^>>\s*') }
            $examples.Add([pscustomobject]@{ Source = $source; Kind = 'About'; Code = $code; Output = @() })
        }
    }

    $examples
}
