"""The Dagster code location: every definition under `orchestration/defs/`, loaded by
`dg.load_from_defs_folder` (the project is declared in pyproject.toml, `[tool.dg]`)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(__file__).parent)


@cache
def definitions() -> dg.Definitions:
    """The code location's definitions, loaded once per process."""
    return defs()


def load_warehouse_job() -> dg.JobDefinition:
    """The load job, by a module-level function so that `dg.reconstructable` can rebuild it in the
    step processes of the multiprocess and Dask executors."""
    from .defs.jobs import LOAD_JOB

    return definitions().resolve_job_def(LOAD_JOB)
