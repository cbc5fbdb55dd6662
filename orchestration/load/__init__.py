"""`python -m orchestration.load`: the full load, with progress and a summary.

Runs the `load_warehouse` job (files → extraction → landing tables → dbt → publish) on the
executor the settings name (`LOAD_EXECUTOR`, default: step processes on this machine's cores),
the way the schedule and the sensor do, prints the extraction's progress (every file with an
error, the others every few seconds) and the dbt progress, then a summary read back from the
published warehouse: files, forms, indicators, errors, failed checks and mart row counts — or,
when nothing changed since the published load, says so. The settings travel in the run's config,
so every step (on any machine) sees the values read here.

When nothing changed since the published load (same files, same code, every result in the same
store) no run is started at all, and the summary says so. A failed load prints, for each failed
step, the error class and message (which names the file concerned) on stderr.

Exit status: 0 the warehouse is published (or already up to date; a failure after the publish is
a warning), 1 nothing was published (a step failed, the load was refused: another load holds
the warehouse, DATA_RAW_DIR shrank, a foreign writer), 2 bad configuration (a setting that
cannot be used, DATA_RAW_DIR not a folder, a folder the load writes that cannot be written, a
Dask scheduler address that is not one).

With DAGSTER_HOME set (`make run` sets it to .dagster_home) the run is recorded in that instance,
so `make ui` shows it; otherwise in a temporary one.
"""

import argparse
import gc
import logging
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb

from extract.wording import counted

from ..instance_storage import ENGINE_KEEPING_STORAGE
from ..plan import LoadRefused, plan_load
from ..settings import Settings, SettingsError
from ..warehouse import table_counts
from ..workers import pid_alive

EXIT_PUBLISHED, EXIT_NOT_PUBLISHED, EXIT_BAD_CONFIGURATION = 0, 1, 2


@contextmanager
def _instance():
    """DAGSTER_HOME's instance, else a temporary one (step processes need a persistent instance)."""
    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        with dg.DagsterInstance.get() as instance:
            yield instance
    else:  # a throwaway instance: in memory-backed storage where there is one (its SQLite commits)
        shm = Path("/dev/shm")
        with tempfile.TemporaryDirectory(dir=shm if shm.is_dir() else None) as home:
            storage = {"custom": {**ENGINE_KEEPING_STORAGE, "config": {"base_dir": home}}}
            with dg.DagsterInstance.local_temp(home, overrides={"storage": storage}) as instance:
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
    `unchanged`: the number of files when the load found nothing to do.

    Forms are printed forms, copies merged (`marts.dim_reports`); copies are the forms read in the
    files (`raw.reports`: the same form in a PDF and a text dump is two copies). The warehouse is
    opened read-only, and any failure to read it becomes a line of the summary: what runs after
    the publish can never fail the load."""
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
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        lines.append(f"warehouse:      {path} (cannot be read now for the summary: {_first_line(exc)})")
        return "\n".join(lines)
    try:

        def one(sql: str):
            try:
                return con.execute(sql).fetchone()[0]
            except duckdb.Error:
                return "?"

        forms, copies = one("SELECT count(*) FROM marts.dim_reports"), one("SELECT count(*) FROM raw.reports")
        copy_files = one("SELECT count(DISTINCT f) FROM (SELECT unnest(source_files) AS f FROM raw.reports)")
        lines.append(f"forms:          {forms} (copies merged; see marts.dim_reports)")
        read_in = f"{counted(copies, 'form')} read in {counted(copy_files, 'file')}"
        lines.append(f"copies:         {read_in} (see raw.reports)")
        lines.append(f"indicators:     {one('SELECT count(*) FROM marts.fct_indicator_outcomes')}")
        errors = one("SELECT count(*) FROM raw.extract_errors")
        error_files = one("SELECT count(DISTINCT file) FROM raw.extract_errors")
        lines.append(f"errors:         {errors} (in {counted(error_files, 'file')}; see raw.extract_errors)")
        failing = one(
            "SELECT count(DISTINCT report_id) FROM marts.mart_report_quality "
            "WHERE check_source = 'extraction' AND NOT passed"
        )
        failing_copies = one("SELECT count(DISTINCT report_id) FROM raw.checks WHERE NOT passed")
        lines.append(
            f"not adding up:  {counted(failing, 'form')} (see marts.mart_report_quality); "
            f"{counted(failing_copies, 'copy')}"
        )
        if result is not None and unchanged is None:
            evaluations = result.get_asset_check_evaluations()
            not_passed = [e for e in evaluations if not e.passed]
            lines.append(
                f"asset checks:   {len(evaluations) - len(not_passed)} passed, {len(not_passed)} not passed"
                + (": " + ", ".join(sorted({e.check_name for e in not_passed})) if not_passed else "")
            )
        try:
            marts = table_counts(con, ("marts",))
        except duckdb.Error as exc:
            marts = {f"(cannot be counted: {_first_line(exc)})": 0}
    finally:
        con.close()
    lines.append("mart rows:")
    width = max((len(name) for name in marts), default=0)
    lines += [f"  {name.ljust(width)}  {rows}" for name, rows in marts.items()]
    lines.append(f"warehouse:      {path}")
    return "\n".join(lines)


def _kept_warehouse(settings: Settings) -> str:
    """What a load that published nothing left in place: the previous complete load, or, before
    the first load has published, no warehouse at all."""
    if settings.warehouse.exists():
        return f"{settings.warehouse} is unchanged, still the previous complete load"
    return f"no warehouse has been published at {settings.warehouse} yet (no load has completed)"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


# Dagster's wrappers around what a step raised: the cause they carry is what went wrong.
_WRAPPERS = {
    "DagsterExecutionStepExecutionError",
    "DagsterUserCodeExecutionError",
    "DagsterExecutionInterruptedError",
}


# What an error that carries no message of its own means.
_HINTS = {"ChildProcessCrashException": "the step's process died (killed by a signal, or crashed)"}


def _cause(error) -> str:
    """ "ErrorClass: message" of the innermost error a Dagster error info carries, on one line."""
    while error.cause is not None and (error.cls_name in _WRAPPERS or not error.message.strip()):
        error = error.cause
    message = " ".join(error.message.split())
    name = error.cls_name or ""
    qualified, sep, rest = message.partition(": ")  # "package.module.Name: message"
    if qualified.rsplit(".", 1)[-1] == name:
        message = rest if sep else _HINTS.get(name, "no message")
    return f"{name}: {message}" if name else message


def failure_lines(result) -> list[str]:
    """One line per failed step (step, error class, message — which names the file), and the
    run's own failure when no step failed (e.g. the warehouse's load lock was held)."""
    lines = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        lines.append(f"step {event.step_key} failed: {_cause(error) if error else 'no error recorded'}")
    if not lines:
        for event in result.all_events:
            if event.event_type == dg.DagsterEventType.RUN_FAILURE:
                error = getattr(event.event_specific_data, "error", None)
                lines.append(f"run failed: {_cause(error) if error else event.message}")
    return lines


def published(result) -> bool:
    """Whether the run published the warehouse (its last asset materialized)."""
    return bool(result.asset_materializations_for_node("warehouse_published"))


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


def configuration_problem(settings: Settings) -> str | None:
    """Why the load cannot start with these settings, found before the plan: WAREHOUSE_PATH is a
    folder, the folder of the warehouse (the build file, the file index) or the extraction store
    (EXTRACT_STORE) cannot be made or written, or DASK_SCHEDULER_ADDRESS is not an address; None
    when nothing is in the way."""
    if settings.warehouse.is_dir():
        return f"WAREHOUSE_PATH: {settings.warehouse} is a folder; it names the warehouse's DuckDB file"
    for variable, folder in (
        ("WAREHOUSE_PATH", settings.warehouse.parent),
        ("EXTRACT_STORE", settings.store_root),
    ):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            if isinstance(exc, FileExistsError | NotADirectoryError):
                # the nearest existing path on the way is a file
                cause = f"{next(p for p in (folder, *folder.parents) if p.exists())} is a file"
            else:
                cause = f"{exc.strerror}: {exc.filename}" if exc.strerror and exc.filename else str(exc)
            return f"{variable}: the load cannot make or write the folder {folder} ({cause})"
    if settings.executor == "dask":
        from ..defs.resources import dask_address_problem

        return dask_address_problem()
    return None


def main(argv: list[str] | None = None) -> int:
    """The load; its exit status (module docstring). Takes no arguments: every setting is an
    environment variable (README, "Running at scale"); `--help` prints this module's text."""
    argparse.ArgumentParser(
        prog="python -m orchestration.load",
        description=__doc__,
        epilog="Settings are environment variables (DATA_RAW_DIR, WAREHOUSE_PATH, LOAD_EXECUTOR, ...): "
        "see the README, sections 'How a load works', 'Running at scale' and 'Reliability'.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args(argv)
    started = time.monotonic()
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIGURATION
    print(f"Loading {settings.data_raw} into {settings.warehouse} ({settings.executor} executor)", flush=True)
    if problem := configuration_problem(settings):
        print(f"error: {problem}", file=sys.stderr)
        return EXIT_BAD_CONFIGURATION
    try:
        plan = plan_load(settings)
    except NotADirectoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_CONFIGURATION
    except LoadRefused as exc:  # before any run: nothing to start, nothing to record
        print(f"error: {exc}", file=sys.stderr)
        print(f"Load refused; nothing was published: {_kept_warehouse(settings)}.", file=sys.stderr)
        return EXIT_NOT_PUBLISHED
    except OSError as exc:  # e.g. the disk is full: the file index beside the warehouse
        print(
            f"error: scanning {settings.data_raw} or writing its index {settings.file_index_path} "
            f"failed: {type(exc).__name__}: {exc}",
            file=sys.stderr,
        )
        return EXIT_NOT_PUBLISHED
    if plan.up_to_date:  # no run at all: the published warehouse is what this load would build
        print()
        print(summary(settings, unchanged=len(plan.files)))
        print(f"Warehouse up to date; nothing loaded ({time.monotonic() - started:.1f}s).")
        return EXIT_PUBLISHED
    from ..defs.resources import start_step_forkserver

    if (run_settings := settings.for_load(plan.unstored)) != settings:
        print(
            f"{counted(plan.unstored, 'file')} to read: every step in this process "
            f"(LOAD_IN_PROCESS_FILES={settings.in_process_files})",
            flush=True,
        )
    settings = run_settings
    start_step_forkserver(settings)
    from ..definitions import load_warehouse_job

    # The executor's own bookkeeping ("Executing step X in subprocess") goes to the event log and the
    # UI; on this console only what the steps say (the progress logger) and warnings.
    logging.getLogger("dagster").addFilter(lambda record: record.levelno >= logging.WARNING)
    # What is loaded by now (Dagster, dbt's manifest, every asset) lives as long as the process:
    # the collector's full passes need not walk it again (gc.freeze; ≈ 1 s a load).
    gc.freeze()
    with _instance() as instance:
        for run_id in fail_orphaned_runs(instance):
            print(f"marked run {run_id} failed: its load process is gone", flush=True)
        result = dg.execute_job(
            dg.reconstructable(load_warehouse_job),
            instance=instance,
            run_config={**settings.launch_config(), "loggers": {"progress": {}}},
            tags={PID_TAG: str(os.getpid()), **settings.run_tags()},
        )
        elapsed = time.monotonic() - started
        # a run that succeeded without publishing is a failure unless it found nothing to do
        # (a skipped publish step: an upstream output that was not produced)
        if published(result) or (result.success and unchanged_files(result) is not None):
            print()
            try:
                print(summary(settings, result))
            except Exception as exc:  # noqa: BLE001 - the summary must never turn a load into a failure
                print(f"(no summary: {type(exc).__name__}: {_first_line(exc)})")
            for line in failure_lines(result):  # after the publish: the warehouse is the new load
                print(f"warning: {line}", file=sys.stderr)
            verb = "up to date" if unchanged_files(result) is not None else "published"
            print(f"Load {verb} in {elapsed:.0f}s (run {result.run_id}).")
            return EXIT_PUBLISHED
        for line in failure_lines(result):
            print(f"error: {line}", file=sys.stderr)
        failed = [e.step_key for e in result.get_step_failure_events()]
        skipped = [e.step_key for e in result.get_step_skipped_events()]
        where = ", ".join(failed) or (
            f"(none failed; skipped: {', '.join(skipped)})" if skipped else "(none: the run did not start)"
        )
        print(
            f"LOAD FAILED in step(s) {where} after "
            f"{elapsed:.0f}s (run {result.run_id}); nothing was published: {_kept_warehouse(settings)}.",
            file=sys.stderr,
        )
        return EXIT_NOT_PUBLISHED
