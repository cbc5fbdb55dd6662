"""`python -m orchestration.load`: the full load, in this process, with progress and a summary.

Runs the `load_warehouse` job (every asset: files → extraction → staging → dbt → publish) the way
the schedule and the sensor do, prints one line per report file and the dbt progress, then a
summary read back from the published warehouse: files, forms, indicators, errors, failed checks
and mart row counts. Exit status 0 when the load was published, 1 otherwise.

With DAGSTER_HOME set (`make run` sets it to .dagster_home) the run is recorded in that instance,
so `make ui` shows it; otherwise an ephemeral instance is used.
"""

from __future__ import annotations

import logging
import os
import sys
import time

import dagster as dg
import duckdb

from . import settings
from .warehouse import table_counts


class _ProgressFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", None) or {}
        step = meta.get("step_key") or ""
        message = meta.get("orig_message") or record.getMessage()
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        return f"{stamp} {step + ': ' if step else ''}{message}"


class _UserMessages(logging.Filter):
    """Messages the assets log, and warnings/errors; not Dagster's own step bookkeeping."""

    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None) or {}
        return record.levelno >= logging.WARNING or meta.get("dagster_event") is None


@dg.logger(description="Compact progress lines on stdout for `python -m orchestration.load`.")
def progress_logger(init_context) -> logging.Logger:
    log = logging.getLogger("fiscal_perf.load")
    log.setLevel(logging.INFO)
    log.propagate = False
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(_ProgressFormatter())
        handler.addFilter(_UserMessages())
        log.addHandler(handler)
    return log


def _instance() -> dg.DagsterInstance:
    if os.environ.get("DAGSTER_HOME"):
        os.makedirs(os.environ["DAGSTER_HOME"], exist_ok=True)
        return dg.DagsterInstance.get()
    return dg.DagsterInstance.ephemeral()


def _metadata_value(result: dg.ExecuteInProcessResult, node: str, key: str):
    for event in result.asset_materializations_for_node(node):
        if key in event.metadata:
            return event.metadata[key].value
    return None


def summary(result: dg.ExecuteInProcessResult | None = None) -> str:
    """The closing summary, read from the published warehouse (and the run's events if given)."""
    lines = []
    path = settings.warehouse_path()
    if result is not None:
        files = _metadata_value(result, "extracted_reports", "files")
        read = _metadata_value(result, "extracted_reports", "files_read")
        hits = _metadata_value(result, "extracted_reports", "cache_hits")
        if files is not None:
            lines.append(f"files:          {files} ({read} read, {hits} from the extraction cache)")
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
        if result is not None:
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


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def fail_orphaned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed the command-line loads whose process is gone (killed mid-way): left STARTED,
    they would hold the instance's one-run queue and stop every sensor and schedule load."""
    running = instance.get_runs(
        filters=dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING])
    )
    orphans = [r for r in running if PID_TAG in r.tags and not _pid_alive(int(r.tags[PID_TAG]))]
    for run in orphans:
        instance.report_run_failed(run)
    return [r.run_id for r in orphans]


def main() -> int:
    started = time.monotonic()
    print(f"Loading {settings.data_raw_dir()} into {settings.warehouse_path()}", flush=True)
    from .definitions import defs  # prepares the dbt manifest if needed

    instance = _instance()
    for run_id in fail_orphaned_runs(instance):
        print(f"marked run {run_id} failed: its load process is gone", flush=True)
    job = defs.resolve_job_def("load_warehouse").with_logger_defs({"progress": progress_logger})
    result = job.execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={"loggers": {"progress": {}}},
        tags={PID_TAG: str(os.getpid())},
    )
    print()
    print(summary(result))
    elapsed = time.monotonic() - started
    if result.success:
        print(f"Load published in {elapsed:.0f}s (run {result.run_id}).")
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
