#: activate-in's activate.d script for cmd.exe: it saves PATH and PIXI_BUILD_BACKEND_OVERRIDE
#: (and whether each was set) for this activation level (CONDA_SHLVL), then sources the
#: store's static activation script @SCRIPT@ (quoted for cmd) when it exists.
#: cmd.exe cannot hold an empty variable: unset and empty are one state there.
@SET "_CPB_L=%CONDA_SHLVL%"
@SET "_CPB_SAVED_%_CPB_L%_ACTIVE=1"
@SET "_CPB_SAVED_%_CPB_L%_PATH_OLD=%PATH%"
@SET "_CPB_SAVED_%_CPB_L%_OVERRIDE_OLD=%PIXI_BUILD_BACKEND_OVERRIDE%"
@IF EXIST @SCRIPT@ CALL @SCRIPT@
@SET "_CPB_SAVED_%_CPB_L%_PATH_NEW=%PATH%"
@SET "_CPB_L="
