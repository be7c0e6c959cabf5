#: activate-in's activate.d script for fish: it saves PATH and PIXI_BUILD_BACKEND_OVERRIDE
#: (and whether each was set) for this activation level (CONDA_SHLVL), then sources the
#: store's static activation script @SCRIPT@ (quoted for fish) when it exists.
set -l _cpb_l 0
string match -qr '^[0-9]+$' -- "$CONDA_SHLVL"; and set _cpb_l $CONDA_SHLVL
set -l _cpb_n _cpb_saved_{$_cpb_l}_
set -g {$_cpb_n}path_old $PATH
set -e {$_cpb_n}path_was_set
set -q PATH; and set -g {$_cpb_n}path_was_set 1
set -g {$_cpb_n}override_old $PIXI_BUILD_BACKEND_OVERRIDE
set -e {$_cpb_n}override_was_set
set -q PIXI_BUILD_BACKEND_OVERRIDE; and set -g {$_cpb_n}override_was_set 1
if test -r @SCRIPT@
    source @SCRIPT@
end
set -g {$_cpb_n}path_new $PATH
true
