"""``python -m ram_core`` runs the ``ram-core`` command line."""

import sys

from ram_core.cli import main

sys.exit(main())
