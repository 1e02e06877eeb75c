#Requires -Version 7.4
<#
.SYNOPSIS
    Generates the MAML help file (TieDxl.dll-Help.xml) from docs/en-US/<Cmdlet>.md and the built module.

.DESCRIPTION
    platyPS is not available here, so this is a small generator for a fixed markdown layout. The cmdlet
    metadata (parameter sets, types, positions, pipeline input, aliases) comes from the imported module; the
    words come from the markdown. build.ps1 runs this in a child pwsh because a binary module cannot be
    unloaded.

    Layout of docs/en-US/<Verb-Noun>.md (headings exactly as shown; "## SYNTAX" is ignored if present):

        # Verb-Noun
        ## SYNOPSIS
        One or two sentences.
        ## DESCRIPTION
        Paragraphs, separated by blank lines.
        ## PARAMETERS
        ### -Name
        Paragraphs. An optional last line "Default value: <text>" sets the default shown by Get-Help.
        ## EXAMPLES
        ### Example 1: Title
        ```powershell
        code
        ```
        Remarks paragraphs.
        ## INPUTS
        ### Type.Name
        Paragraphs (or "### None").
        ## OUTPUTS
        ### Type.Name
        Paragraphs.
        ## NOTES
        Paragraphs.
        ## RELATED LINKS
        - Other-Cmdlet
        - [Text](https://uri)

    -WhatIf and -Confirm get a standard description unless the markdown gives one. Missing pieces are
    reported as warnings; the Pester help test is what enforces completeness.
#>
param(
    [Parameter(Mandatory)] [string] $ModuleManifest,
    [Parameter(Mandatory)] [string] $DocsPath,
    [Parameter(Mandatory)] [string] $OutFile
)
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$StandardDescriptions = @{
    WhatIf  = 'Shows what would happen if the cmdlet runs. The cmdlet is not run.'
    Confirm = 'Prompts you for confirmation before running the cmdlet. In a non-interactive session a prompt is an error: pass -Confirm:$false in scripts.'
}

# --- markdown -----------------------------------------------------------------------------------------------

# Splits text into paragraphs (blank-line separated), joining wrapped lines with a space. Lines starting with
# "- " or "* " stay separate lines so that short lists survive.
function ConvertTo-Paragraphs([string[]] $Lines) {
    $paras = [System.Collections.Generic.List[string]]::new()
    $current = [System.Collections.Generic.List[string]]::new()
    foreach ($raw in $Lines) {
        $line = $raw.TrimEnd()
        if ($line.Trim() -eq '') {
            if ($current.Count) { $paras.Add(($current -join ' ')); $current.Clear() }
            continue
        }
        if ($line -match '^\s*[-*] ' -and $current.Count) { $paras.Add(($current -join ' ')); $current.Clear() }
        $current.Add($line.Trim())
    }
    if ($current.Count) { $paras.Add(($current -join ' ')) }
    return , $paras.ToArray()
}

# Returns an ordered dictionary: level-2 heading (upper-cased) -> lines; and for level-3 sub-sections the
# caller splits again.
function Split-Sections([string[]] $Lines, [string] $Marker) {
    $sections = [ordered]@{}
    $name = $null
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match "^$([regex]::Escape($Marker))\s+(.+?)\s*$") {
            $name = $Matches[1]
            $sections[$name] = [System.Collections.Generic.List[string]]::new()
            continue
        }
        if ($null -ne $name) { $sections[$name].Add($line) }
    }
    return $sections
}

function Read-CommandDoc([string[]] $Lines) {
    $lines = $Lines
    $doc = [ordered]@{
        Synopsis = @(); Description = @(); Parameters = @{}; ParameterDefaults = @{}; Examples = @()
        Inputs = @(); Outputs = @(); Notes = @(); Links = @()
    }
    $top = Split-Sections $lines '##'
    foreach ($key in @($top.Keys)) {
        $body = [string[]]$top[$key]
        switch ($key.ToUpperInvariant()) {
            'SYNOPSIS' { $doc.Synopsis = ConvertTo-Paragraphs $body }
            'DESCRIPTION' { $doc.Description = ConvertTo-Paragraphs $body }
            'NOTES' { $doc.Notes = ConvertTo-Paragraphs $body }
            'PARAMETERS' {
                $subs = Split-Sections $body '###'
                foreach ($p in $subs.Keys) {
                    $pname = $p.TrimStart('-').Trim()
                    $plines = [System.Collections.Generic.List[string]]::new()
                    foreach ($l in $subs[$p]) {
                        if ($l -match '^\s*Default value:\s*(.+?)\s*$') { $doc.ParameterDefaults[$pname] = $Matches[1] }
                        else { $plines.Add($l) }
                    }
                    $doc.Parameters[$pname] = ConvertTo-Paragraphs $plines
                }
            }
            'EXAMPLES' {
                $subs = Split-Sections $body '###'
                $list = [System.Collections.Generic.List[object]]::new()
                foreach ($title in $subs.Keys) {
                    $code = [System.Collections.Generic.List[string]]::new()
                    $remarks = [System.Collections.Generic.List[string]]::new()
                    $inFence = $false
                    foreach ($l in $subs[$title]) {
                        if ($l -match '^\s*```') { $inFence = -not $inFence; continue }
                        if ($inFence) { $code.Add($l) } else { $remarks.Add($l) }
                    }
                    $list.Add([pscustomobject]@{ Title = $title; Code = ($code -join "`n").Trim("`n"); Remarks = ConvertTo-Paragraphs $remarks })
                }
                $doc.Examples = $list.ToArray()
            }
            { $_ -in 'INPUTS', 'OUTPUTS' } {
                $subs = Split-Sections $body '###'
                $items = foreach ($t in $subs.Keys) {
                    [pscustomobject]@{ Type = $t; Description = ConvertTo-Paragraphs ([string[]]$subs[$t]) }
                }
                if ($key.ToUpperInvariant() -eq 'INPUTS') { $doc.Inputs = @($items) } else { $doc.Outputs = @($items) }
            }
            'RELATED LINKS' {
                $doc.Links = @(foreach ($l in $body) {
                        if ($l -match '^\s*[-*]\s+\[(.+?)\]\((.*?)\)') { [pscustomobject]@{ Text = $Matches[1]; Uri = $Matches[2] } }
                        elseif ($l -match '^\s*[-*]\s+(\S.*?)\s*$') { [pscustomobject]@{ Text = $Matches[1]; Uri = '' } }
                    })
            }
        }
    }
    return $doc
}

# --- metadata ------------------------------------------------------------------------------------------------

function Get-FriendlyTypeName([type] $Type, [switch] $Full) {
    if ($Type.IsArray) { return (Get-FriendlyTypeName $Type.GetElementType() -Full:$Full) + '[]' }
    if ($Type.IsGenericType) {
        $def = $Type.GetGenericTypeDefinition()
        if ($def -eq [Nullable`1]) { return Get-FriendlyTypeName $Type.GetGenericArguments()[0] -Full:$Full }
        $base = ($Full ? $def.FullName : $def.Name) -replace '`\d+$', ''
        $argNames = ($Type.GetGenericArguments() | ForEach-Object { Get-FriendlyTypeName $_ -Full:$Full }) -join ', '
        return "$base[$argNames]"
    }
    return $Full ? $Type.FullName : $Type.Name
}

function Get-PipelineText($p) {
    $kinds = @()
    if ($p.ValueFromPipelineByPropertyName) { $kinds += 'ByPropertyName' }
    if ($p.ValueFromPipeline) { $kinds += 'ByValue' }
    if ($kinds.Count) { return "True ($($kinds -join ', '))" }
    return 'False'
}

function Get-PossibleValues($p) {
    $t = $p.ParameterType
    if ($t.IsArray) { $t = $t.GetElementType() }
    $u = [Nullable]::GetUnderlyingType($t)
    if ($u) { $t = $u }
    $vs = $p.Attributes | Where-Object { $_ -is [System.Management.Automation.ValidateSetAttribute] } | Select-Object -First 1
    if ($vs) { return @($vs.ValidValues) }
    if ($t.IsEnum) { return [Enum]::GetNames($t) }
    return @()
}

# --- XML -----------------------------------------------------------------------------------------------------

$nsMaml = 'http://schemas.microsoft.com/maml/2004/10'
$nsCommand = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
$nsDev = 'http://schemas.microsoft.com/maml/dev/2004/10'

function Write-Paras([System.Xml.XmlWriter] $W, [string[]] $Paras) {
    if (-not $Paras -or $Paras.Count -eq 0) { $W.WriteElementString('para', $nsMaml, ''); return }
    foreach ($p in $Paras) { $W.WriteElementString('para', $nsMaml, $p) }
}

function Write-Parameter([System.Xml.XmlWriter] $W, $P, $Doc, [bool] $Required, [string] $Position, [switch] $InSyntax) {
    $isSwitch = $P.ParameterType -eq [System.Management.Automation.SwitchParameter]
    $W.WriteStartElement('parameter', $nsCommand)
    $W.WriteAttributeString('required', ($Required ? 'true' : 'false'))
    $W.WriteAttributeString('variableLength', 'true')
    $globbing = [bool]($P.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $W.WriteAttributeString('globbing', ($globbing ? 'true' : 'false'))
    $W.WriteAttributeString('pipelineInput', (Get-PipelineText $P))
    $W.WriteAttributeString('position', $Position)
    $W.WriteAttributeString('aliases', ($P.Aliases.Count ? ($P.Aliases -join ', ') : 'none'))
    $W.WriteElementString('name', $nsMaml, $P.Name)
    $W.WriteStartElement('description', $nsMaml)
    $text = $Doc.Parameters[$P.Name]
    if (-not $text -and $StandardDescriptions.ContainsKey($P.Name)) { $text = @($StandardDescriptions[$P.Name]) }
    Write-Paras $W $text
    $W.WriteEndElement()
    $values = @(Get-PossibleValues $P)
    if ($values.Count) {
        $W.WriteStartElement('parameterValueGroup', $nsCommand)
        foreach ($v in $values) {
            $W.WriteStartElement('parameterValue', $nsCommand)
            $W.WriteAttributeString('required', 'false')
            $W.WriteAttributeString('variableLength', $nsCommand, 'false')
            $W.WriteString([string]$v)
            $W.WriteEndElement()
        }
        $W.WriteEndElement()
    }
    if (-not ($isSwitch -and $InSyntax)) {
        $W.WriteStartElement('parameterValue', $nsCommand)
        $W.WriteAttributeString('required', ($isSwitch ? 'false' : 'true'))
        $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString((Get-FriendlyTypeName $P.ParameterType))
        $W.WriteEndElement()
    }
    $W.WriteStartElement('type', $nsDev)
    $W.WriteElementString('name', $nsMaml, (Get-FriendlyTypeName $P.ParameterType -Full))
    $W.WriteElementString('uri', $nsMaml, '')
    $W.WriteEndElement()
    $default = $Doc.ParameterDefaults[$P.Name]
    if (-not $default) { $default = $isSwitch ? 'False' : 'None' }
    $W.WriteElementString('defaultValue', $nsDev, $default)
    $W.WriteEndElement()
}

function Get-Position($p) { $p.Position -ge 0 ? [string]$p.Position : 'named' }

$module = Import-Module -Name $ModuleManifest -PassThru -Force
$commands = @(Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name)
$common = [System.Collections.Generic.HashSet[string]]::new([string[]]([System.Management.Automation.PSCmdlet]::CommonParameters), [StringComparer]::OrdinalIgnoreCase)

$settings = [System.Xml.XmlWriterSettings]::new()
$settings.Indent = $true
$settings.Encoding = [System.Text.UTF8Encoding]::new($false)
$null = New-Item -ItemType Directory -Force -Path (Split-Path -Parent $OutFile)
$w = [System.Xml.XmlWriter]::Create($OutFile, $settings)
try {
    $w.WriteStartDocument()
    $w.WriteStartElement('helpItems', 'http://msh')
    $w.WriteAttributeString('schema', 'maml')
    foreach ($cmd in $commands) {
        $docFile = Join-Path $DocsPath "$($cmd.Name).md"
        if (Test-Path -LiteralPath $docFile) { $doc = Read-CommandDoc ([string[]](Get-Content -LiteralPath $docFile)) }
        else {
            Write-Warning "No help source for $($cmd.Name): $docFile"
            $doc = Read-CommandDoc @()
        }
        $params = [ordered]@{}
        foreach ($set in $cmd.ParameterSets) {
            foreach ($p in $set.Parameters) {
                if ($common.Contains($p.Name)) { continue }
                if (-not $params.Contains($p.Name)) { $params[$p.Name] = [System.Collections.Generic.List[object]]::new() }
                $params[$p.Name].Add($p)
            }
        }
        foreach ($name in $params.Keys) {
            if (-not $doc.Parameters[$name] -and -not $StandardDescriptions.ContainsKey($name)) {
                Write-Warning "$($cmd.Name): parameter -$name is not described in $docFile"
            }
        }

        $w.WriteStartElement('command', 'command', $nsCommand)
        $w.WriteAttributeString('xmlns', 'maml', $null, $nsMaml)
        $w.WriteAttributeString('xmlns', 'dev', $null, $nsDev)

        $w.WriteStartElement('details', $nsCommand)
        $w.WriteElementString('name', $nsCommand, $cmd.Name)
        $w.WriteElementString('verb', $nsCommand, $cmd.Verb)
        $w.WriteElementString('noun', $nsCommand, $cmd.Noun)
        $w.WriteStartElement('description', $nsMaml); Write-Paras $w $doc.Synopsis; $w.WriteEndElement()
        $w.WriteEndElement()

        $w.WriteStartElement('description', $nsMaml); Write-Paras $w $doc.Description; $w.WriteEndElement()

        $w.WriteStartElement('syntax', $nsCommand)
        foreach ($set in $cmd.ParameterSets) {
            $w.WriteStartElement('syntaxItem', $nsCommand)
            $w.WriteElementString('name', $nsMaml, $cmd.Name)
            $ordered = $set.Parameters | Where-Object { -not $common.Contains($_.Name) } |
                Sort-Object @{ Expression = { $_.Position -ge 0 ? $_.Position : [int]::MaxValue } }, @{ Expression = { -not $_.IsMandatory } }
            foreach ($p in $ordered) { Write-Parameter $w $p $doc $p.IsMandatory (Get-Position $p) -InSyntax }
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        $w.WriteStartElement('parameters', $nsCommand)
        foreach ($name in ($params.Keys | Sort-Object)) {
            $variants = $params[$name]
            $required = -not ($variants | Where-Object { -not $_.IsMandatory })
            Write-Parameter $w $variants[0] $doc ([bool]$required) (Get-Position $variants[0])
        }
        $w.WriteEndElement()

        foreach ($kind in 'input', 'return') {
            $items = $kind -eq 'input' ? $doc.Inputs : $doc.Outputs
            $w.WriteStartElement(($kind -eq 'input' ? 'inputTypes' : 'returnValues'), $nsCommand)
            foreach ($item in $items) {
                $w.WriteStartElement(($kind -eq 'input' ? 'inputType' : 'returnValue'), $nsCommand)
                $w.WriteStartElement('type', $nsDev)
                $w.WriteElementString('name', $nsMaml, $item.Type)
                $w.WriteEndElement()
                $w.WriteStartElement('description', $nsMaml); Write-Paras $w $item.Description; $w.WriteEndElement()
                $w.WriteEndElement()
            }
            $w.WriteEndElement()
        }

        $w.WriteStartElement('alertSet', $nsMaml)
        $w.WriteStartElement('alert', $nsMaml); Write-Paras $w $doc.Notes; $w.WriteEndElement()
        $w.WriteEndElement()

        $w.WriteStartElement('examples', $nsCommand)
        foreach ($ex in $doc.Examples) {
            $w.WriteStartElement('example', $nsCommand)
            $w.WriteElementString('title', $nsMaml, "-------------------------- $($ex.Title) --------------------------")
            $w.WriteElementString('code', $nsDev, $ex.Code)
            $w.WriteStartElement('remarks', $nsDev); Write-Paras $w $ex.Remarks; $w.WriteEndElement()
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        $w.WriteStartElement('relatedLinks', $nsCommand)
        foreach ($l in $doc.Links) {
            $w.WriteStartElement('navigationLink', $nsMaml)
            $w.WriteElementString('linkText', $nsMaml, $l.Text)
            $w.WriteElementString('uri', $nsMaml, $l.Uri)
            $w.WriteEndElement()
        }
        $w.WriteEndElement()

        $w.WriteEndElement() # command
    }
    $w.WriteEndElement()
    $w.WriteEndDocument()
}
finally {
    $w.Dispose()
}
Write-Host "    wrote $OutFile ($($commands.Count) cmdlets)"
