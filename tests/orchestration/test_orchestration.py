"""The orchestrated warehouse, end to end: real Dagster, real DuckDB files, real dbt; no mocks.

One full load over a copy of data_raw/ on the default executor (the `loaded_warehouse` session
fixture) is shared by the read-only tests; the second-load test reloads the same folder; the
change tests materialize only the ingest and landing assets (no dbt) over small folders of their
own; the Dask test loads the samples again with every step on a LocalCluster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from conftest import SAMPLES_DIR, copy_samples, run_load, settings_for
from gold import record_from_gold
from paths import FIXTURES, REPO

from extract import extract_file, iter_report_files
from extract.record import ExtractError, FileResult
from orchestration import store
from orchestration.definitions import definitions
from orchestration.extraction import landed_names
from orchestration.staging import (
    CHECK_FAMILIES,
    TABLES,
    file_row,
    land,
    land_results,
    report_id,
    stored_columns,
)
from orchestration.warehouse import write_load_state, write_published_landing

STG_REPORTS = dg.AssetKey(["raw", "reports"])


def _metadata(result, node: str, asset: str | None = None) -> dict:
    """Metadata of the materialization of `node` (of its asset `asset`, for a node with several)."""
    [event] = [
        e
        for e in result.asset_materializations_for_node(node)
        if asset is None or e.asset_key.path == [asset]
    ]
    return {key: value.value for key, value in event.metadata.items()}


ANALYST_SCHEMAS = ("raw", "staging", "intermediate", "marts")


def _snapshot(path: Path, schemas: tuple[str, ...] | None = None) -> dict[str, list[tuple]]:
    """Every table and view of the warehouse (of `schemas`, if given), rows sorted."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1, 2"
        ).fetchall()
        names = [(s, t) for s, t in names if schemas is None or s in schemas]
        return {
            f"{s}.{t}": con.execute(f'SELECT * FROM "{s}"."{t}" ORDER BY ALL').fetchall() for s, t in names
        }
    finally:
        con.close()


# ------------------------------------------------------------------ the full load


def test_full_load_publishes_the_warehouse(loaded_warehouse):
    assert loaded_warehouse.path.exists()
    build = settings_for(loaded_warehouse.data_raw_dir, loaded_warehouse.path).build_path
    assert build.name == "warehouse.duckdb" != loaded_warehouse.path.name  # any warehouse name works
    assert not build.exists(), "the build file is moved over the warehouse, not copied"
    schemas = {row[0] for row in loaded_warehouse.rows("SELECT DISTINCT schema_name FROM duckdb_tables()")}
    assert {"raw", "marts"} <= schemas
    for table in TABLES:
        assert (
            loaded_warehouse.scalar(
                f"SELECT count(*) FROM information_schema.tables WHERE "
                f"table_schema = 'raw' AND table_name = '{table}'"
            )
            == 1
        )


def test_staging_row_counts_equal_what_extract_file_gives(loaded_warehouse):
    root = loaded_warehouse.data_raw_dir
    results = [extract_file(path) for path in iter_report_files([root])]
    by_content: dict[tuple, FileResult] = {}
    for result in results:
        if result.records:
            by_content.setdefault((result.sha256, result.kind), result)
    records = [record for result in by_content.values() for record in result.records]
    expected = {
        "reports": len(records),
        "funding_lines": sum(len(r.funding) for r in records),
        "indicators": sum(len(r.indicators) for r in records),
        "checks": sum(len(r.checks) for r in records),
        "extract_errors": sum(len(r.errors) if (r.errors or r.records) else 1 for r in results),
    }
    actual = {table: loaded_warehouse.scalar(f"SELECT count(*) FROM raw.{table}") for table in TABLES}
    assert actual == expected
    assert expected["reports"] > 0
    files = _metadata(loaded_warehouse.result, "report_files")["files"]
    assert files == len(results) == len(list(iter_report_files([SAMPLES_DIR])))


def test_known_values(loaded_warehouse):
    # 对口扶贫支援类 (Jiading 人社局): 年度资金总额 executed 21.38; 转移脱贫劳动力 scored 8 of 10.
    # Every copy of the form in data_raw (department PDF, single PDF, text dump) must agree.
    executed = loaded_warehouse.rows(
        "SELECT f.executed, f.execution_rate_pct, f.score FROM raw.funding_lines f "
        "JOIN raw.reports r USING (report_id) "
        "WHERE r.project_name = '对口扶贫支援类' AND f.line = '年度资金总额'"
    )
    assert executed and set(executed) == {(21.38, 85.93, 8.59)}
    indicator = loaded_warehouse.rows(
        "SELECT i.target, i.actual, i.weight, i.score, i.target_op, i.target_value "
        "FROM raw.indicators i JOIN raw.reports r USING (report_id) "
        "WHERE r.project_name = '对口扶贫支援类' AND i.level3 = '转移脱贫劳动力'"
    )
    assert indicator and set(indicator) == {("=120.00(人)", "736.00(人)", 10.0, 8.0, "=", 120.0)}
    totals = loaded_warehouse.rows(
        "SELECT DISTINCT total_weight, total_score, grade FROM raw.reports "
        "WHERE project_name = '对口扶贫支援类'"
    )
    assert totals == [(100.0, 96.59, "优")]
    # the same through the dbt layer: staging view and a mart
    assert loaded_warehouse.scalar(
        "SELECT count(*) FROM staging.stg_extract__funding_lines f JOIN staging.stg_extract__reports r "
        "USING (report_id) WHERE r.project_name = '对口扶贫支援类' AND f.line_no = 1 AND f.executed = 21.38"
    ) == len(executed)
    assert loaded_warehouse.scalar("SELECT count(*) FROM marts.fct_funding_execution") > 0


def test_report_ids_are_content_keys(loaded_warehouse):
    rows = loaded_warehouse.rows(
        "SELECT report_id, sha256, form_index, source_file, source_files FROM raw.reports"
    )
    for rid, sha, form_index, source_file, source_files in rows:
        assert rid == report_id(sha, form_index) == f"{sha[:16]}-{form_index:02d}"
        assert source_file == source_files[0] and source_files == sorted(source_files)
    department_pdf = [r for r in rows if r[3].startswith("pdf/jiading_")]
    assert len(department_pdf) > 1, "the department PDF holds many forms"
    assert sorted(r[2] for r in department_pdf) == list(range(1, len(department_pdf) + 1))


def test_record_checks_and_extraction_errors_are_asset_checks(loaded_warehouse):
    evaluations = loaded_warehouse.result.get_asset_check_evaluations()
    on_reports = {e.check_name: e for e in evaluations if e.asset_key == STG_REPORTS}
    assert set(on_reports) == {*CHECK_FAMILIES, "extraction_errors"}
    assert {e.severity for e in on_reports.values()} == {dg.AssetCheckSeverity.WARN}
    for family in CHECK_FAMILIES:
        failing = loaded_warehouse.scalar(
            "SELECT count(DISTINCT report_id) FROM raw.checks WHERE NOT passed AND "
            "regexp_replace(check_name, '\\[\\d+\\]$', '') = ?",
            [family],
        )
        evaluation = on_reports[family]
        assert evaluation.metadata["failing_reports"].value == failing
        assert evaluation.passed == (failing == 0)
    errors = loaded_warehouse.scalar("SELECT count(*) FROM raw.extract_errors")
    assert on_reports["extraction_errors"].metadata["errors"].value == errors
    # dbt tests arrive as asset checks on the models they test
    dbt_checks = {(e.asset_key, e.check_name): e.passed for e in evaluations}
    assert dbt_checks[
        (dg.AssetKey(["staging", "stg_extract__reports"]), "unique_stg_extract__reports_report_id")
    ]


def test_asset_metadata(loaded_warehouse):
    result = loaded_warehouse.result
    files = _metadata(result, "report_files")
    assert files["files"] > 0 and "preview" in files
    extracted = _metadata(result, "extracted_reports")
    assert extracted["files"] == files["files"]
    assert extracted["shards"] == 2  # one extraction step per core
    # identical content under two names is read once
    distinct = loaded_warehouse.scalar("SELECT count(DISTINCT (sha256, source_kind)) FROM raw.reports")
    assert extracted["files_read"] == distinct and extracted["store_hits"] == 0
    staged = {
        tuple(event.asset_key.path): event.metadata["dagster/row_count"].value
        for event in result.asset_materializations_for_node("staging_tables")
    }
    for table in TABLES:
        assert staged[("raw", table)] == loaded_warehouse.scalar(f"SELECT count(*) FROM raw.{table}")
    published = _metadata(result, "warehouse_published", "warehouse_published")
    assert published["mart_rows"]["marts.fct_funding_execution"] > 0


def _dbt_invocations(run_id: str) -> list[Path]:
    """The target folders dagster-dbt made for dbt invocations of run `run_id` (named after it:
    other tests' runs, on other xdist workers, make theirs at the same time)."""
    from orchestration.dbt_project import dbt_project

    return list((dbt_project.project_dir / dbt_project.target_path).glob(f"dbt_models-{run_id[:7]}-*"))


def test_a_reload_with_nothing_changed_reads_nothing_runs_no_dbt_and_publishes_nothing(loaded_warehouse):
    before = _snapshot(loaded_warehouse.path)
    published = loaded_warehouse.path.stat()
    result = run_load(loaded_warehouse.data_raw_dir, loaded_warehouse.path)
    assert result.success
    [observation] = result.asset_observations_for_node("report_files")
    assert observation.metadata["up_to_date"].value is True
    assert observation.metadata["files"].value == _metadata(loaded_warehouse.result, "report_files")["files"]
    for node in ("extracted_reports", "staging_tables", "dbt_models", "warehouse_published"):
        assert not result.asset_materializations_for_node(node), node
    assert result.is_node_skipped("staging_tables") and result.is_node_skipped("warehouse_published")
    assert not _dbt_invocations(result.run_id), "dbt ran"
    after = loaded_warehouse.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (published.st_ino, published.st_mtime_ns), "republished"
    assert _snapshot(loaded_warehouse.path) == before


def _command_line_load(data_raw: Path, warehouse: Path, **env: str) -> subprocess.CompletedProcess:
    """`python -m orchestration.load` (what `make run` runs) with these settings in its environment."""
    environ = {k: v for k, v in os.environ.items() if k not in ("DAGSTER_HOME", "WAREHOUSE_BUILD_PATH")}
    environ |= {"DATA_RAW_DIR": str(data_raw), "WAREHOUSE_PATH": str(warehouse), **env}
    return subprocess.run(
        [sys.executable, "-m", "orchestration.load"],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=900,
    )


def test_the_command_line_load_starts_no_run_when_nothing_changed(loaded_warehouse, tmp_path):
    """`python -m orchestration.load` over the loaded folder: no run, the summary says why."""
    published = loaded_warehouse.path.stat()
    done = _command_line_load(loaded_warehouse.data_raw_dir, loaded_warehouse.path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "none changed since the published load: none read, marts not rebuilt" in done.stdout
    assert "Warehouse up to date; nothing loaded" in done.stdout
    assert loaded_warehouse.path.stat().st_ino == published.st_ino


# ------------------------------------------------------------------ changes between loads


PDFS = SAMPLES_DIR / "pdf" / "single"


def _stage_only(data_raw: Path, warehouse: Path, **overrides):
    """Materialize files → extraction → landing (no dbt, a stage-only run: nothing published);
    returns (result, reports, errors)."""
    from orchestration.defs.assets.extraction import extracted_reports
    from orchestration.defs.assets.files import report_files
    from orchestration.defs.assets.landing import STAGE_ONLY_TAG, staging_tables

    settings = settings_for(data_raw, warehouse, **{"executor": "in_process", **overrides})
    result = dg.materialize(
        [report_files, extracted_reports, staging_tables],
        instance=dg.DagsterInstance.ephemeral(),
        resources={"settings": settings},
        tags={STAGE_ONLY_TAG: "true"},
    )
    build = settings.build_path
    con = duckdb.connect(str(build), read_only=True)
    try:
        reports = con.execute(
            "SELECT report_id, source_file, source_files, project_name FROM raw.reports"
        ).fetchall()
        errors = con.execute("SELECT file, error_class FROM raw.extract_errors").fetchall()
    finally:
        con.close()
    return result, reports, errors


def test_changed_new_removed_and_duplicate_files(tmp_path):
    data_raw = tmp_path / "data_raw"
    (data_raw / "pdf").mkdir(parents=True)
    shutil.copy(PDFS / "jd-01_lattice_compact.pdf", data_raw / "pdf" / "a.pdf")
    shutil.copy(PDFS / "jd-05_hrules_ordered.pdf", data_raw / "pdf" / "b.pdf")
    shutil.copy(PDFS / "sj-04_lattice.pdf", data_raw / "pdf" / "c.pdf")
    (data_raw / "empty.pdf").write_bytes(b"")
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"

    result, reports, errors = _stage_only(data_raw, warehouse)
    assert result.success
    assert _metadata(result, "extracted_reports")["files_read"] == 4
    assert {r[1] for r in reports} == {"pdf/a.pdf", "pdf/b.pdf", "pdf/c.pdf"}
    assert errors == [("empty.pdf", "empty_file")]
    old_b = next(r[0] for r in reports if r[1] == "pdf/b.pdf")

    # b.pdf changes content, c.pdf is removed, d.pdf is new, and a.pdf arrives again under a name
    # with spaces and Chinese characters.
    shutil.copy(PDFS / "jd-07_lattice_compact.pdf", data_raw / "pdf" / "b.pdf")
    (data_raw / "pdf" / "c.pdf").unlink()
    shutil.copy(PDFS / "jd-04_scrambled.pdf", data_raw / "pdf" / "d.pdf")
    shutil.copy(PDFS / "jd-01_lattice_compact.pdf", data_raw / "pdf" / "a 副本.pdf")

    result, reports, errors = _stage_only(data_raw, warehouse)
    extracted = _metadata(result, "extracted_reports")
    assert extracted["files_read"] == 2  # b (changed) and d (new)
    assert extracted["store_hits"] == 3  # a, its copy (same content), empty.pdf
    by_file = {r[1]: r for r in reports}
    assert set(by_file) == {"pdf/a 副本.pdf", "pdf/b.pdf", "pdf/d.pdf"}
    assert by_file["pdf/a 副本.pdf"][2] == ["pdf/a 副本.pdf", "pdf/a.pdf"]  # one report, both names
    assert by_file["pdf/b.pdf"][0] != old_b  # the changed file's rows replaced
    assert old_b not in {r[0] for r in reports}
    assert by_file["pdf/b.pdf"][3] == extract_file(data_raw / "pdf" / "b.pdf").records[0].project_name
    assert errors == [("empty.pdf", "empty_file")]


def test_one_changed_file_among_many_is_the_only_one_read(tmp_path):
    data_raw = copy_samples(tmp_path / "data_raw")
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    result, before, _ = _stage_only(data_raw, warehouse)
    assert result.success
    files = _metadata(result, "report_files")["files"]
    changed = data_raw / "text" / "jd-09.txt"
    old_ids = {r[0] for r in before if r[1] == "text/jd-09.txt"}
    changed.write_text(changed.read_text(encoding="utf-8").replace("2024年度", "2023年度"), encoding="utf-8")

    result, after, _ = _stage_only(data_raw, warehouse)
    extracted = _metadata(result, "extracted_reports")
    assert (extracted["files_read"], extracted["store_hits"]) == (1, files - 1)
    assert "text/jd-09.txt" in extracted["read"]
    new_ids = {r[0] for r in after if r[1] == "text/jd-09.txt"}
    assert new_ids and not new_ids & old_ids
    assert {r[0] for r in after} == ({r[0] for r in before} - old_ids) | new_ids
    [reports] = [
        e
        for e in result.asset_materializations_for_node("staging_tables")
        if e.asset_key.path[-1] == "reports"
    ]
    # no warehouse was published between the two stagings, so every report counts as added
    assert reports.metadata["report_changes"].value == {"added": len(after)}


# ------------------------------------------------------------------ executors


@pytest.mark.slow
def test_a_load_on_a_dask_cluster_gives_the_same_warehouse(loaded_warehouse, tmp_path, monkeypatch):
    """Every step on a dask.distributed LocalCluster of 2 workers (the `existing` scheduler path a
    real cluster takes), through `python -m orchestration.load`: the same tables, row for row. The
    instance is `make run`'s (the project's dagster.yaml), and the workers have DAGSTER_HOME set,
    as the README asks of every worker host."""
    import dask
    from dask.distributed import Client, LocalCluster

    data_raw = copy_samples(tmp_path / "data_raw")
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    (tmp_path / "dagster_home").mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.yaml", tmp_path / "dagster_home" / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))  # the workers inherit it
    with dask.config.set({"distributed.worker.daemon": False}):
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            resources={"warehouse": 1},
            dashboard_address=None,
        )
    try:
        done = _command_line_load(
            data_raw,
            warehouse,
            DAGSTER_HOME=str(tmp_path / "dagster_home"),
            LOAD_EXECUTOR="dask",
            DASK_SCHEDULER_ADDRESS=cluster.scheduler_address,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        assert "(dask executor)" in done.stdout and "Load published" in done.stdout
        with Client(cluster) as client:
            worker_pids = set(client.run(os.getpid).values())
    finally:
        cluster.close()
    # every step ran in a worker of the cluster (which ones is the scheduler's choice)
    instance = dg.DagsterInstance.from_config(str(tmp_path / "dagster_home"))
    [run] = instance.get_runs()
    starts = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
    assert {e.dagster_event.pid for e in starts} <= worker_pids
    assert {e.step_key for e in starts} >= {
        "extracted_reports.extract_shard_0",
        "extracted_reports.extract_shard_1",
    }
    assert _snapshot(warehouse, ANALYST_SCHEMAS) == _snapshot(loaded_warehouse.path, ANALYST_SCHEMAS)


# ------------------------------------------------------------------ schedule and sensor


def test_nightly_schedule_runs_the_whole_graph_unless_the_warehouse_is_up_to_date(loaded_warehouse, tmp_path):
    from orchestration.defs.schedules import nightly_load_schedule

    tick = datetime(2025, 3, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert nightly_load_schedule.cron_schedule == "0 2 * * *"
    assert nightly_load_schedule.execution_timezone == "Asia/Shanghai"
    assert nightly_load_schedule.job_name == "load_warehouse"

    def evaluate(settings):
        context = dg.build_schedule_context(scheduled_execution_time=tick, resources={"settings": settings})
        return nightly_load_schedule.evaluate_tick(context)

    fresh = settings_for(loaded_warehouse.data_raw_dir, tmp_path / "new" / "warehouse.duckdb")
    [request] = evaluate(fresh).run_requests
    # the settings travel with the run; every file is to be read: step processes
    assert request.run_config == {**fresh.run_config(), "execution": {"config": {"in_process": False}}}
    up_to_date = evaluate(settings_for(loaded_warehouse.data_raw_dir, loaded_warehouse.path))
    assert not up_to_date.run_requests and "up to date" in up_to_date.skip_message
    job = definitions().resolve_job_def("load_warehouse")
    graph = definitions().resolve_asset_graph()
    assert set(job.asset_layer.selected_asset_keys) == set(graph.materializable_asset_keys)


def test_sensor_fires_for_new_and_changed_files_only(tmp_path):
    from orchestration.defs.sensors import report_files_sensor

    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    shutil.copy(PDFS / "jd-01_lattice_compact.pdf", data_raw / "a.pdf")
    (data_raw / "notes.csv").write_text("not a report")
    settings = settings_for(data_raw, tmp_path / "warehouse.duckdb")

    def tick(cursor):
        context = dg.build_sensor_context(cursor=cursor, resources={"settings": settings})
        data = report_files_sensor.evaluate_tick(context)
        return data, data.cursor

    first, cursor = tick(None)  # nothing seen before: the files are new
    assert len(first.run_requests) == 1 and first.run_requests[0].job_name in (None, "load_warehouse")
    # the settings travel with the run; one file to read: every step in the run's own process
    in_process = settings.model_copy(update={"executor": "in_process"})
    assert first.run_requests[0].run_config == {
        **in_process.run_config(),
        "execution": {"config": {"in_process": True}},
    }
    assert set(json.loads(cursor)["files"]) == {"a.pdf"}

    unchanged, cursor = tick(cursor)
    assert not unchanged.run_requests and unchanged.skip_message

    (data_raw / "a.pdf").touch()  # new mtime, same bytes: not a change
    touched, cursor = tick(cursor)
    assert not touched.run_requests

    shutil.copy(PDFS / "sj-04_lattice.pdf", data_raw / "b.pdf")
    new, cursor = tick(cursor)
    assert len(new.run_requests) == 1
    assert "1 new" in new.run_requests[0].tags["report_files_changes"]

    shutil.copy(PDFS / "jd-05_hrules_ordered.pdf", data_raw / "a.pdf")
    changed, cursor = tick(cursor)
    assert len(changed.run_requests) == 1
    assert "1 changed" in changed.run_requests[0].tags["report_files_changes"]
    assert changed.run_requests[0].run_key != new.run_requests[0].run_key

    again, cursor = tick(cursor)
    assert not again.run_requests

    # A change back to an earlier state starts a load too, under a run key never used before
    # (Dagster skips a request whose run key it has seen).
    keys = {r.run_key for r in (first, new, changed) for r in r.run_requests}
    moved = data_raw.parent / "b.pdf.away"
    for change in (
        lambda: (data_raw / "b.pdf").rename(moved),  # removed …
        lambda: moved.rename(data_raw / "b.pdf"),  # … and restored
        lambda: shutil.copy(PDFS / "jd-01_lattice_compact.pdf", data_raw / "a.pdf"),  # changed …
        lambda: shutil.copy(PDFS / "jd-05_hrules_ordered.pdf", data_raw / "a.pdf"),  # … and reverted
    ):
        change()
        data, cursor = tick(cursor)
        [request] = data.run_requests
        assert request.run_key not in keys
        keys.add(request.run_key)


# ------------------------------------------------------------------ definitions and lineage


def test_definitions_load_and_every_definition_resolves():
    defs = definitions()
    dg.Definitions.validate_loadable(defs)
    assert [job.name for job in defs.resolve_all_job_defs() if not job.name.startswith("__")] == [
        "load_warehouse"
    ]
    assert defs.resolve_schedule_def("nightly_load").job_name == "load_warehouse"
    assert defs.resolve_sensor_def("report_files_sensor").job_name == "load_warehouse"
    graph = defs.resolve_asset_graph()
    assert {"report_files", "extracted_reports", "warehouse_published"} <= {
        k.to_user_string() for k in graph.get_all_asset_keys()
    }
    job = defs.resolve_job_def("load_warehouse")
    assert job.executor_def.name == "multiprocess"  # the default: this machine's cores
    assert set(job.resource_defs) >= {"settings", "dbt"}
    # the pyproject.toml project declaration finds the same definitions
    from dagster.components.core.component_tree import ComponentTree

    tree = ComponentTree.for_project(REPO / "orchestration")
    assert tree.defs_module.__name__ == "orchestration.defs"


def test_every_singular_dbt_test_is_an_asset_check():
    """A singular test that refs several models is a check of the model its meta names (dagster-dbt
    logs it as a mere observation otherwise): each one in dbt_project/tests/ is a check."""
    from orchestration.settings import DBT_PROJECT_DIR

    singular = {p.stem for p in (DBT_PROJECT_DIR / "tests").glob("*.sql")}
    checks = {k.name for k in definitions().resolve_asset_graph().asset_check_keys}
    assert singular and singular <= checks, sorted(singular - checks)


def test_executor_follows_the_one_setting():
    from orchestration.defs.resources import executor_for
    from orchestration.settings import Settings

    assert executor_for(Settings()).name == "multiprocess"
    assert executor_for(Settings(executor="in_process")).name == "in_process"
    # a multiprocess load with few files to read runs in process (LOAD_IN_PROCESS_FILES)
    assert Settings().for_load(20).executor == "in_process"
    assert Settings().for_load(21).executor == Settings().for_load(None).executor == "multiprocess"
    assert Settings(in_process_files=0).for_load(1).executor == "multiprocess"
    assert Settings(executor="dask").for_load(1).launch_config() == Settings(executor="dask").run_config()
    dask = executor_for(Settings(executor="dask"), environ={"DASK_SCHEDULER_ADDRESS": "tcp://scheduler:8786"})
    assert dask.name == "dask"


def test_every_mart_is_downstream_of_the_files_asset():
    from orchestration.dbt_project import dbt_project

    graph = definitions().resolve_asset_graph()
    manifest = json.loads(dbt_project.manifest_path.read_text(encoding="utf-8"))
    marts = [
        dg.AssetKey([node["schema"], node["name"]])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    ]
    assert {"fct_funding_execution", "fct_indicator_outcomes", "fct_deductions"} <= {k.path[1] for k in marts}
    files = dg.AssetKey("report_files")
    published = dg.AssetKey("warehouse_published")
    for mart in marts:
        upstream = dg.AssetSelection.assets(mart).upstream().resolve(graph)
        assert files in upstream, mart
        assert {dg.AssetKey("extracted_reports"), STG_REPORTS} <= upstream, mart
        assert mart in graph.get(published).parent_keys
    # dbt sources are the landing assets, not separate stubs
    assert graph.get(dg.AssetKey(["staging", "stg_extract__reports"])).parent_keys == {STG_REPORTS}
    assert graph.get(STG_REPORTS).parent_keys == {dg.AssetKey("extracted_reports")}
    groups = {graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups == {"ingest", "staging", "marts"}


# ------------------------------------------------------------------ pure parts


@pytest.fixture(scope="module")
def gold_results() -> list[FileResult]:
    gold = {g["key"]: g for g in json.loads((FIXTURES / "reports.json").read_text(encoding="utf-8"))}
    sha_a, sha_b = "a" * 64, "b" * 64
    two_forms = FileResult(
        "dept.pdf",
        sha_a,
        "pdf",
        [
            record_from_gold(gold["jd-01"], "dept.pdf", sha_a, 1),
            record_from_gold(gold["jd-03"], "dept.pdf", sha_a, 2),
        ],
    )
    copy = FileResult(
        "copy of dept.pdf",
        sha_a,
        "pdf",
        [
            record_from_gold(gold["jd-01"], "copy of dept.pdf", sha_a, 1),
            record_from_gold(gold["jd-03"], "copy of dept.pdf", sha_a, 2),
        ],
    )
    single = FileResult("single.pdf", sha_b, "pdf", [record_from_gold(gold["jd-04"], "single.pdf", sha_b, 1)])
    broken = FileResult(
        "broken.pdf", "c" * 64, "pdf", errors=[ExtractError("broken.pdf", "c" * 64, "not_pdf", "no header")]
    )
    formless = FileResult("blank.pdf", "d" * 64, "pdf")
    return [single, broken, two_forms, formless, copy]


def _landed(results: list[FileResult], scratch: Path) -> dict[str, list[dict]]:
    con = duckdb.connect()
    try:
        land_results(con, results, scratch)
        tables = {}
        for table in TABLES:
            cursor = con.execute(f"SELECT * FROM raw.{table}")
            names = [d[0] for d in cursor.description]
            tables[table] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return tables
    finally:
        con.close()


def test_landing_tables_from_records(gold_results, tmp_path):
    tables = _landed(gold_results, tmp_path)
    con = duckdb.connect()
    land_results(con, gold_results, tmp_path / "again")
    for table, columns in TABLES.items():  # the declared columns and types, in order
        described = con.execute(f"DESCRIBE raw.{table}").fetchall()
        assert [(row[0], row[1]) for row in described] == [(n, t) for n, t in columns], table
    con.close()
    reports = {r["report_id"]: r for r in tables["reports"]}
    assert list(reports) == ["aaaaaaaaaaaaaaaa-01", "aaaaaaaaaaaaaaaa-02", "bbbbbbbbbbbbbbbb-01"]
    assert reports["aaaaaaaaaaaaaaaa-01"]["source_files"] == ["copy of dept.pdf", "dept.pdf"]
    assert reports["aaaaaaaaaaaaaaaa-01"]["source_file"] == "copy of dept.pdf"
    assert reports["aaaaaaaaaaaaaaaa-01"]["project_name"] == "对口扶贫支援类"
    assert reports["aaaaaaaaaaaaaaaa-01"]["n_indicators"] == 8
    funding = tables["funding_lines"]
    [line1] = [f for f in funding if f["report_id"] == "aaaaaaaaaaaaaaaa-01" and f["line_no"] == 1]
    assert (line1["line"], line1["executed"], line1["score"]) == ("年度资金总额", 21.38, 8.59)
    assert len(funding) == 4 * 3
    [transfer] = [i for i in tables["indicators"] if i["level3"] == "转移脱贫劳动力"][:1]
    assert (transfer["indicator_no"], transfer["score"], transfer["target_kind"]) == (2, 8.0, "quantitative")
    assert (transfer["target_op"], transfer["target_value"], transfer["actual_value"]) == ("=", 120.0, 736.0)
    errors = tables["extract_errors"]
    assert [(e["file"], e["error_class"]) for e in errors] == [
        ("blank.pdf", "no_form"),
        ("broken.pdf", "not_pdf"),
    ]
    checks = tables["checks"]
    assert len({(c["report_id"], c["check_name"]) for c in checks}) == len(checks)
    assert {c["report_id"] for c in checks} == set(reports)


def test_landing_tables_are_deterministic(gold_results, tmp_path):
    assert _landed(gold_results, tmp_path / "a") == _landed(list(reversed(gold_results)), tmp_path / "b")


def _raw_tables(con) -> dict[str, list[tuple]]:
    return {t: con.execute(f"SELECT * FROM raw.{t} ORDER BY ALL").fetchall() for t in TABLES}


def _entries_table(con, pairs: list[tuple[str, str]]) -> None:
    con.execute("CREATE OR REPLACE TABLE e (name VARCHAR, entry VARCHAR)")
    if pairs:
        con.executemany("INSERT INTO e VALUES (?, ?)", pairs)


def _names(load: dict[str, str], entry: str) -> set[str]:
    return {name for name, e in load.items() if e == entry}


def test_landing_only_the_changed_entries_gives_the_tables_of_landing_them_all(gold_results, tmp_path):
    """`land` on tables that hold an earlier landing (as a copy of the published warehouse does)
    touches only the entries that are new, gone or under other names, and ends with the rows a
    landing of every entry gives — through names added to and taken from an entry, a name moving
    to other content, new and removed files, a folder error of one run; an entry it need not land
    again is not even opened."""
    single, broken, two_forms, formless, _ = gold_results
    paths = {}
    for result in (single, broken, two_forms, formless):
        row = file_row(result)
        paths[result.path] = str(
            store.write_entry(tmp_path / f"{result.path}.parquet", result.sha256, "pdf", row)
        )
    folder_error = {
        "forms": [],
        "errors": [{"sha256": None, "error_class": "not_found", "message": "m", "pages": []}],
    }
    paths["folder"] = str(
        store.write_entry(tmp_path / "run-2" / "folder.parquet", "", "folder", folder_error)
    )
    loads = [
        {
            "single.pdf": "single.pdf",
            "broken.pdf": "broken.pdf",
            "dept.pdf": "dept.pdf",
            "blank.pdf": "blank.pdf",
        },
        {  # dept.pdf gains a copy; single.pdf's name now holds broken.pdf's content; blank.pdf goes
            "single.pdf": "broken.pdf",
            "dept.pdf": "dept.pdf",
            "sub/copy of dept.pdf": "dept.pdf",
            "new.pdf": "single.pdf",
            "locked/": "folder",
        },
        {"dept.pdf": "dept.pdf", "new.pdf": "single.pdf", "blank.pdf": "blank.pdf"},  # the copy goes
        {},
    ]
    con = duckdb.connect(str(tmp_path / "copy.duckdb"))
    previous, not_opened = None, 0
    for number, load in enumerate(loads):
        pairs = [(name, paths[entry]) for name, entry in load.items()]
        full = duckdb.connect()
        _entries_table(full, pairs)
        expected_counts = land(full, "e")
        expected = _raw_tables(full)
        full.close()
        # entries under the same names as before must not be read
        hidden = [
            Path(paths[e]) for e in set(load.values()) if previous and _names(previous, e) == _names(load, e)
        ]
        not_opened += len(hidden)
        for path in hidden:
            path.rename(path.with_suffix(".away"))
        _entries_table(con, pairs)
        counts = land(con, "e", landed="landed" if previous is not None else None)
        for path in hidden:
            path.with_suffix(".away").rename(path)
        con.execute("CREATE OR REPLACE TABLE landed AS SELECT * FROM e")
        assert (counts, _raw_tables(con)) == (expected_counts, expected), number
        previous = load
    assert not_opened and expected_counts == dict.fromkeys(TABLES, 0)
    con.close()


def test_the_published_landing_is_handed_on_only_to_the_code_that_built_it(gold_results, tmp_path):
    """`write_published_landing` writes the (name, entry) pairs the published warehouse was landed
    from, as the extraction reads them (`landed_names`), when the same code version built it; for
    other code, or no warehouse, nothing (every entry is then verified again)."""
    entry = str(
        store.write_entry(tmp_path / "e.parquet", gold_results[0].sha256, "pdf", file_row(gold_results[0]))
    )
    published = tmp_path / "warehouse.duckdb"
    settings = settings_for(tmp_path, published)
    assert not write_published_landing(settings, "v1", tmp_path / "none.parquet")
    con = duckdb.connect(str(published))
    _entries_table(con, [("a.pdf", entry), ("sub/a.pdf", entry)])
    land(con, "e")
    write_load_state(con, "fingerprint", tmp_path / "previous.duckdb", code_version="v1", entries="e")
    con.close()
    assert write_published_landing(settings, "v1", tmp_path / "v1" / "landed.parquet")
    assert landed_names(tmp_path / "v1" / "landed.parquet", {entry, "other"}) == {
        entry: {"a.pdf", "sub/a.pdf"}
    }
    assert not write_published_landing(settings, "v2", tmp_path / "v2" / "landed.parquet")
    assert not (tmp_path / "v2").exists()


def test_store_entries_round_trip_with_their_checksum(gold_results, tmp_path):
    for result in gold_results:
        row = file_row(result)
        # the row holds exactly the stored columns of the declaration
        for form in row["forms"]:
            parts = {"funding_lines", "indicators", "checks"}
            assert set(form) - parts == {name for name, _ in stored_columns("reports")}
            for part in parts:
                for child in form[part]:
                    assert set(child) == {name for name, _ in stored_columns(part)}, part
        path = store.write_entry(tmp_path / f"{result.path}.parquet", result.sha256, result.kind, row)
        assert store.verify_entry(path) is None
        meta = store.entry_metadata(path)
        assert meta["schema_version"] == str(store.SCHEMA_VERSION)
        assert (meta["sha256"], meta["kind"], meta["results_version"]) == (
            result.sha256,
            result.kind,
            store.results_version(),
        )
    # an entry edited by hand no longer verifies
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    edited = table.to_pylist()
    edited[0]["forms"][0]["project_name"] = "改过的项目"
    pq.write_table(type(table).from_pylist(edited, schema=table.schema), path)
    assert store.verify_entry(path) == "checksum does not match the content"


def test_store_entries_of_read_pdfs_verify(tmp_path):
    """A PDF's forms carry a glyph report (a MAP column: the reasons glyphs were set aside): the
    entry written for it verifies as read back, so the file is served from the store next time."""
    [pdf] = [p for p in iter_report_files([SAMPLES_DIR]) if p.name == "jd-04_scrambled.pdf"]
    result = extract_file(pdf)
    row = file_row(result)
    assert any(form["glyphs_set_aside"] is not None for form in row["forms"])
    path = store.write_entry(tmp_path / "jd-04.parquet", result.sha256, result.kind, row)
    assert store.verify_entry(path, result.sha256, result.kind) is None


def test_sample_copy_is_complete(tmp_path):
    copied = copy_samples(tmp_path / "data_raw")
    names = [p.relative_to(copied) for p in iter_report_files([copied])]
    assert names == [p.relative_to(SAMPLES_DIR) for p in iter_report_files([SAMPLES_DIR])]


def test_the_dbt_resource_knows_the_version_dbt_reports():
    """The dbt step takes dbt-core's version from the installed package (no `dbt --version`
    process); it must be what that dbt executable says of itself."""
    from orchestration.defs.resources import dbt_resource

    resource = dbt_resource()
    reported = subprocess.run([resource.dbt_executable, "--version"], capture_output=True, text=True)
    assert f"installed: {resource._cli_version}" in reported.stdout, reported.stdout
