"""``python -m deeplimits``: the same as the ``deeplimits`` command (see :mod:`deeplimits.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
