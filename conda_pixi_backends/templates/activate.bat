#: The store's static activation script for cmd.exe (activate.bat).
#: Values: @BIN@ the store's bin folder quoted for cmd ("..." with % doubled) and @BIN_TEXT@ the
#: same without its quotes; for each override, @NAME@ its backend name (letters, digits and
#: _.+- only) and @ITEM@ its PIXI_BUILD_BACKEND_OVERRIDE entry (name=launcher), % doubled.
#: SETLOCAL keeps the helper variables in; ENDLOCAL & SET hands PATH and the override back.
@IF DEFINED PIXI_BUILD_BACKEND_OVERRIDE_ALL GOTO :EOF
@SETLOCAL DisableDelayedExpansion
@IF DEFINED PATH FOR %%P IN ("%PATH:;=" "%") DO @IF /I "%%~P"==@BIN@ SET "_CPB_ON_PATH=1"
#: No ELSE after two IFs: Wine's cmd.exe binds it to the first, Windows' to the second.
@IF NOT DEFINED _CPB_ON_PATH IF DEFINED PATH SET "PATH=@BIN_TEXT@;%PATH%"
@IF NOT DEFINED _CPB_ON_PATH IF NOT DEFINED PATH SET "PATH=@BIN_TEXT@"
@IF DEFINED PIXI_BUILD_BACKEND_OVERRIDE FOR %%I IN ("%PIXI_BUILD_BACKEND_OVERRIDE:,=" "%") DO @FOR /F "delims==" %%N IN ("%%~I") DO @SET "_CPB_HAVE_%%N=1"
#: each
@IF NOT DEFINED _CPB_HAVE_@NAME@ IF DEFINED PIXI_BUILD_BACKEND_OVERRIDE SET "PIXI_BUILD_BACKEND_OVERRIDE=%PIXI_BUILD_BACKEND_OVERRIDE%,@ITEM@"
@IF NOT DEFINED _CPB_HAVE_@NAME@ IF NOT DEFINED PIXI_BUILD_BACKEND_OVERRIDE SET "PIXI_BUILD_BACKEND_OVERRIDE=@ITEM@"
#: end
@ENDLOCAL & SET "PATH=%PATH%" & SET "PIXI_BUILD_BACKEND_OVERRIDE=%PIXI_BUILD_BACKEND_OVERRIDE%"
