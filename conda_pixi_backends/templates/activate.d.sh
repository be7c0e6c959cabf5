#: activate-in's activate.d script for sh, bash, zsh and dash (and xonsh's source-bash on
#: Unix): it saves PATH and PIXI_BUILD_BACKEND_OVERRIDE (and whether each was set) for this
#: activation level (CONDA_SHLVL), then sources the store's static activation script
#: @SCRIPT@ (quoted for sh) when it exists.
# shellcheck shell=sh
_cpb_l=${CONDA_SHLVL:-0}
case $_cpb_l in *[!0-9]*) _cpb_l=0 ;; esac
# Exported, so that xonsh's source-bash carries them back too.
eval "export _CPB_SAVED_${_cpb_l}_PATH_OLD=\"\${PATH-}\" _CPB_SAVED_${_cpb_l}_PATH_WAS_SET=\${PATH+1}"
eval "export _CPB_SAVED_${_cpb_l}_OVERRIDE_OLD=\"\${PIXI_BUILD_BACKEND_OVERRIDE-}\" \
_CPB_SAVED_${_cpb_l}_OVERRIDE_WAS_SET=\${PIXI_BUILD_BACKEND_OVERRIDE+1}"
#: The static script is the store's, known only when this one runs.
# shellcheck source=/dev/null
if [ -r @SCRIPT@ ]; then . @SCRIPT@; fi
eval "export _CPB_SAVED_${_cpb_l}_PATH_NEW=\"\${PATH-}\""
unset _cpb_l
