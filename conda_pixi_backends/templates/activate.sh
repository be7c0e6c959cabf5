#: The store's static activation script for bash, zsh and POSIX sh (activate.bash, .zsh, .sh).
#: Values, quoted for sh: @BIN@ the store's bin folder; for each override, @NAME@ its backend
#: name and @ITEM@ its PIXI_BUILD_BACKEND_OVERRIDE entry (name=launcher).
# shellcheck shell=sh
if [ -z "${PIXI_BUILD_BACKEND_OVERRIDE_ALL+set}" ]; then
    case ":${PATH-}:" in
        *:@BIN@:*) ;;
        *) PATH=@BIN@"${PATH:+:$PATH}"; export PATH ;;
    esac
    #: each
    case ",${PIXI_BUILD_BACKEND_OVERRIDE-}," in
        *,@NAME@,* | *,@NAME@=*) ;;
        *) PIXI_BUILD_BACKEND_OVERRIDE="${PIXI_BUILD_BACKEND_OVERRIDE:+$PIXI_BUILD_BACKEND_OVERRIDE,}"@ITEM@ ;;
    esac
    #: end
    #: if any
    export PIXI_BUILD_BACKEND_OVERRIDE
    #: end
fi
