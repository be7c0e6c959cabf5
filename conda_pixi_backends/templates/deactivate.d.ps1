#: activate-in's deactivate.d script for PowerShell: it restores what activate.d saved at this
#: level; when conda changed PATH meanwhile, it takes out only the store's bin folder
#: @BIN@ (quoted for PowerShell).
$_cpb_l = if ("$env:CONDA_SHLVL" -match '^[0-9]+$') { "$env:CONDA_SHLVL" } else { '0' }
$_cpb_n = "_CPB_SAVED_${_cpb_l}_"
if (Test-Path -LiteralPath "Variable:global:${_cpb_n}PATH_NEW") {
    $_cpb_old = (Get-Variable -Scope Global -Name "${_cpb_n}PATH_OLD").Value
    $_cpb_new = (Get-Variable -Scope Global -Name "${_cpb_n}PATH_NEW").Value
    $_cpb_now = [Environment]::GetEnvironmentVariable('PATH')
    if ($_cpb_now -ceq $_cpb_new) {
        [Environment]::SetEnvironmentVariable('PATH', $_cpb_old)
    } elseif (($_cpb_old -cne $_cpb_new) -and $_cpb_now) {
        $_cpb_parts = [Collections.Generic.List[string]]$_cpb_now.Split([IO.Path]::PathSeparator)
        $_cpb_i = $_cpb_parts.IndexOf(@BIN@)
        if ($_cpb_i -ge 0) {
            $_cpb_parts.RemoveAt($_cpb_i)
            [Environment]::SetEnvironmentVariable('PATH', $_cpb_parts -join [IO.Path]::PathSeparator)
        }
    }
    [Environment]::SetEnvironmentVariable('PIXI_BUILD_BACKEND_OVERRIDE', `
        (Get-Variable -Scope Global -Name "${_cpb_n}OVERRIDE_OLD").Value)
    Remove-Variable -Scope Global -Name "${_cpb_n}PATH_OLD", "${_cpb_n}PATH_NEW", "${_cpb_n}OVERRIDE_OLD"
}
Remove-Variable -Name _cpb_l, _cpb_n, _cpb_old, _cpb_new, _cpb_now, _cpb_parts, _cpb_i `
    -ErrorAction SilentlyContinue
