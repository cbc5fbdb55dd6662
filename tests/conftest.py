"""Shared fixtures: a temporary DATA_RAW_DIR / WAREHOUSE_PATH and a full load over the samples.

`loaded_warehouse` (session scope) runs the real `load_warehouse` job once — real extraction, real
DuckDB file, real `dbt build` — over a copy of data_raw/ in a temp dir, and is shared by every test
that only reads the result. Tests that change files make their own copy (`copy_samples`).
Environment variables are set only while a load or an evaluation runs (`warehouse_env`), never for
the whole session.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from paths import DATA_RAW

SAMPLES_DIR = DATA_RAW


@contextmanager
def warehouse_env(data_raw_dir: Path, warehouse_path: Path) -> Iterator[None]:
    """DATA_RAW_DIR and WAREHOUSE_PATH pointed at the given paths for the duration of the block."""
    names = ("DATA_RAW_DIR", "WAREHOUSE_PATH", "WAREHOUSE_BUILD_PATH")
    saved = {name: os.environ.get(name) for name in names}
    os.environ["DATA_RAW_DIR"] = str(data_raw_dir)
    os.environ["WAREHOUSE_PATH"] = str(warehouse_path)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def copy_samples(dest: Path) -> Path:
    """A writable copy of data_raw/ (report files only) at `dest`."""
    shutil.copytree(SAMPLES_DIR, dest, ignore=shutil.ignore_patterns(".*"))
    for path in dest.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    return dest


def run_load(data_raw_dir: Path, warehouse_path: Path):
    """The `load_warehouse` job in-process on an ephemeral instance; returns the Dagster result."""
    import dagster as dg

    from orchestration.definitions import defs

    with warehouse_env(data_raw_dir, warehouse_path):
        job = defs.resolve_job_def("load_warehouse")
        return job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)


@dataclass
class LoadedWarehouse:
    data_raw_dir: Path
    path: Path
    result: object  # dagster ExecuteInProcessResult of the load

    def connect(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.path), read_only=True)

    def rows(self, sql: str, params=None) -> list[tuple]:
        con = self.connect()
        try:
            return con.execute(sql, params or []).fetchall()
        finally:
            con.close()

    def scalar(self, sql: str, params=None):
        return self.rows(sql, params)[0][0]


@pytest.fixture(scope="session")
def loaded_warehouse(tmp_path_factory) -> LoadedWarehouse:
    root = tmp_path_factory.mktemp("loaded")
    data_raw = copy_samples(root / "data_raw")
    path = root / "warehouse" / "warehouse.duckdb"
    result = run_load(data_raw, path)
    assert result.success, [e.event_specific_data for e in result.get_step_failure_events()]
    return LoadedWarehouse(data_raw, path, result)
