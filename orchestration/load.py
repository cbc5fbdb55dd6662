"""`python -m orchestration.load`: the full load, with progress and a summary.

Runs the `load_warehouse` job (files → extraction → landing tables → dbt → publish) on the
executor the settings name (`LOAD_EXECUTOR`, default: step processes on this machine's cores),
the way the schedule and the sensor do, prints one line per file read and the dbt progress, then
a summary read back from the published warehouse: files, forms, indicators, errors, failed checks
and mart row counts — or, when nothing changed since the published load, says so. The settings
travel in the run's config, so every step (on any machine) sees the values read here.

When nothing changed since the published load (same files, same code, every result in the
store) no run is started at all, and the summary says so. Exit status 0 when the warehouse is
published or already up to date, 1 when the load failed, 2 when a setting is unusable (or
DATA_RAW_DIR is not a folder). With DAGSTER_HOME set (`make run` sets it to .dagster_home) the run
is recorded in that instance, so `make ui` shows it; otherwise in a temporary one.
"""

import logging
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from .plan import plan_load
from .settings import Settings, SettingsError
from .warehouse import table_counts
from .workers import pid_alive


@contextmanager
def _instance():
    """DAGSTER_HOME's instance, else a temporary one (step processes need a persistent instance)."""
    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        with dg.DagsterInstance.get() as instance:
            yield instance
    else:  # a throwaway instance: in memory-backed storage where there is one (its SQLite commits)
        shm = Path("/dev/shm")
        with dg.DagsterInstance.local_temp(tempdir=str(shm) if shm.is_dir() else None) as instance:
            yield instance


def _metadata_value(events, key: str):
    for event in events:
        if key in event.metadata:
            return event.metadata[key].value
    return None


def unchanged_files(result) -> int | None:
    """The number of files, if the run found nothing to do (report_files observed it up to date)."""
    observed = result.asset_observations_for_node("report_files")
    return _metadata_value(observed, "files") if _metadata_value(observed, "up_to_date") else None


def summary(settings: Settings, result=None, unchanged: int | None = None) -> str:
    """The closing summary, read from the published warehouse (and the run's events if given);
    `unchanged`: the number of files when the load found nothing to do."""
    lines = []
    path = settings.warehouse
    if unchanged is None and result is not None:
        unchanged = unchanged_files(result)
    if unchanged is not None:
        lines.append(
            f"files:          {unchanged}, none changed since the published load: none read, marts not "
            "rebuilt, warehouse not republished"
        )
    elif result is not None:
        events = result.asset_materializations_for_node("extracted_reports")
        files = _metadata_value(events, "files")
        if files is not None:
            read, hits = _metadata_value(events, "files_read"), _metadata_value(events, "store_hits")
            lines.append(f"files:          {files} ({read} read, {hits} from the extraction store)")
    if not path.exists():
        lines.append(f"no warehouse at {path}")
        return "\n".join(lines)
    con = duckdb.connect(str(path), read_only=True)
    try:

        def one(sql: str):
            return con.execute(sql).fetchone()[0]

        lines.append(f"forms:          {one('SELECT count(*) FROM raw.reports')}")
        lines.append(f"indicators:     {one('SELECT count(*) FROM raw.indicators')}")
        errors = one("SELECT count(*) FROM raw.extract_errors")
        error_files = one("SELECT count(DISTINCT file) FROM raw.extract_errors")
        lines.append(f"errors:         {errors} (in {error_files} files; see raw.extract_errors)")
        failed = one("SELECT count(*) FROM raw.checks WHERE NOT passed")
        failed_reports = one("SELECT count(DISTINCT report_id) FROM raw.checks WHERE NOT passed")
        lines.append(f"failed checks:  {failed} (in {failed_reports} forms; see raw.checks)")
        if result is not None and unchanged is None:
            evaluations = result.get_asset_check_evaluations()
            not_passed = [e for e in evaluations if not e.passed]
            lines.append(
                f"asset checks:   {len(evaluations) - len(not_passed)} passed, {len(not_passed)} not passed"
                + (": " + ", ".join(sorted({e.check_name for e in not_passed})) if not_passed else "")
            )
        marts = table_counts(con, ("marts",))
    finally:
        con.close()
    lines.append("mart rows:")
    width = max((len(name) for name in marts), default=0)
    lines += [f"  {name.ljust(width)}  {rows}" for name, rows in marts.items()]
    lines.append(f"warehouse:      {path}")
    return "\n".join(lines)


PID_TAG = "fiscal_perf/load_pid"


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the command-line loads whose process is gone (killed mid-way): left STARTED,
    they would hold the instance's one-run queue and stop every sensor and schedule load."""
    running = instance.get_runs(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
    )
    orphans = [r for r in running if PID_TAG in r.tags and not pid_alive(int(r.tags[PID_TAG]))]
    for run in orphans:
        instance.report_run_failed(run)
    return [r.run_id for r in orphans]


def main() -> int:
    started = time.monotonic()
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Loading {settings.data_raw} into {settings.warehouse} ({settings.executor} executor)", flush=True)
    try:
        plan = plan_load(settings)
    except NotADirectoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if plan.up_to_date:  # no run at all: the published warehouse is what this load would build
        print()
        print(summary(settings, unchanged=len(plan.files)))
        print(f"Warehouse up to date; nothing loaded ({time.monotonic() - started:.1f}s).")
        return 0
    from .definitions import load_warehouse_job

    # The executor's own bookkeeping ("Executing step X in subprocess") goes to the event log and the
    # UI; on this console only what the steps say (the progress logger) and warnings.
    logging.getLogger("dagster").addFilter(lambda record: record.levelno >= logging.WARNING)
    with _instance() as instance:
        for run_id in fail_orphaned_runs(instance):
            print(f"marked run {run_id} failed: its load process is gone", flush=True)
        result = dg.execute_job(
            dg.reconstructable(load_warehouse_job),
            instance=instance,
            run_config={**settings.run_config(), "loggers": {"progress": {}}},
            tags={PID_TAG: str(os.getpid())},
        )
        print()
        print(summary(settings, result))
        elapsed = time.monotonic() - started
        if result.success:
            verb = "up to date" if unchanged_files(result) is not None else "published"
            print(f"Load {verb} in {elapsed:.0f}s (run {result.run_id}).")
            return 0
        failed = [e.step_key for e in result.get_step_failure_events()]
        print(
            f"LOAD FAILED in step(s) {', '.join(failed) or '?'} after {elapsed:.0f}s (run {result.run_id}); "
            "the warehouse above is the previous complete load.",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
