"""`python -m conda_pixi_backends`: the console script `conda-pixi-backend`."""

import _signal  # type: ignore[import-not-found]  # built in: nothing to load before Ctrl-C is handled
import gc
import os

_leaving: list[int] = []


def _interrupted(signum: int, frame: object) -> None:
    """Ctrl-C while Python loads the CLI: leave at once, as `cli.main` does until the command
    runs (which takes over from here), not with a KeyboardInterrupt traceback from an import.
    A second Ctrl-C may run this again from within: the line is said once."""
    if not _leaving:
        _leaving.append(signum)
        try:  # noqa: SIM105 - contextlib would be one more import to wait for
            os.write(2, b"conda-pixi-backend: interrupted\n")
        except OSError:
            pass
    os._exit(130)


# Only where SIGINT reaches Python code: started with it ignored (nohup, `cmd &`), it stays so.
if callable(_signal.getsignal(_signal.SIGINT)):
    _signal.signal(_signal.SIGINT, _interrupted)

# A command lives briefly and allocates most while it loads modules (ours, py-rattler's), where
# Python's collections of young objects, every 700 allocations, find next to nothing: every
# 100,000 spares a new environment about 4% of its time (benchmarks/suite.py). Cycles are
# still collected, and conda's own process (the plugin) keeps its settings.
gc.set_threshold(100_000)

from conda_pixi_backends.cli import main  # noqa: E402

if __name__ == "__main__":
    import sys

    sys.exit(main())
