import sys

from conda_pixi_backends.cli import main

sys.exit(main())
