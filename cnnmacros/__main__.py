"""``python -m cnnmacros``: the same as the ``cnnmacros`` command."""

import sys

from cnnmacros.cli import main

sys.exit(main())
