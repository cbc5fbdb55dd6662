"""Shared fixtures: settings pointing into temp dirs, and a full load over the samples.

`loaded_warehouse` (session scope) runs the real `load_warehouse` job once the way `make run` does
— the default executor (a process per step), real extraction, real DuckDB file, real `dbt build` —
over a copy of data_raw/ in a temp dir, and is shared by every test that only reads the result.
Tests that change files make their own copy (`copy_samples`). Settings reach a load through its run
config (`settings_for`), never through the environment of the test process.
"""

from __future__ import annotations

import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from paths import DATA_RAW

SAMPLES_DIR = DATA_RAW


def settings_for(data_raw_dir: Path, warehouse_path: Path, **overrides):
    """Settings of a load from `data_raw_dir` into `warehouse_path` (its store beside it)."""
    from orchestration.settings import Settings

    return Settings(data_raw_dir=str(data_raw_dir), warehouse_path=str(warehouse_path), **overrides)


def copy_samples(dest: Path) -> Path:
    """A writable copy of data_raw/ (report files only) at `dest`."""
    shutil.copytree(SAMPLES_DIR, dest, ignore=shutil.ignore_patterns(".*"))
    for path in dest.rglob("*"):
        if path.is_file():
            path.chmod(0o644)
    return dest


def project_instance(home: Path, monkeypatch):
    """The Dagster instance at `home`, which holds a copy of the project's dagster.yaml: that file
    names its storage folder by DAGSTER_HOME, so it is set here, as Dagster's tools have it."""
    import dagster as dg

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return dg.DagsterInstance.from_config(str(home))


def run_load(data_raw_dir: Path, warehouse_path: Path, **overrides):
    """The `load_warehouse` job in this process (steps one after the other, extraction with a
    worker per core) on an ephemeral instance; returns the Dagster result."""
    import dagster as dg

    from orchestration.definitions import load_warehouse_job

    settings = settings_for(data_raw_dir, warehouse_path, **{"executor": "in_process", **overrides})
    return load_warehouse_job().execute_in_process(
        run_config=settings.run_config(), instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )


def run_default_load(data_raw_dir: Path, warehouse_path: Path, instance):
    """The `load_warehouse` job on the code location's executor (`make run`'s: a process per step)."""
    import dagster as dg

    from orchestration.definitions import load_warehouse_job

    return dg.execute_job(
        dg.reconstructable(load_warehouse_job),
        instance=instance,
        run_config=settings_for(data_raw_dir, warehouse_path).run_config(),
    )


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
    import dagster as dg

    root = tmp_path_factory.mktemp("loaded")
    data_raw = copy_samples(root / "data_raw")
    path = root / "warehouse" / "fiscal_2024.duckdb"  # not warehouse.duckdb: any name works
    (root / "dagster_home").mkdir()
    with dg.DagsterInstance.local_temp(str(root / "dagster_home")) as instance:
        result = run_default_load(data_raw, path, instance)
    assert result.success, [e.event_specific_data for e in result.get_step_failure_events()]
    return LoadedWarehouse(data_raw, path, result)


def pytest_sessionstart(session) -> None:
    """A fresh clone run with plain `pytest` (not `make test`) has no dbt manifest yet."""
    from orchestration.dbt_project import dbt_project

    if not dbt_project.manifest_path.exists():
        dbt_project.preparer.prepare(dbt_project)


# ------------------------------------------------------------------ pytest-xdist: one build per fixture

HEAVY_DIRS = ("tests/orchestration/", "tests/dbt/")  # full loads and dbt builds: scheduled first
NOT_IN_GROUP_NAMES = str.maketrans("[]@", "()_")


def _shared_fixtures(item) -> set[str]:
    """The module- and session-scoped fixtures of this project an item uses, with their params
    ("test_marts::gold", "::loaded_warehouse", "test_pdf_extract::rendered='lattice'"): each is
    built once in every worker process that runs a test needing it. Fixtures a test gets by name
    at run time (`request.getfixturevalue`) are declared with `@pytest.mark.gets_fixtures(...)`."""
    fixtures = item.session._fixturemanager  # pytest has no public lookup of fixture definitions
    params = getattr(getattr(item, "callspec", None), "params", {})
    names = list(item.fixturenames)
    for mark in item.iter_markers("gets_fixtures"):
        names.extend(mark.args)
    shared, seen = set(), set()
    while names:
        name = names.pop()
        if name in seen or not (defs := fixtures.getfixturedefs(name, item)):
            continue
        seen.add(name)
        fixture = defs[-1]
        names.extend(fixture.argnames)
        if fixture.scope in ("module", "session") and fixture.baseid.startswith("tests"):
            where = item.module.__name__ if fixture.scope == "module" else ""
            param = f"={params[name]!r}" if name in params else ""
            # xdist finds a group after the last "@" and past every "]" of the node id
            shared.add(f"{where}::{name}{param}".translate(NOT_IN_GROUP_NAMES))
    return shared


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist's own hook, which reads the groups
def pytest_collection_modifyitems(config, items) -> None:
    """Under `pytest -n N --dist loadgroup` (`make test`), tests that share a module or session
    fixture (a full load, a dbt build, rendered PDFs), directly or through another test's, run on
    one worker, so each is built once, not once per worker; tests sharing none spread freely.
    Heavy folders go first, so the many quick extraction tests fill the workers' ends."""
    group: dict[str, str] = {}

    def find(name: str) -> str:
        while group.setdefault(name, name) != name:
            name = group[name]
        return name

    uses = {item.nodeid: sorted(_shared_fixtures(item)) for item in items}
    for shared in uses.values():
        for other in shared[1:]:
            group[find(other)] = find(shared[0])
    for item in items:
        if uses[item.nodeid]:
            item.add_marker(pytest.mark.xdist_group(find(uses[item.nodeid][0])))
    items.sort(key=lambda item: not item.nodeid.startswith(HEAVY_DIRS))


@pytest.hookimpl(trylast=True)  # after pytest-xdist's own hook has written the groups
def pytest_collection_finish(session) -> None:
    """Say so when pytest-xdist did not take the groups (pytest 9.2 node ids, see
    pytest-dev/pytest-xdist#1386): the tests still pass, each shared build made on every worker."""
    if getattr(session.config.option, "loadgroup", False) and any(
        item.get_closest_marker("xdist_group") and "@" not in item.nodeid for item in session.items
    ):
        warnings.warn(
            "pytest-xdist ignored the xdist groups: shared fixtures are built on every worker", stacklevel=1
        )
