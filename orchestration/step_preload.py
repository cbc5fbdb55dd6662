"""Imported once by the forkserver of the multiprocess executor (`preload_modules`), so every step
process forks with the definitions already built (dbt's manifest read, every asset defined)
instead of building them again, which costs seconds per step. The heap built here is frozen
(gc.freeze, as the gc module's documentation advises before forking): no step's collector walks
it (nor dirties its pages doing so).

Also imported here, because every step process would import them first thing (≈ 0.5–1 s each, on
the load's critical path): Dagster's instance storage (each step opens the instance) and
pyarrow's dataset reader with pandas (the steps read and write the file manifests and the
extraction store's Parquet, and pyarrow imports both on first use: `pq.read_table`,
`pa.Table.from_pylist`)."""

import gc

import pyarrow.dataset  # noqa: F401 - preloaded, see above

from . import instance_storage  # noqa: F401 - preloaded, see above
from .definitions import definitions

definitions()
gc.freeze()
