#: activate-in's deactivate.d script for cmd.exe: it restores what activate.d saved at this
#: level; when conda changed PATH meanwhile, it takes out only the store's bin folder
#: @BIN@ (with % doubled, without quotes: inside %PATH:...=...% they would be literal).
@SET "_CPB_L=%CONDA_SHLVL%"
@CALL SET "_CPB_ON=%%_CPB_SAVED_%_CPB_L%_ACTIVE%%"
@IF NOT DEFINED _CPB_ON GOTO :_cpb_done
@CALL SET "_CPB_OLD=%%_CPB_SAVED_%_CPB_L%_PATH_OLD%%"
@CALL SET "_CPB_NEW=%%_CPB_SAVED_%_CPB_L%_PATH_NEW%%"
@IF "%PATH%"=="%_CPB_NEW%" GOTO :_cpb_restore
@IF "%_CPB_OLD%"=="%_CPB_NEW%" GOTO :_cpb_override
@SET "PATH=;%PATH%;"
@SET "PATH=%PATH:;@BIN@;=;%"
@SET "PATH=%PATH:~1,-1%"
@GOTO :_cpb_override
:_cpb_restore
@SET "PATH=%_CPB_OLD%"
:_cpb_override
@CALL SET "PIXI_BUILD_BACKEND_OVERRIDE=%%_CPB_SAVED_%_CPB_L%_OVERRIDE_OLD%%"
@SET "_CPB_SAVED_%_CPB_L%_ACTIVE="
@SET "_CPB_SAVED_%_CPB_L%_PATH_OLD="
@SET "_CPB_SAVED_%_CPB_L%_PATH_NEW="
@SET "_CPB_SAVED_%_CPB_L%_OVERRIDE_OLD="
:_cpb_done
@SET "_CPB_L="
@SET "_CPB_ON="
@SET "_CPB_OLD="
@SET "_CPB_NEW="
