#: The store's static activation script for xonsh (activate.xsh).
#: Values, as Python string literals: @BIN@ the store's bin folder; for each override, @NAME@
#: its backend name and @ITEM@ its PIXI_BUILD_BACKEND_OVERRIDE entry (name=launcher).
if 'PIXI_BUILD_BACKEND_OVERRIDE_ALL' not in ${...}:
    if @BIN@ not in $PATH:
        $PATH.insert(0, @BIN@)
    #: each
    if @NAME@ not in [_i.split('=')[0] for _i in ${...}.get('PIXI_BUILD_BACKEND_OVERRIDE', '').split(',')]:
        $PIXI_BUILD_BACKEND_OVERRIDE = ','.join(filter(None, [${...}.get('PIXI_BUILD_BACKEND_OVERRIDE', ''), @ITEM@]))
    #: end
