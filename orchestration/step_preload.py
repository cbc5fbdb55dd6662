"""Imported once by the forkserver of the multiprocess executor (`preload_modules`), so every step
process forks with the definitions already built (dbt's manifest read, every asset defined)
instead of building them again, which costs seconds per step. The heap built here is frozen
(gc.freeze, as the gc module's documentation advises before forking): no step's collector walks
it (nor dirties its pages doing so)."""

import gc

from .definitions import definitions

definitions()
gc.freeze()
