"""The extraction store: one Parquet file per (source sha256, kind, results version).

    <root>/<results version>/<sha256[:2]>/<sha256>-<kind>.parquet

Each entry holds one row: the file's forms (with their funding lines, indicators and checks
nested) and errors, as `staging.file_row` gives them, typed after `staging.TABLES`. Its Parquet
key-value metadata carries the schema version, the results version, the source sha256 and kind,
and a checksum (sha256 of the row's canonical JSON), so a reader can tell an entry that is not
what this code would write (`verify_entry`). Entries are written to a temporary name and renamed,
so a reader never sees half an entry, and any number of workers may write at once (the same
content always gives the same entry).

The results version is a hash over the code that decides an entry's content — the `extract`
package, the PDF library's version, the landing declaration — so an upgrade re-reads every file
without anyone remembering to bump a number. Results that say something about the moment or the
limits in force (`TRANSIENT_ERRORS`) are never stored here: they go to the run's own folder
(`run_dir`) and the next load tries those files again.

No Dagster import here: extraction workers import this module.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from functools import cache
from importlib import metadata
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .staging import FORM_PARTS, stored_columns

SCHEMA_VERSION = 1
TRANSIENT_ERRORS = {"not_found", "timeout", "too_large"}
META_PREFIX = "fiscal_perf."
RUNS_DIR = "runs"

_ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "INTEGER": pa.int32(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
}


def _arrow_type(duckdb_type: str) -> pa.DataType:
    if duckdb_type.endswith("[]"):
        return pa.list_(_arrow_type(duckdb_type[:-2]))
    if duckdb_type.startswith("MAP(") and duckdb_type.endswith(")"):
        key, value = (part.strip() for part in duckdb_type[4:-1].split(","))
        return pa.map_(_arrow_type(key), _arrow_type(value))
    return _ARROW_TYPES[duckdb_type]


def _struct(table: str) -> pa.StructType:
    return pa.struct([(name, _arrow_type(kind)) for name, kind in stored_columns(table)])


def entry_schema() -> pa.Schema:
    """forms: list<struct<reports columns…, funding_lines/indicators/checks: list<struct>>>,
    errors: list<struct<extract_errors columns…>>."""
    form = pa.struct(
        list(_struct("reports")) + [pa.field(part, pa.list_(_struct(part))) for part in FORM_PARTS]
    )
    return pa.schema([("forms", pa.list_(form)), ("errors", pa.list_(_struct("extract_errors")))])


@cache
def results_version() -> str:
    """12 hex: the extract package's source, the PDF library versions, the landing declaration."""
    import extract

    from . import staging

    digest = hashlib.sha256(f"schema={SCHEMA_VERSION}".encode())
    package_dir = Path(extract.__file__).parent
    for source in sorted(package_dir.rglob("*.py")):
        digest.update(source.relative_to(package_dir).as_posix().encode())
        digest.update(source.read_bytes())
    digest.update(Path(staging.__file__).read_bytes())
    for dist in ("pdfplumber", "pdfminer.six"):
        try:
            digest.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            pass
    return digest.hexdigest()[:12]


def entry_path(root: Path, sha256: str, kind: str) -> Path:
    return root / results_version() / sha256[:2] / f"{sha256}-{kind}.parquet"


def run_dir(root: Path, run_id: str) -> Path:
    """Where a run keeps what is not stored by content (transient results, its manifests)."""
    return root / RUNS_DIR / run_id


def is_storable(row: dict) -> bool:
    return not any(error["error_class"] in TRANSIENT_ERRORS for error in row["errors"])


def checksum(row: dict) -> str:
    """sha256 of the row as canonical JSON (sorted keys), the same for the row as written and as
    read back (Parquet keeps doubles exactly)."""
    text = json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def write_entry(path: Path, sha256: str, kind: str, row: dict) -> Path:
    """Write one entry (atomically: temporary name, then rename); returns `path`."""
    table = pa.Table.from_pylist([row], schema=entry_schema())
    table = table.replace_schema_metadata(
        {
            f"{META_PREFIX}schema_version": str(SCHEMA_VERSION),
            f"{META_PREFIX}results_version": results_version(),
            f"{META_PREFIX}sha256": sha256,
            f"{META_PREFIX}kind": kind,
            # of the row as Arrow holds it, as verify_entry reads it back (a MAP column comes back as
            # its (key, value) pairs, not the dict it was written from)
            f"{META_PREFIX}checksum": checksum(table.to_pylist()[0]),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".parquet")
    os.close(fd)
    try:
        pq.write_table(table, tmp, compression="zstd")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def entry_metadata(path: Path) -> dict[str, str]:
    """The entry's key-value metadata without the prefix (schema_version, checksum, …)."""
    return _ours(pq.read_schema(path).metadata)


def _ours(raw: dict[bytes, bytes] | None) -> dict[str, str]:
    return {
        k.decode()[len(META_PREFIX) :]: v.decode()
        for k, v in (raw or {}).items()
        if k.decode().startswith(META_PREFIX)
    }


def verify_entry(path: Path, sha256: str | None = None, kind: str | None = None) -> str | None:
    """None if the entry is what this code writes for its file, else why not (unreadable, another
    schema or results version, column types other than `entry_schema`, another file's entry,
    checksum mismatch). `sha256` and `kind`, when given, are the file's the entry must be of."""
    try:
        with pq.ParquetFile(path) as parquet:  # one open for metadata and row: half read_table's cost
            table = parquet.read()
        meta = _ours(table.schema.metadata)
        [row] = table.to_pylist()
    except (OSError, ValueError, pa.ArrowException) as exc:
        return f"unreadable: {type(exc).__name__}: {exc}"
    if not table.schema.remove_metadata().equals(entry_schema()):
        return "column types are not those of this code's entries"
    if (sha256, kind) != (None, None) and (meta.get("sha256"), meta.get("kind")) != (sha256, kind):
        return f"entry of {meta.get('sha256')!r} ({meta.get('kind')}), not of this file"
    if meta.get("schema_version") != str(SCHEMA_VERSION):
        return f"schema version {meta.get('schema_version')!r}, expected {SCHEMA_VERSION}"
    if meta.get("results_version") != results_version():
        return f"results version {meta.get('results_version')!r}, expected {results_version()}"
    if meta.get("checksum") != checksum(row):
        return "checksum does not match the content"
    return None


def prune(root: Path) -> int:
    """Drop the entries of other results versions (they can never be hit again); returns how many
    version folders were removed. Run folders are left to `prune_runs`."""
    removed = 0
    if not root.is_dir():
        return 0
    for child in root.iterdir():
        if child.is_dir() and child.name not in (results_version(), RUNS_DIR):
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    return removed


def prune_runs(root: Path, keep: str | None = None) -> None:
    """Delete the run folders (transient results of earlier runs), but `keep`'s."""
    runs = root / RUNS_DIR
    if runs.is_dir():
        for child in runs.iterdir():
            if child.name != keep:
                shutil.rmtree(child, ignore_errors=True)
