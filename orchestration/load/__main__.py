"""`python -m orchestration.load`: the entry point of the load (orchestration/load/__init__.py).

A package's `__main__`, because multiprocessing runs the main module of the parent again in every
process it starts with spawn or forkserver (as `__mp_main__`), unless that module is a
`__main__`: every step process and every extraction worker would otherwise import the launcher
and what it imports (Dagster, DuckDB; ≈ 2.5 s in an extraction worker) before its first file.
"""

import gc
import sys

from . import main

status = main()
# The interpreter's last collection would walk the whole heap only to free it (≈ 1.5 s).
gc.freeze()
sys.exit(status)
