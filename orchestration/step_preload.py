"""Imported once by the forkserver of the multiprocess executor (`preload_modules`), so every step
process forks with the definitions already built (dbt's manifest read, every asset defined)
instead of building them again, which costs seconds per step."""

from .definitions import definitions

definitions()
