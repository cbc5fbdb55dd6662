"""Build-then-publish of the DuckDB warehouse.

DuckDB allows one writer per file, and a process holding the file open blocks writers. So a load
never writes the warehouse analysts read: it writes a build file (settings.build_path(), beside
the warehouse in `.build/`), and the last asset moves it over the warehouse with one `os.replace`.
A reader that has the old file open keeps reading the old complete load; the next reader opens the
new complete load; nobody sees a half-built warehouse. A load killed mid-way leaves a stale build
file, which the next load deletes.

A sidecar file `<build>.run` names the run that owns the build file, so a run never publishes (or
builds dbt models on) a file another run left behind.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from . import settings


class PublishError(RuntimeError):
    pass


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _owner_file(build: Path) -> Path:
    return build.with_name(build.name + ".run")


def build_owner(build: Path | None = None) -> str | None:
    build = build or settings.build_path()
    try:
        return _owner_file(build).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def _clear(build: Path) -> None:
    for path in (build, _wal(build), _owner_file(build)):
        path.unlink(missing_ok=True)


def start_build(run_id: str) -> Path:
    """A fresh, empty build file owned by `run_id`; a stale one (killed run) is deleted first."""
    build = settings.build_path()
    build.parent.mkdir(parents=True, exist_ok=True)
    _clear(build)
    _owner_file(build).write_text(run_id, encoding="utf-8")
    return build


def ensure_build(run_id: str) -> Path:
    """This run's build file. A run that did not stage (a subset run from the UI) starts from a copy
    of the published warehouse, so its dbt models build on the staging tables of the last load."""
    build = settings.build_path()
    if build.exists() and build_owner(build) == run_id:
        return build
    build.parent.mkdir(parents=True, exist_ok=True)
    _clear(build)
    published = settings.warehouse_path()
    if published.exists():
        shutil.copyfile(published, build)
    _owner_file(build).write_text(run_id, encoding="utf-8")
    return build


def table_counts(con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...]) -> dict[str, int]:
    """Row counts of the base tables and views in `schemas`, as {"schema.table": rows}."""
    names = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN (SELECT unnest(?)) "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
        "WHERE NOT internal AND schema_name IN (SELECT unnest(?)) ORDER BY 1, 2",
        [list(schemas), list(schemas)],
    ).fetchall()
    return {
        f"{schema}.{table}": con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        for schema, table in names
    }


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def publish(run_id: str, schemas: tuple[str, ...] = ("raw", "staging", "marts")) -> dict[str, int]:
    """Move this run's build file over the warehouse in one step; returns row counts per table."""
    build = settings.build_path()
    target = settings.warehouse_path()
    if not build.exists():
        raise PublishError(f"no build file at {build}: nothing to publish")
    owner = build_owner(build)
    if owner != run_id:
        raise PublishError(f"build file {build} belongs to run {owner}, not to this run ({run_id})")
    con = duckdb.connect(str(build))
    try:
        con.execute("CHECKPOINT")  # everything in the main file, no WAL left behind
        counts = table_counts(con, schemas)
    finally:
        con.close()
    if _wal(build).exists():
        raise PublishError(f"{_wal(build)} still exists after CHECKPOINT; not publishing")
    _fsync(build)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A WAL left by a crashed writer of the old file must never be replayed onto the new one.
    _wal(target).unlink(missing_ok=True)
    os.replace(build, target)
    _fsync(target.parent)
    _owner_file(build).unlink(missing_ok=True)
    return counts
