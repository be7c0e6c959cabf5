#: activate-in's activate.d script for PowerShell: it saves PATH and PIXI_BUILD_BACKEND_OVERRIDE
#: (and whether each was set) for this activation level (CONDA_SHLVL), then sources the
#: store's static activation script @SCRIPT@ (quoted for PowerShell) when it exists.
$_cpb_l = if ("$env:CONDA_SHLVL" -match '^[0-9]+$') { "$env:CONDA_SHLVL" } else { '0' }
$_cpb_n = "_CPB_SAVED_${_cpb_l}_"
# Global variables, not environment ones: those cannot tell unset from empty on Windows.
Set-Variable -Scope Global -Name "${_cpb_n}PATH_OLD" -Value ([Environment]::GetEnvironmentVariable('PATH'))
Set-Variable -Scope Global -Name "${_cpb_n}OVERRIDE_OLD" `
    -Value ([Environment]::GetEnvironmentVariable('PIXI_BUILD_BACKEND_OVERRIDE'))
if (Test-Path -LiteralPath @SCRIPT@) { . @SCRIPT@ }
Set-Variable -Scope Global -Name "${_cpb_n}PATH_NEW" -Value ([Environment]::GetEnvironmentVariable('PATH'))
Remove-Variable -Name _cpb_l, _cpb_n -ErrorAction SilentlyContinue
