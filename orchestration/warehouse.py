"""Build-then-publish of the DuckDB warehouse.

DuckDB allows one writer per file, and a process holding the file open blocks writers. So a load
never writes the warehouse analysts read: it writes a build file (`Settings.build_path`, beside
the warehouse in `.build/`), and the last asset moves it over the warehouse with one `os.replace`.
A reader that has the old file open keeps reading the old complete load; the next reader opens the
new complete load; nobody sees a half-built warehouse. A load killed mid-way leaves a stale build
file, which the next load deletes.

A sidecar file `<build>.run` names the run that owns the build file, so a run never publishes (or
builds dbt models on) a file another run left behind. It also records the published file's
identity (inode, size, mtime) when the build started.

The warehouse is owned by the loader: everyone else opens it read-only. A write by anyone else
would be lost when the next load replaces the file, so publish refuses, naming the cause, when
another process holds a write connection on the warehouse (DuckDB's lock; its error names the
process) or when the warehouse changed since this load started (someone wrote and closed).

Schema `loader` holds the loader's own bookkeeping, published with the rest:
- `loader.load_state`: the fingerprint of what the warehouse was built from (files, extractor,
  landing code, dbt project; `inputs.fingerprint`), the version of that code alone
  (`plan.code_version`) and the run that landed it. A load whose fingerprint equals the published
  one, with every file's result in the store, has nothing to do.
- `loader.report_changes`: the report_ids this load added, removed or updated (same content, other
  names) against the marts of the build file, for dbt models that rebuild only what changed: on a
  copy of the published warehouse, the changes against it; on a fresh file, every report.
- `loader.landed_entries`: the (name, store entry) pairs the landing tables were built from, so
  the next load on a copy of this warehouse lands only the entries that changed (`staging.land`).

A load whose code version equals the published warehouse's starts its build file as a copy of the
published warehouse (`start_build(..., from_published=True)`): its marts were built by the same
code from reports that differ only by `loader.report_changes`, so the marts keyed by report_id
rebuild only those (dbt var only_changed_reports, dbt_project/macros/incremental.sql).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import duckdb

from .settings import Settings

LOADER = "loader"
LANDED_ENTRIES = f"{LOADER}.landed_entries"


class PublishError(RuntimeError):
    pass


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def _owner_file(build: Path) -> Path:
    return build.with_name(build.name + ".run")


def _owner(build: Path) -> dict:
    try:
        data = json.loads(_owner_file(build).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def build_owner(build: Path) -> str | None:
    """The run that owns the build file, if any."""
    return _owner(build).get("run_id")


def _identity(path: Path) -> list[int] | None:
    """(inode, size, mtime_ns) of the file, None if there is none: what a write would change."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return None
    return [info.st_ino, info.st_size, info.st_mtime_ns]


def _claim(settings: Settings, run_id: str) -> None:
    _owner_file(settings.build_path).write_text(
        json.dumps({"run_id": run_id, "published": _identity(settings.warehouse)}), encoding="utf-8"
    )


def _clear(build: Path) -> None:
    for path in (build, _wal(build), _owner_file(build)):
        path.unlink(missing_ok=True)


def start_build(settings: Settings, run_id: str, from_published: bool = False) -> Path:
    """A fresh build file owned by `run_id` (a stale one, of a killed run, is deleted first):
    empty, or with `from_published` a copy of the published warehouse (when there is one)."""
    build = settings.build_path
    build.parent.mkdir(parents=True, exist_ok=True)
    _clear(build)
    _claim(settings, run_id)
    if from_published and settings.warehouse.exists():
        shutil.copyfile(settings.warehouse, build)
    return build


def ensure_build(settings: Settings, run_id: str) -> Path:
    """This run's build file. A run that did not stage (a subset run from the UI) starts from a copy
    of the published warehouse, so its dbt models build on the landing tables of the last load."""
    build = settings.build_path
    if build.exists() and build_owner(build) == run_id:
        return build
    build.parent.mkdir(parents=True, exist_ok=True)
    _clear(build)
    published = settings.warehouse
    identity = _identity(published)
    if published.exists():
        shutil.copyfile(published, build)
    _owner_file(build).write_text(json.dumps({"run_id": run_id, "published": identity}), encoding="utf-8")
    return build


def refuse_foreign_writer(path: Path) -> None:
    """Raise PublishError, naming the process, when another process holds a write connection on the
    warehouse at `path`: what it writes would be lost when a load replaces the file. Checked when a
    load starts (before any work) and again right before it publishes."""
    writer = _foreign_writer(path)
    if writer:
        raise PublishError(
            f"another process holds a write connection on {path} ({writer}); what it writes would be "
            "lost when this load replaces the file. Not loading: close it (open the warehouse with "
            "read_only=True; it is owned by the loader) and load again"
        )


def _foreign_writer(path: Path) -> str | None:
    """DuckDB's description of the process holding a write lock on `path` (a read-only open is
    refused only then; readers share the file), None when there is none."""
    if not path.exists():
        return None
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.IOException as exc:
        message = str(exc)
        if "lock" not in message.lower():
            raise
        held = re.search(r"Conflicting lock is held in (.*?)(?: \(PID (\d+)\))", message)
        return f"{held.group(1)}, PID {held.group(2)}" if held else message.splitlines()[0]
    return None


def table_counts(
    con: duckdb.DuckDBPyConnection, schemas: tuple[str, ...], views: bool = True
) -> dict[str, int]:
    """Row counts of the base tables (and, with `views`, the views) in `schemas`, as
    {"schema.table": rows}."""
    names = con.execute(
        "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name IN (SELECT unnest($1)) "
        "UNION ALL SELECT schema_name, view_name FROM duckdb_views() "
        "WHERE $2 AND NOT internal AND schema_name IN (SELECT unnest($1)) ORDER BY 1, 2",
        [list(schemas), views],
    ).fetchall()
    return {
        f"{schema}.{table}": con.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()[0]
        for schema, table in names
    }


def relation_shapes(path: Path, schemas: tuple[str, ...]) -> dict[tuple[str, str], tuple[int | None, list]]:
    """{(schema, name): (rows, [(column, DuckDB type), …])} of every table and view in `schemas` of
    the DuckDB file at `path`, opened read-only once; rows None for a view (counting would run its
    query). Raises duckdb.Error when the file cannot be opened."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        columns: dict[tuple[str, str], list] = {}
        for schema, table, column, kind in con.execute(
            "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns() "
            "WHERE schema_name IN (SELECT unnest(?)) ORDER BY schema_name, table_name, column_index",
            [list(schemas)],
        ).fetchall():
            columns.setdefault((schema, table), []).append((column, kind))
        rows = {tuple(name.split(".", 1)): n for name, n in table_counts(con, schemas, views=False).items()}
    finally:
        con.close()
    return {key: (rows.get(key), cols) for key, cols in columns.items()}


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


PUBLISHED_SCHEMAS = ("raw", "staging", "intermediate", "marts", LOADER)


def publish(settings: Settings, run_id: str, schemas: tuple[str, ...] = PUBLISHED_SCHEMAS) -> dict[str, int]:
    """Move this run's build file over the warehouse in one step; returns row counts per table."""
    build = settings.build_path
    target = settings.warehouse
    if not build.exists():
        raise PublishError(f"no build file at {build}: nothing to publish")
    owner = _owner(build)
    if owner.get("run_id") != run_id:
        raise PublishError(
            f"build file {build} belongs to run {owner.get('run_id')}, not to this run ({run_id})"
        )
    refuse_foreign_writer(target)
    if "published" in owner and _identity(target) != owner["published"]:
        raise PublishError(
            f"{target} was changed by another process while this load ran (its writes would be lost). "
            "Not publishing: the warehouse is owned by the loader (open it with read_only=True); "
            "load again to build on what it holds now"
        )
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


# Every file name a warehouse was built from: the names of its forms' copies and of its error rows
# (not those of folders that could not be read, which end in "/").
_FILES_SQL = (
    "SELECT count(*) FROM (SELECT unnest(source_files) FROM raw.reports "
    "UNION SELECT file FROM raw.extract_errors WHERE NOT ends_with(file, '/'))"
)


def _load_state(path: Path, *columns: str) -> tuple | None:
    """Columns of `loader.load_state` in the DuckDB file at `path`, in one read (None: see
    `_query_one`)."""
    return _query_one(path, f"SELECT {', '.join(columns)} FROM {LOADER}.load_state")


def _query_one(path: Path, sql: str) -> tuple | None:
    """The first row of `sql` on the DuckDB file at `path`, opened read-only; None when there is no
    file, it cannot be opened (held by a writer, not DuckDB) or the query fails (no such table or
    column)."""
    if not path.exists():
        return None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None
    try:
        return con.execute(sql).fetchone()
    except duckdb.Error:
        return None
    finally:
        con.close()


def published_reports(settings: Settings) -> int | None:
    """Report copies (rows of raw.reports) in the published warehouse; None without one."""
    row = _query_one(settings.warehouse, "SELECT count(*) FROM raw.reports")
    return row[0] if row else None


def published_code_version(settings: Settings) -> str | None:
    """The code version (`plan.code_version`) the published warehouse was built by, if known."""
    row = _load_state(settings.warehouse, "code_version")
    return row[0] if row else None


def landing(build: Path) -> tuple[str | None, bool]:
    """(the run that landed the raw tables of the build file, whether the file is a copy of the
    published warehouse whose marts it keeps: `loader.load_state.builds_on_published`); (None,
    False) without a load state."""
    row = _load_state(build, "run_id", "builds_on_published")
    return (row[0], bool(row[1])) if row else (None, False)


def write_published_landing(settings: Settings, code_version: str, path: Path) -> bool:
    """The (name, entry) pairs the published warehouse was landed from (`loader.landed_entries`),
    written as Parquet at `path`, when `code_version` built that warehouse; whether they were (not
    when there is no warehouse, other code built it, it has no such table or cannot be opened)."""
    if not settings.warehouse.exists():
        return False
    try:
        con = duckdb.connect(str(settings.warehouse), read_only=True)
    except duckdb.Error:
        return False
    try:
        if con.execute(f"SELECT code_version FROM {LOADER}.load_state").fetchall() != [(code_version,)]:
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        con.sql(f"SELECT name, entry FROM {LANDED_ENTRIES}").write_parquet(str(path))
    except duckdb.Error:
        return False
    finally:
        con.close()
    return True


def published_state(settings: Settings) -> tuple[str | None, int | None]:
    """(fingerprint, number of files) the published warehouse was built from; each None when it
    cannot be told (no warehouse yet, one from before fingerprints, one that cannot be opened)."""
    path = settings.warehouse
    if not path.exists():
        return None, None
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return None, None
    try:
        try:
            row = con.execute(f"SELECT fingerprint FROM {LOADER}.load_state").fetchone()
        except duckdb.Error:
            row = None
        try:
            files = con.execute(_FILES_SQL).fetchone()[0]
        except duckdb.Error:
            files = None
    finally:
        con.close()
    return (row[0] if row else None), files


def landed_entries(con: duckdb.DuckDBPyConnection) -> str | None:
    """`LANDED_ENTRIES` if the file `con` is open on has that table (a warehouse landed since it
    was kept), else None: what `staging.land` is told its landing tables were landed from."""
    found = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() "
        "AND schema_name = ? AND table_name = ?",
        LANDED_ENTRIES.split("."),
    ).fetchone()[0]
    return LANDED_ENTRIES if found else None


def write_load_state(
    con: duckdb.DuckDBPyConnection,
    fingerprint: str,
    published: Path,
    code_version: str | None = None,
    run_id: str | None = None,
    builds_on_published: bool = False,
    entries: str | None = None,
) -> dict[str, int]:
    """`loader.load_state` (fingerprint, code_version, run_id, builds_on_published: the build file
    started as a copy of `published`) and `loader.report_changes` in the build file `con` is open
    on: what its marts miss, the changes against `published` on such a copy, every report `added`
    on a fresh file (it holds no marts); with `entries` (a relation of (name, entry): what the
    landing tables were just landed from), `loader.landed_entries` too. Returns the number of
    reports per change against the `published` warehouse (every report is `added` when there is
    none, or it cannot be read)."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {LOADER}")
    if entries is not None:
        con.execute(
            f"CREATE OR REPLACE TABLE {LANDED_ENTRIES} AS SELECT name, entry FROM {entries} ORDER BY name"
        )
    con.execute(
        f"CREATE OR REPLACE TABLE {LOADER}.load_state "
        "(fingerprint VARCHAR, code_version VARCHAR, run_id VARCHAR, builds_on_published BOOLEAN)"
    )
    on_published = builds_on_published and published.exists()
    con.execute(
        f"INSERT INTO {LOADER}.load_state VALUES (?, ?, ?, ?)",
        [fingerprint, code_version, run_id, on_published],
    )
    before = "(SELECT NULL::VARCHAR AS report_id, NULL::VARCHAR[] AS source_files WHERE false)"
    attached = False
    if published.exists():
        try:
            con.execute("ATTACH ? AS published (READ_ONLY)", [str(published)])
            attached = True
            if con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE database_name = 'published' "
                "AND schema_name = 'raw' AND table_name = 'reports'"
            ).fetchone()[0]:
                before = "published.raw.reports"
        except duckdb.Error:
            pass  # held by a writer, or not a warehouse: every report counts as added
    try:
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _report_changes AS
            SELECT coalesce(n.report_id, o.report_id) AS report_id,
                   CASE WHEN o.report_id IS NULL THEN 'added' WHEN n.report_id IS NULL THEN 'removed'
                        ELSE 'updated' END AS change
            FROM raw.reports n FULL JOIN (SELECT report_id, source_files FROM {before}) o USING (report_id)
            WHERE o.report_id IS NULL OR n.report_id IS NULL
               OR n.source_files IS DISTINCT FROM o.source_files"""
        )
    finally:
        if attached:
            con.execute("DETACH published")
    # A fresh file lists every report: dbt builds with the same vars on both (dbt_project.build_args)
    missed = "_report_changes" if on_published else "(SELECT report_id, 'added' AS change FROM raw.reports)"
    con.execute(
        f"CREATE OR REPLACE TABLE {LOADER}.report_changes AS SELECT * FROM {missed} ORDER BY report_id"
    )
    counts = con.execute("SELECT change, count(*) FROM _report_changes GROUP BY ALL").fetchall()
    con.execute("DROP TABLE _report_changes")
    return dict(counts)
