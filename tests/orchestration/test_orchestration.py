"""The orchestrated warehouse, end to end: real Dagster, real DuckDB files, real dbt; no mocks.

One full load over a copy of data_raw/ (the `loaded_warehouse` session fixture) is shared by the
read-only tests; the second-load test reloads the same folder; the change test materializes only
the ingest and staging assets (no dbt) over a small folder of its own.
"""

from __future__ import annotations

import json
import shutil
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from conftest import SAMPLES_DIR, copy_samples, run_load, warehouse_env
from gold import record_from_gold
from paths import FIXTURES

from extract import extract_file, iter_report_files
from extract.record import ExtractError, FileResult
from orchestration import settings
from orchestration.extract_cache import file_result_from_dict, file_result_to_dict
from orchestration.staging import CHECK_FAMILIES, TABLES, report_id, staging_frames

STG_REPORTS = dg.AssetKey(["raw", "reports"])


def _metadata(result, node: str) -> dict:
    [event] = result.asset_materializations_for_node(node)
    return {key: value.value for key, value in event.metadata.items()}


def _snapshot(path: Path) -> dict[str, list[tuple]]:
    """Every table and view of the warehouse, rows sorted: a load's full content."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() UNION ALL "
            "SELECT schema_name, view_name FROM duckdb_views() WHERE NOT internal ORDER BY 1, 2"
        ).fetchall()
        return {
            f"{s}.{t}": con.execute(f'SELECT * FROM "{s}"."{t}" ORDER BY ALL').fetchall() for s, t in names
        }
    finally:
        con.close()


# ------------------------------------------------------------------ the full load


def test_full_load_publishes_the_warehouse(loaded_warehouse):
    assert loaded_warehouse.path.exists()
    build = loaded_warehouse.path.parent / ".build" / loaded_warehouse.path.name
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
    assert extracted["files_read"] + extracted["cache_hits"] == extracted["files"]
    assert extracted["forms"] >= loaded_warehouse.scalar("SELECT count(*) FROM raw.reports")
    staged = {
        tuple(event.asset_key.path): event.metadata["dagster/row_count"].value
        for event in result.asset_materializations_for_node("staging_tables")
    }
    for table in TABLES:
        assert staged[("raw", table)] == loaded_warehouse.scalar(f"SELECT count(*) FROM raw.{table}")
    published = _metadata(result, "warehouse_published")
    assert published["mart_rows"]["marts.fct_funding_execution"] > 0


def test_second_load_extracts_nothing_and_gives_identical_tables(loaded_warehouse):
    before = _snapshot(loaded_warehouse.path)
    started = time.monotonic()
    result = run_load(loaded_warehouse.data_raw_dir, loaded_warehouse.path)
    elapsed = time.monotonic() - started
    assert result.success
    extracted = _metadata(result, "extracted_reports")
    assert extracted["files_read"] == 0
    assert extracted["cache_hits"] == extracted["files"] > 0
    after = _snapshot(loaded_warehouse.path)
    assert after.keys() == before.keys()
    for name in before:
        assert after[name] == before[name], name
    print(f"second load: {elapsed:.1f}s")


# ------------------------------------------------------------------ changes between loads


PDFS = SAMPLES_DIR / "pdf" / "single"


def _stage_only(data_raw: Path, warehouse: Path):
    """Materialize files → extraction → staging (no dbt); returns (result, staged reports)."""
    from orchestration.assets.extraction import extracted_reports
    from orchestration.assets.files import report_files
    from orchestration.assets.staging import staging_tables

    with warehouse_env(data_raw, warehouse):
        result = dg.materialize(
            [report_files, extracted_reports, staging_tables], instance=dg.DagsterInstance.ephemeral()
        )
        build = settings.build_path()
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
    assert extracted["cache_hits"] == 3  # a, its copy (same content), empty.pdf
    by_file = {r[1]: r for r in reports}
    assert set(by_file) == {"pdf/a 副本.pdf", "pdf/b.pdf", "pdf/d.pdf"}
    assert by_file["pdf/a 副本.pdf"][2] == ["pdf/a 副本.pdf", "pdf/a.pdf"]  # one report, both names
    assert by_file["pdf/b.pdf"][0] != old_b  # the changed file's rows replaced
    assert old_b not in {r[0] for r in reports}
    assert by_file["pdf/b.pdf"][3] == extract_file(data_raw / "pdf" / "b.pdf").records[0].project_name
    assert errors == [("empty.pdf", "empty_file")]


# ------------------------------------------------------------------ schedule and sensor


def test_nightly_schedule_runs_the_whole_graph():
    from orchestration.definitions import defs
    from orchestration.schedules import nightly_load_schedule

    assert nightly_load_schedule.cron_schedule == "0 2 * * *"
    assert nightly_load_schedule.execution_timezone == "Asia/Shanghai"
    assert nightly_load_schedule.job_name == "load_warehouse"
    tick = datetime(2025, 3, 1, 2, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    data = nightly_load_schedule.evaluate_tick(dg.build_schedule_context(scheduled_execution_time=tick))
    assert len(data.run_requests) == 1
    job = defs.resolve_job_def("load_warehouse")
    graph = defs.resolve_asset_graph()
    assert set(job.asset_layer.selected_asset_keys) == set(graph.materializable_asset_keys)


def test_sensor_fires_for_new_and_changed_files_only(tmp_path):
    from orchestration.sensors import report_files_sensor

    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    shutil.copy(PDFS / "jd-01_lattice_compact.pdf", data_raw / "a.pdf")
    (data_raw / "notes.docx").write_text("not a report")

    def tick(cursor):
        with warehouse_env(data_raw, tmp_path / "warehouse.duckdb"):
            data = report_files_sensor.evaluate_tick(dg.build_sensor_context(cursor=cursor))
        return data, data.cursor

    first, cursor = tick(None)  # nothing seen before: the files are new
    assert len(first.run_requests) == 1 and first.run_requests[0].job_name in (None, "load_warehouse")
    assert set(json.loads(cursor)) == {"a.pdf"}

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


# ------------------------------------------------------------------ lineage


def test_every_mart_is_downstream_of_the_files_asset():
    from orchestration.assets.dbt import dbt_project
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
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
    # dbt sources are the staging assets, not separate stubs
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


def test_staging_frames_from_records(gold_results):
    frames = staging_frames(gold_results)
    assert {name: list(frame.columns) for name, frame in frames.items()} == {
        name: [column for column, _ in columns] for name, columns in TABLES.items()
    }
    reports = frames["reports"].set_index("report_id")
    assert list(reports.index) == ["aaaaaaaaaaaaaaaa-01", "aaaaaaaaaaaaaaaa-02", "bbbbbbbbbbbbbbbb-01"]
    assert reports.loc["aaaaaaaaaaaaaaaa-01", "source_files"] == ["copy of dept.pdf", "dept.pdf"]
    assert reports.loc["aaaaaaaaaaaaaaaa-01", "source_file"] == "copy of dept.pdf"
    assert reports.loc["aaaaaaaaaaaaaaaa-01", "project_name"] == "对口扶贫支援类"
    assert reports.loc["aaaaaaaaaaaaaaaa-01", "n_indicators"] == 8
    funding = frames["funding_lines"]
    line1 = funding[(funding.report_id == "aaaaaaaaaaaaaaaa-01") & (funding.line_no == 1)].iloc[0]
    assert (line1["line"], line1["executed"], line1["score"]) == ("年度资金总额", 21.38, 8.59)
    assert len(funding) == 4 * 3
    indicators = frames["indicators"]
    transfer = indicators[indicators.level3 == "转移脱贫劳动力"].iloc[0]
    assert (transfer["indicator_no"], transfer["score"], transfer["target_kind"]) == (2, 8.0, "quantitative")
    assert (transfer["target_op"], transfer["target_value"], transfer["actual_value"]) == ("=", 120.0, 736.0)
    errors = frames["extract_errors"]
    assert list(zip(errors.file, errors.error_class, strict=True)) == [
        ("blank.pdf", "no_form"),
        ("broken.pdf", "not_pdf"),
    ]
    checks = frames["checks"]
    assert not checks.duplicated(["report_id", "check_name"]).any()
    assert set(checks.report_id) == set(reports.index)


def test_staging_frames_are_deterministic(gold_results):
    first = staging_frames(gold_results)
    second = staging_frames(list(reversed(gold_results)))
    for name in TABLES:
        assert first[name].equals(second[name]), name


def test_cache_round_trip(gold_results):
    for result in gold_results:
        assert file_result_from_dict(json.loads(json.dumps(file_result_to_dict(result)))) == result


def test_sample_copy_is_complete(tmp_path):
    copied = copy_samples(tmp_path / "data_raw")
    names = [p.relative_to(copied) for p in iter_report_files([copied])]
    assert names == [p.relative_to(SAMPLES_DIR) for p in iter_report_files([SAMPLES_DIR])]
