#: The store's static activation script for PowerShell (activate.ps1).
#: Values, quoted for PowerShell: @BIN@ the store's bin folder; for each override, @NAME@ its
#: backend name and @ITEM@ its PIXI_BUILD_BACKEND_OVERRIDE entry (name=launcher).
if ($null -eq [Environment]::GetEnvironmentVariable('PIXI_BUILD_BACKEND_OVERRIDE_ALL')) {
    if (-not $env:PATH) { $env:PATH = @BIN@ }
    elseif ($env:PATH.Split([IO.Path]::PathSeparator) -notcontains @BIN@) {
        $env:PATH = @BIN@ + [IO.Path]::PathSeparator + $env:PATH
    }
    #: each
    if (-not $env:PIXI_BUILD_BACKEND_OVERRIDE) { $env:PIXI_BUILD_BACKEND_OVERRIDE = @ITEM@ }
    elseif (($env:PIXI_BUILD_BACKEND_OVERRIDE.Split(',') | ForEach-Object { $_.Split('=')[0] }) -cnotcontains @NAME@) { $env:PIXI_BUILD_BACKEND_OVERRIDE += ',' + @ITEM@ }
    #: end
}
