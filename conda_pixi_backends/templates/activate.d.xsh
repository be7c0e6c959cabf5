#: activate-in's activate.d script for xonsh: it saves PATH and PIXI_BUILD_BACKEND_OVERRIDE
#: (and whether each was set) for this activation level (CONDA_SHLVL), then sources the
#: store's static activation script @SCRIPT@ (a Python string literal) when it exists.
_cpb_l = str(${...}.get('CONDA_SHLVL', '0'))
_cpb_n = '_CPB_SAVED_' + (_cpb_l if _cpb_l.isascii() and _cpb_l.isdigit() else '0') + '_'
for _cpb_v in ('PATH', 'PIXI_BUILD_BACKEND_OVERRIDE'):
    _cpb_s = _cpb_n + ('OVERRIDE' if _cpb_v != 'PATH' else 'PATH')
    ${...}[_cpb_s + '_OLD'] = ${...}.detype().get(_cpb_v, '')
    ${...}[_cpb_s + '_WAS_SET'] = '1' if _cpb_v in ${...} else ''
if __import__('os').path.isfile(@SCRIPT@):
    source @(@SCRIPT@)
${...}[_cpb_n + 'PATH_NEW'] = ${...}.detype().get('PATH', '')
del _cpb_l, _cpb_n, _cpb_v, _cpb_s
