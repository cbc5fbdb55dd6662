"""One load at a time per warehouse: a file lock held by the process that runs the load.

Two loads of one warehouse would share its build file (each deleting the other's while its dbt
runs). Dagster's run queue (orchestration/dagster.yaml) keeps the sensor and the schedule to one
run at a time, but a `make run` started by hand or by cron does not pass through that queue; so
every run also takes this lock, in the process that orchestrates it (the run's executor,
`locked_executor`), for the whole run: a second load waits up to `LOAD_WAIT_S`, then is refused
with a message naming the load that holds it (pid, host, run, start time, from a holder file
written beside the lock). The lock is the `filelock` library's (an flock the kernel drops when
the holder dies, so a killed load never leaves the warehouse locked).

No Dagster import at module level: the extraction workers never import this module, but the
launchers import it before Dagster has loaded.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from .settings import Settings


class LoadLocked(RuntimeError):
    """Another load holds the warehouse's lock (the message names it)."""


def lock_path(settings: Settings) -> Path:
    return settings.warehouse.with_name(settings.warehouse.name + ".load.lock")


def _holder_path(settings: Settings) -> Path:
    return settings.warehouse.with_name(settings.warehouse.name + ".load.holder")


def holder(settings: Settings) -> str:
    """Who holds the lock, as the holder file says ("unknown holder" when it cannot be read)."""
    try:
        data = json.loads(_holder_path(settings).read_text(encoding="utf-8"))
        return (
            f"run {data['run_id']}, pid {data['pid']} on {data['host']}, started {data['started']}: "
            f"{data['command']}"
        )
    except (OSError, ValueError, KeyError, TypeError):
        return "unknown holder"


@contextmanager
def warehouse_lock(
    settings: Settings, run_id: str, wait_s: float | None = None, log: Callable[[str], None] | None = None
) -> Iterator[None]:
    """Hold the warehouse's load lock for the block. Waits up to `wait_s` (default
    `settings.load_wait_s`) seconds for another load, logging that it waits; raises LoadLocked
    naming the holder when it is still held then."""
    wait_s = settings.load_wait_s if wait_s is None else wait_s
    path = lock_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path), is_singleton=False)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        if log:
            log(
                f"another load of {settings.warehouse} is running ({holder(settings)}); "
                f"waiting up to {wait_s:g} s"
            )
        started = time.monotonic()
        try:
            lock.acquire(timeout=wait_s, poll_interval=0.2)
        except Timeout:
            raise LoadLocked(
                f"another load of {settings.warehouse} is running ({holder(settings)}); waited "
                f"{time.monotonic() - started:.0f} s (LOAD_WAIT_S={wait_s:g}). Not loading: run again when "
                f"it has finished (lock file {path})"
            ) from None
    try:
        _holder_path(settings).write_text(
            json.dumps(
                {
                    "run_id": run_id,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "started": datetime.now(UTC).isoformat(timespec="seconds"),
                    "command": " ".join(sys.argv)[:200],
                }
            ),
            encoding="utf-8",
        )
        yield
    finally:
        _holder_path(settings).unlink(missing_ok=True)
        lock.release()


def locked_executor(inner):
    """`inner` (a Dagster ExecutorDefinition) whose executor holds the warehouse lock of the run's
    settings while it runs the run's steps."""
    import dagster as dg
    from dagster._core.executor.base import Executor

    def locked(executor: Executor) -> Executor:
        # The executor itself, as an instance of a subclass of its own class: executors check the
        # type of the run's executor (DaskExecutor asserts it is one), so a wrapper would not do.
        base = type(executor)

        def execute(self, plan_context, execution_plan):
            config = plan_context.run_config.get("resources", {}).get("settings", {}).get("config", {})
            # A run launched without the settings in its config uses the code location's.
            settings = Settings(**config) if config else Settings.from_env()
            with warehouse_lock(settings, plan_context.run_id, log=plan_context.log.info):
                yield from base.execute(self, plan_context, execution_plan)

        executor.__class__ = type(f"Locked{base.__name__}", (base,), {"execute": execute})
        return executor

    creation = inner.executor_creation_fn
    return dg.ExecutorDefinition(
        name=inner.name,
        config_schema=inner.config_schema,
        requirements=inner.get_requirements,
        executor_creation_fn=lambda init_context: locked(creation(init_context)),
        description=inner.description,
    )
