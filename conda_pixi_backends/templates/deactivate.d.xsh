#: activate-in's deactivate.d script for xonsh: it restores what activate.d saved at this
#: level; when conda changed PATH meanwhile, it takes out only the store's bin folder
#: @BIN@ (a Python string literal).
_cpb_l = str(${...}.get('CONDA_SHLVL', '0'))
_cpb_n = '_CPB_SAVED_' + (_cpb_l if _cpb_l.isascii() and _cpb_l.isdigit() else '0') + '_'
if _cpb_n + 'PATH_NEW' in ${...}:
    _cpb_old = ${...}[_cpb_n + 'PATH_OLD']
    _cpb_new = ${...}[_cpb_n + 'PATH_NEW']
    if ${...}.detype().get('PATH', '') == _cpb_new:
        # Nothing changed PATH since activation: put it back exactly as it was.
        if ${...}[_cpb_n + 'PATH_WAS_SET']:
            ${...}['PATH'] = _cpb_old
        else:
            ${...}.pop('PATH', None)
    elif _cpb_old != _cpb_new and 'PATH' in ${...} and @BIN@ in $PATH:
        $PATH.remove(@BIN@)
    if ${...}[_cpb_n + 'OVERRIDE_WAS_SET']:
        ${...}['PIXI_BUILD_BACKEND_OVERRIDE'] = ${...}[_cpb_n + 'OVERRIDE_OLD']
    else:
        ${...}.pop('PIXI_BUILD_BACKEND_OVERRIDE', None)
    for _cpb_v in ('PATH_OLD', 'PATH_WAS_SET', 'PATH_NEW', 'OVERRIDE_OLD', 'OVERRIDE_WAS_SET'):
        ${...}.pop(_cpb_n + _cpb_v, None)
    del _cpb_old, _cpb_new, _cpb_v
del _cpb_l, _cpb_n
