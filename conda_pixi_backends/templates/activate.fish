#: The store's static activation script for fish (activate.fish).
#: Values, quoted for fish: @BIN@ the store's bin folder; for each override, @BARE@ and @NAMED@
#: the patterns of a user's own entry for its name (bare, or name=...), and @ITEM@ its
#: PIXI_BUILD_BACKEND_OVERRIDE entry (name=launcher).
if not set -q PIXI_BUILD_BACKEND_OVERRIDE_ALL
    if not contains -- @BIN@ $PATH
        set -gx PATH @BIN@ $PATH
    end
    #: each
    if not string match -q -- @BARE@ ",$PIXI_BUILD_BACKEND_OVERRIDE,"
        and not string match -q -- @NAMED@ ",$PIXI_BUILD_BACKEND_OVERRIDE,"
        if test -n "$PIXI_BUILD_BACKEND_OVERRIDE"
            set -gx PIXI_BUILD_BACKEND_OVERRIDE "$PIXI_BUILD_BACKEND_OVERRIDE,"@ITEM@
        else
            set -gx PIXI_BUILD_BACKEND_OVERRIDE @ITEM@
        end
    end
    #: end
end
#: fish's `set` keeps the status of the `test` before it, and `source` returns that status.
true
