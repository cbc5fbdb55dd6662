"""Resources, executor and loggers of the code location, from the settings (orchestration/settings.py).

The executor is chosen by one setting, `LOAD_EXECUTOR`:
- `multiprocess` (default): every step in a process of its own on this machine, up to
  `EXTRACT_WORKERS` at once (default: one per core); step processes start from a forkserver with
  the definitions preloaded.
- `dask`: every step on a Dask cluster (dagster-dask) — the scheduler at `DASK_SCHEDULER_ADDRESS`,
  or, when that is unset, a LocalCluster of `EXTRACT_WORKERS` workers started for the run. The
  steps that touch the warehouse ask for the Dask resource `warehouse` (`WAREHOUSE_RESOURCE`), so
  they run only on a worker started with `--resources warehouse=1` on the warehouse's machine.
- `in_process`: every step in the launching process, one at a time (debugging).
The two executors of one machine are Dagster's `multi_or_in_process_executor`, so a launcher
picks one per run (`Settings.launch_config`): a multiprocess load with few files to read
(`LOAD_IN_PROCESS_FILES`) runs in process, sparing the step processes' start.

Whichever it is, the process that runs a run holds the warehouse's load lock for the whole run
(orchestration/lock.py), so two loads of one warehouse never overlap.
"""

import importlib.metadata
import sys
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from ..dbt_project import DBT_FLAGS, dbt_project
from ..lock import locked_executor
from ..progress import progress_logger
from ..settings import DBT_PROJECT_DIR, Settings, dbt_executable

DASK_ADDRESS_ENV = "DASK_SCHEDULER_ADDRESS"
# Modules every step process of the multiprocess executor starts with (forkserver preload).
STEP_PRELOAD = ["orchestration.step_preload"]


def start_step_forkserver(settings: Settings) -> None:
    """Start the forkserver the multiprocess executor forks its step processes from now, with the
    list of modules it would give it (its own module first, then STEP_PRELOAD), so that the server
    loads the definitions (~3.5 s) while the launcher does its own share (loading them too, creating
    the run), not after. Nothing for another executor. Had the executor another list, the server
    started here would still serve it: a step imports what it lacks."""
    if settings.executor != "multiprocess":
        return
    from multiprocessing import forkserver

    forkserver.set_forkserver_preload(["dagster._core.executor.multiprocess", *STEP_PRELOAD])
    forkserver.ensure_running()


def dask_address_problem(environ=None) -> str | None:
    """Why DASK_SCHEDULER_ADDRESS, when set, is not a scheduler address (`tcp://HOST:PORT`, the
    scheme optional), read as dask.distributed reads it; None when unset or usable."""
    import os

    address = (os.environ if environ is None else environ).get(DASK_ADDRESS_ENV, "")
    if not address:
        return None
    from distributed.comm import get_address_host_port

    try:
        get_address_host_port(address)
    except ValueError as exc:
        return f"{DASK_ADDRESS_ENV}={address}: not a scheduler address such as tcp://HOST:8786 ({exc})"
    return None


def executor_for(settings: Settings, environ=None) -> dg.ExecutorDefinition:
    """The Dagster executor `settings.executor` names, configured for this machine or cluster,
    holding the warehouse's load lock while it runs a run (orchestration.lock)."""
    return locked_executor(_executor_for(settings, environ))


def _executor_for(settings: Settings, environ=None) -> dg.ExecutorDefinition:
    import os

    environ = os.environ if environ is None else environ
    if settings.executor == "in_process":
        return dg.in_process_executor
    if settings.executor == "dask":
        import dask
        from dagster_dask import dask_executor

        # Extraction steps start worker processes of their own, which a daemonic Dask worker may
        # not (workers elsewhere: DASK_DISTRIBUTED__WORKER__DAEMON=False, see the README).
        dask.config.set({"distributed.worker.daemon": False})
        if environ.get(DASK_ADDRESS_ENV):
            cluster = {"existing": {"address": {"env": DASK_ADDRESS_ENV}}}
        else:
            cluster = {"local": {"n_workers": settings.workers, "resources": {"warehouse": 1}}}
        return dask_executor.configured({"cluster": cluster}, name="dask")
    multiprocess = {
        "max_concurrent": settings.workers,
        "start_method": {"forkserver": {"preload_modules": STEP_PRELOAD}},
    }
    return dg.multi_or_in_process_executor.configured(
        lambda config: {"in_process": {}} if config["in_process"] else {"multiprocess": multiprocess},
        name=settings.executor,
        config_schema={
            "in_process": dg.Field(
                bool,
                default_value=settings.executor == "in_process",
                description="every step in the launching process, one after the other",
            )
        },
    )


class WarehouseDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without the dbt adapter it builds in the calling process
    before each command (reading every macro of the project: ~1.5 s a build). The adapter only
    serves dagster-dbt's row-count and column fetches; `dbt_models` reads those from the build
    file itself, and no handle of this process is left on the file the publish replaces."""

    def _initialize_dbt_core_adapter(self, args):  # type: ignore[override]
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        """The version of the dbt beside this interpreter, read from the installed package:
        dagster-dbt asks `dbt --version` in a process of its own for it (3–4 s, dbt's start-up,
        once per dbt step). Any other dbt executable is still asked."""
        if Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return version.parse(importlib.metadata.version("dbt-core"))
        return super()._cli_version


def dbt_resource() -> DbtCliResource:
    return WarehouseDbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(DBT_PROJECT_DIR),
        dbt_executable=dbt_executable(),
        global_config_flags=DBT_FLAGS,
    )


@dg.definitions
def resources() -> dg.Definitions:
    settings = Settings.from_env()
    return dg.Definitions(
        resources={"settings": settings, "dbt": dbt_resource()},
        executor=executor_for(settings),
        loggers={"progress": progress_logger},
    )
