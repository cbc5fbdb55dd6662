"""`python -m extract`: the command line of `extract.cli`."""

import sys

from .cli import main

sys.exit(main())
