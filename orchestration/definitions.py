"""The Dagster code location: every definition under `orchestration/defs/`, loaded by
`dg.load_from_defs_folder` (the project is declared in pyproject.toml, `[tool.dg]`)."""

from __future__ import annotations

import warnings
from functools import cache
from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """Everything under defs/, each asset with a code reference to the Python that builds it
    (dbt models also to their SQL file, through the translator)."""
    loaded = dg.load_from_defs_folder(path_within_project=Path(__file__).parent)
    with warnings.catch_warnings():  # code references are a beta API: said once here, not per step
        warnings.simplefilter("ignore", dg.BetaWarning)
        assets = dg.with_source_code_references(list(loaded.assets or []))
    return dg.Definitions(
        assets=assets,
        asset_checks=loaded.asset_checks,
        schedules=loaded.schedules,
        sensors=loaded.sensors,
        jobs=loaded.jobs,
        resources=loaded.resources,
        executor=loaded.executor,
        loggers=loaded.loggers,
        metadata=loaded.metadata,
    )


@cache
def definitions() -> dg.Definitions:
    """The code location's definitions, loaded once per process."""
    return defs()


def load_warehouse_job() -> dg.JobDefinition:
    """The load job, by a module-level function so that `dg.reconstructable` can rebuild it in the
    step processes of the multiprocess and Dask executors."""
    from .defs.jobs import LOAD_JOB

    return definitions().resolve_job_def(LOAD_JOB)
