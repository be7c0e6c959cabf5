#: activate-in's deactivate.d script for sh, bash, zsh and dash (and xonsh's source-bash on
#: Unix): it restores what activate.d saved at this level; when conda changed PATH meanwhile,
#: it takes out only the store's bin folder @BIN@ (quoted for sh).
# shellcheck shell=sh
_cpb_l=${CONDA_SHLVL:-0}
case $_cpb_l in *[!0-9]*) _cpb_l=0 ;; esac
eval "_cpb_on=\${_CPB_SAVED_${_cpb_l}_PATH_NEW+1}"
if [ -n "$_cpb_on" ]; then
    eval "_cpb_old=\${_CPB_SAVED_${_cpb_l}_PATH_OLD-} _cpb_set=\${_CPB_SAVED_${_cpb_l}_PATH_WAS_SET-} \
_cpb_new=\${_CPB_SAVED_${_cpb_l}_PATH_NEW-}"
    #: The eval above assigns _cpb_old, _cpb_set and _cpb_new, unseen by shellcheck.
    # shellcheck disable=SC2154
    if [ "${PATH-}" = "$_cpb_new" ]; then
        # Nothing changed PATH since activation: put it back exactly as it was.
        if [ -n "$_cpb_set" ]; then PATH=$_cpb_old; export PATH; else unset PATH; fi
    elif [ "$_cpb_old" != "$_cpb_new" ]; then
        # conda has already taken its own entries out: take out the one we added.
        _cpb_bin=@BIN@
        case ":${PATH-}:" in
            *:"$_cpb_bin":*)
                _cpb_p=":$PATH:"
                _cpb_p=${_cpb_p%%:"$_cpb_bin":*}:${_cpb_p#*:"$_cpb_bin":}
                _cpb_p=${_cpb_p#:}
                PATH=${_cpb_p%:}
                export PATH
                ;;
        esac
    fi
    eval "_cpb_old=\${_CPB_SAVED_${_cpb_l}_OVERRIDE_OLD-} \
_cpb_set=\${_CPB_SAVED_${_cpb_l}_OVERRIDE_WAS_SET-}"
    if [ -n "$_cpb_set" ]; then
        PIXI_BUILD_BACKEND_OVERRIDE=$_cpb_old
        export PIXI_BUILD_BACKEND_OVERRIDE
    else
        unset PIXI_BUILD_BACKEND_OVERRIDE
    fi
    eval "unset _CPB_SAVED_${_cpb_l}_PATH_OLD _CPB_SAVED_${_cpb_l}_PATH_WAS_SET \
_CPB_SAVED_${_cpb_l}_PATH_NEW _CPB_SAVED_${_cpb_l}_OVERRIDE_OLD _CPB_SAVED_${_cpb_l}_OVERRIDE_WAS_SET"
fi
unset _cpb_l _cpb_on _cpb_old _cpb_set _cpb_new _cpb_bin _cpb_p
