#: activate-in's deactivate.d script for fish: it restores what activate.d saved at this
#: level; when conda changed PATH meanwhile, it takes out only the store's bin folder
#: @BIN@ (quoted for fish).
set -l _cpb_l 0
string match -qr '^[0-9]+$' -- "$CONDA_SHLVL"; and set _cpb_l $CONDA_SHLVL
set -l _cpb_n _cpb_saved_{$_cpb_l}_
if set -q {$_cpb_n}path_new
    set -l _cpb_v {$_cpb_n}path_old
    set -l _cpb_old $$_cpb_v
    set -l _cpb_v {$_cpb_n}path_new
    set -l _cpb_new $$_cpb_v
    set -l _cpb_a (string join \x1e -- $PATH)
    set -l _cpb_b (string join \x1e -- $_cpb_new)
    set -l _cpb_c (string join \x1e -- $_cpb_old)
    if test (count $PATH) -eq (count $_cpb_new); and test "$_cpb_a" = "$_cpb_b"
        # Nothing changed PATH since activation: put it back exactly as it was.
        if set -q {$_cpb_n}path_was_set
            set -gx PATH $_cpb_old
        else
            set -e PATH
        end
    else if test (count $_cpb_old) -ne (count $_cpb_new); or test "$_cpb_c" != "$_cpb_b"
        # conda has already taken its own entries out: take out the one we added.
        if set -l _cpb_i (contains -i -- @BIN@ $PATH)
            set -e PATH[$_cpb_i]
        end
    end
    set -l _cpb_v {$_cpb_n}override_old
    if set -q {$_cpb_n}override_was_set
        set -gx PIXI_BUILD_BACKEND_OVERRIDE $$_cpb_v
    else
        set -e PIXI_BUILD_BACKEND_OVERRIDE
    end
    for _cpb_v in path_old path_was_set path_new override_old override_was_set
        set -e {$_cpb_n}$_cpb_v
    end
end
true
