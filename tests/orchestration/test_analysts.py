"""What analysts and auditors get beside the warehouse file, with the real tools: the exports
(opened with pandas and openpyxl, compared with the marts), the HTML report (in a real headless
Chromium), the dbt docs (generated while a reader holds the warehouse open), the Dagster catalog
(row counts, column schemas, owners, tags, code references), and truthful status (a subset
materialized as in the UI is published, or refused before it writes anything).

Reads the shared `loaded_warehouse` (one full load, whose publish wrote the exports and report);
the subset runs work on copies of it.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest
import yaml
from conftest import project_instance, settings_for
from paths import REPO

from orchestration import exports
from orchestration.definitions import definitions
from orchestration.docs import build_docs
from orchestration.staging import TABLES

MART = dg.AssetKey(["marts", "mart_unit_scorecard"])


def _marts(con) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'marts' ORDER BY 1"
        ).fetchall()
    ]


@pytest.fixture(scope="module")
def marts(loaded_warehouse) -> dict[str, pd.DataFrame]:
    con = loaded_warehouse.connect()
    try:
        return {m: con.execute(f"SELECT * FROM marts.{m}").df() for m in _marts(con)}
    finally:
        con.close()


def _materializations(result, key: dg.AssetKey) -> list[dg.AssetMaterialization]:
    return [
        e.event_specific_data.materialization
        for e in result.all_events
        if e.is_step_materialization and e.event_specific_data.materialization.asset_key == key
    ]


# ------------------------------------------------------------------ exports


def _value(v):
    if (
        isinstance(v, (list, tuple))
        or hasattr(v, "tolist")
        and not isinstance(v, str)
        and pd.api.types.is_list_like(v)
    ):
        return tuple(_value(x) for x in v)
    return None if pd.isna(v) else v


def _values(frame: pd.DataFrame) -> list[tuple]:
    """The rows of a frame as plain values (missing as None, lists as tuples), for comparing frames
    read by different readers."""
    return [tuple(_value(v) for v in row) for row in frame.itertuples(index=False)]


def test_every_mart_is_exported_as_csv_parquet_and_excel(loaded_warehouse, marts):
    folder = loaded_warehouse.path.parent / "exports"
    assert len([m for m in marts if m.startswith(("dim_", "fct_", "mart_"))]) == 13  # and the seeds
    for mart, frame in marts.items():
        csv = folder / "csv" / f"{mart}.csv"
        assert csv.read_bytes()[:3] == b"\xef\xbb\xbf", mart  # BOM: Excel reads UTF-8
        from_csv = pd.read_csv(csv, encoding="utf-8-sig")
        assert list(from_csv.columns) == list(frame.columns) and len(from_csv) == len(frame), mart
        from_parquet = pd.read_parquet(folder / "parquet" / f"{mart}.parquet")
        assert list(from_parquet.columns) == list(frame.columns), mart
        assert _values(from_parquet) == _values(frame), mart
    scorecard = pd.read_csv(folder / "csv" / "mart_unit_scorecard.csv", encoding="utf-8-sig")
    assert sorted(scorecard["implementing_unit"].dropna()) == sorted(
        marts["mart_unit_scorecard"]["implementing_unit"].dropna()
    )
    assert any("嘉定" in u for u in scorecard["district"].dropna())  # Chinese text survives


def test_excel_workbook_has_a_sheet_per_mart_with_the_chinese_terms(loaded_warehouse, marts):
    from openpyxl import load_workbook

    book = load_workbook(loaded_warehouse.path.parent / "exports" / exports.WORKBOOK, read_only=True)
    assert sorted(book.sheetnames) == sorted(marts)
    for mart, frame in marts.items():
        rows = list(book[mart].iter_rows(values_only=True))
        header = [str(h).split("\n")[0] for h in rows[0]]
        assert header == list(frame.columns) and len(rows) - 1 == len(frame), mart
    header = next(book["fct_indicator_outcomes"].iter_rows(values_only=True))
    assert "implementing_unit\n实施单位" in header and "deviation_note\n偏差原因分析及改进措施" in header
    reports = list(book["dim_reports"].iter_rows(values_only=True))
    names = [h.split("\n")[0] for h in reports[0]]
    by_id = {r[names.index("report_id")]: r for r in reports[1:]}
    frame = marts["dim_reports"].set_index("report_id")
    for report_id, row in by_id.items():
        assert row[names.index("total_score")] == pytest.approx(frame.loc[report_id, "total_score"])
        assert row[names.index("project_name")] == frame.loc[report_id, "project_name"]


def test_chinese_term_is_read_from_the_description():
    assert exports.chinese_term("Implementing unit (实施单位); NULL when the cell is empty.") == "实施单位"
    assert exports.chinese_term("Fiscal year（年度）") == "年度"
    assert exports.chinese_term("Report key = sha256 (hex) + index") is None
    assert exports.chinese_term(None) is None


# ------------------------------------------------------------------ the report in a browser


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    pytest.skip("no Chromium installed (make test-tools installs the distribution's package as root)")


@pytest.mark.slow  # a dbt build, dbt docs or a browser: ~20-60 s
def test_report_renders_in_headless_chromium_with_the_warehouses_numbers(loaded_warehouse):
    page = loaded_warehouse.path.parent / "report.html"
    text = page.read_text(encoding="utf-8")
    assert "<script src=" not in text  # plotly.js inline: opens offline
    done = subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--allow-file-access-from-files",
            "--virtual-time-budget=20000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r"<pre id=\"render-check\">(.*?)</pre>", done.stdout, re.S)
    assert match and match.group(1), "the page's render check did not run"
    check = json.loads(html.unescape(match.group(1)))
    assert check["errors"] == []
    charts = check["charts"]
    assert set(charts) == {
        "execution_by_unit",
        "points_by_reason_category",
        "points_by_level1",
        "attainment_by_department",
    }
    assert all(charts.values()), "a chart was not drawn"

    rates = {
        f"{unit} ({year})": rate
        for year, unit, rate in loaded_warehouse.rows(
            "SELECT fiscal_year, coalesce(implementing_unit, '(not given)'), weighted_execution_rate_pct "
            "FROM marts.mart_unit_scorecard"
        )
    }
    [bars] = charts["execution_by_unit"]
    assert dict(zip(bars["y"], bars["x"], strict=True)) == pytest.approx(rates)

    by_category = dict(
        loaded_warehouse.rows(
            "SELECT coalesce(reason_category, '(not given)'), round(sum(points_lost), 2) "
            "FROM marts.fct_deductions GROUP BY 1"
        )
    )
    [bars] = charts["points_by_reason_category"]
    assert dict(zip(bars["x"], bars["y"], strict=True)) == pytest.approx(by_category)
    by_level1 = dict(
        loaded_warehouse.rows(
            "SELECT coalesce(level1, '(not given)'), round(sum(points_lost), 2) FROM marts.fct_deductions "
            "GROUP BY 1"
        )
    )
    [bars] = charts["points_by_level1"]
    assert dict(zip(bars["x"], bars["y"], strict=True)) == pytest.approx(by_level1)

    attainment = {
        (d, a): n
        for d, a, n in loaded_warehouse.rows(
            "SELECT coalesce(department, '(not given)'), attainment, count(*) "
            "FROM marts.fct_indicator_outcomes GROUP BY ALL"
        )
    }
    drawn = {
        (d, trace["name"]): n
        for trace in charts["attainment_by_department"]
        for d, n in zip(trace["x"], trace["y"], strict=True)
        if n
    }
    assert drawn == attainment

    failing = loaded_warehouse.rows(
        "SELECT q.report_id, q.source_file, r.pages[1] FROM marts.mart_report_quality q "
        "JOIN marts.dim_reports r USING (report_id) WHERE q.check_source = 'extraction' AND NOT q.passed"
    )
    assert failing, "the samples hold a form that does not add up"
    for report_id, source_file, page_no in failing:
        link = (loaded_warehouse.data_raw_dir / source_file).resolve().as_uri()
        link += f"#page={page_no}" if page_no else ""
        row = re.search(rf"<tr data-report-id=\"{re.escape(report_id)}\">.*?</tr>", done.stdout, re.S)
        assert row and f'href="{link}"' in row.group(0), report_id


# ------------------------------------------------------------------ docs


@pytest.mark.slow  # a dbt build, dbt docs or a browser: ~20-60 s
def test_docs_build_while_a_reader_holds_the_warehouse_open(loaded_warehouse, tmp_path):
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(loaded_warehouse.path, warehouse)
    reader = duckdb.connect(str(warehouse), read_only=True)
    try:
        target = build_docs(settings_for(loaded_warehouse.data_raw_dir, warehouse))
        assert reader.execute("SELECT count(*) FROM marts.dim_reports").fetchone()[0] > 0
    finally:
        reader.close()
    catalog = json.loads((target / "catalog.json").read_text())
    assert "model.fiscal_perf.mart_report_quality" in catalog["nodes"]
    assert (target / "index.html").exists()
    assert target.parent == warehouse.parent / ".docs"


# ------------------------------------------------------------------ catalog


def test_dbt_assets_carry_owners_tags_and_code_references():
    graph = definitions().resolve_asset_graph()
    layers = {}
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        if key.path[0] not in ("staging", "intermediate", "marts") or key.path[-1].startswith("warehouse_"):
            continue
        layer = node.tags.get("layer")
        layers.setdefault(layer, set()).update(node.owners)
        references = node.metadata["dagster/code_references"].code_references
        files = {Path(r.file_path).name for r in references}
        assert f"{key.path[-1]}.sql" in files or f"{key.path[-1]}.csv" in files, key
        assert "dbt.py" in files, key
        assert key.path[0] == layer or node.tags.get("dbt_resource") == "seed", key
    assert layers == {
        "staging": {"team:warehouse-engineering"},
        "intermediate": {"team:warehouse-engineering"},
        "marts": {"team:warehouse-analytics"},
    }
    published = graph.get(dg.AssetKey("warehouse_published"))
    assert "dagster/code_references" in published.metadata
    for key in ("warehouse_exports", "warehouse_report"):
        assert graph.get(dg.AssetKey(key)).parent_keys == {dg.AssetKey("warehouse_published")}


def test_every_model_materialization_carries_row_count_and_column_schema(loaded_warehouse):
    result = loaded_warehouse.result
    con = loaded_warehouse.connect()
    try:
        for mart in _marts(con):
            [event] = _materializations(result, dg.AssetKey(["marts", mart]))
            assert (
                event.metadata["dagster/row_count"].value
                == (con.execute(f"SELECT count(*) FROM marts.{mart}").fetchone()[0])
            ), mart
            schema = event.metadata["dagster/column_schema"].value
            columns = [
                r[0]
                for r in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'marts' AND table_name = ? "
                    "ORDER BY column_index",
                    [mart],
                ).fetchall()
            ]
            assert [c.name for c in schema.columns] == columns, mart
        [view] = _materializations(result, dg.AssetKey(["staging", "stg_extract__reports"]))
        assert view.metadata["dagster/column_schema"].value.columns
    finally:
        con.close()


def test_the_first_visit_popup_is_off_in_the_instance_settings(tmp_path, monkeypatch):
    shutil.copyfile(REPO / "orchestration" / "dagster.yaml", tmp_path / "dagster.yaml")
    assert yaml.safe_load((tmp_path / "dagster.yaml").read_text())["nux"] == {"enabled": False}
    instance = project_instance(tmp_path, monkeypatch)
    try:
        assert instance.nux_enabled is False
    finally:
        instance.dispose()


# ------------------------------------------------------------------ truthful status


def _copy_of(loaded_warehouse, tmp_path: Path) -> Path:
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    warehouse.parent.mkdir()
    shutil.copyfile(loaded_warehouse.path, warehouse)
    return warehouse


def _materialize(selection: list[dg.AssetKey], settings) -> dg.ExecuteInProcessResult:
    job = definitions().resolve_implicit_global_asset_job_def()
    return job.execute_in_process(
        asset_selection=selection,
        run_config=settings.run_config(),
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


@pytest.mark.slow  # a dbt build, dbt docs or a browser: ~20-60 s
def test_one_mart_materialized_alone_reaches_the_published_warehouse(loaded_warehouse, tmp_path):
    warehouse = _copy_of(loaded_warehouse, tmp_path)
    con = duckdb.connect(str(warehouse))
    con.execute("DELETE FROM marts.mart_unit_scorecard")  # so a rebuild that is not published shows
    con.close()
    settings = settings_for(loaded_warehouse.data_raw_dir, warehouse)
    result = _materialize([MART], settings)
    assert result.success, [e.event_specific_data for e in result.get_step_failure_events()]
    expected = loaded_warehouse.rows("SELECT * FROM marts.mart_unit_scorecard ORDER BY ALL")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        assert con.execute("SELECT * FROM marts.mart_unit_scorecard ORDER BY ALL").fetchall() == expected
    finally:
        con.close()
    for key in (MART, dg.AssetKey("warehouse_published"), dg.AssetKey("warehouse_exports")):
        assert len(_materializations(result, key)) == 1, key
    [built] = _materializations(result, MART)
    assert built.metadata["dagster/row_count"].value == len(expected)
    exported = pd.read_csv(
        warehouse.parent / "exports" / "csv" / "mart_unit_scorecard.csv", encoding="utf-8-sig"
    )
    assert len(exported) == len(expected)
    assert not settings.build_path.exists()  # nothing left behind unpublished


def test_landing_without_the_dbt_build_and_publish_is_refused_before_writing(loaded_warehouse, tmp_path):
    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    shutil.copyfile(loaded_warehouse.data_raw_dir / "text" / "jd-01.txt", data_raw / "jd-01.txt")
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"
    settings = settings_for(data_raw, warehouse)
    selection = [dg.AssetKey("report_files"), dg.AssetKey("extracted_reports")]
    selection += [dg.AssetKey(["raw", table]) for table in TABLES]
    result = _materialize(selection, settings)
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "staging_tables"
    assert "reach the warehouse only with every dbt model" in failure.event_specific_data.error.message
    assert not warehouse.exists() and not settings.build_path.exists()


def test_exports_alone_are_rewritten_from_the_published_warehouse(loaded_warehouse, tmp_path):
    warehouse = _copy_of(loaded_warehouse, tmp_path)
    before = warehouse.stat().st_mtime_ns
    settings = settings_for(loaded_warehouse.data_raw_dir, warehouse)
    result = _materialize([dg.AssetKey("warehouse_exports")], settings)
    assert result.success, [e.event_specific_data for e in result.get_step_failure_events()]
    assert warehouse.stat().st_mtime_ns == before  # not republished
    assert not _materializations(result, dg.AssetKey("warehouse_published"))
    assert len(_materializations(result, dg.AssetKey("warehouse_exports"))) == 1
    assert (warehouse.parent / "exports" / exports.WORKBOOK).exists()
    assert (warehouse.parent / "report.html").exists()


@pytest.mark.slow  # a dbt build, dbt docs or a browser: ~20-60 s
def test_a_failed_dbt_build_shows_nothing_materialized_and_publishes_nothing(loaded_warehouse, tmp_path):
    warehouse = _copy_of(loaded_warehouse, tmp_path)
    con = duckdb.connect(str(warehouse))
    con.execute("ALTER TABLE raw.reports DROP COLUMN project_name")  # breaks the staging contract
    con.close()
    before = warehouse.stat().st_mtime_ns
    view = dg.AssetKey(["staging", "stg_extract__reports"])
    result = _materialize([view], settings_for(loaded_warehouse.data_raw_dir, warehouse))
    assert not result.success
    [failure] = result.get_step_failure_events()
    assert failure.step_key == "dbt_models"
    assert "nothing was published" in failure.event_specific_data.error.message
    assert not _materializations(result, view)
    assert not _materializations(result, dg.AssetKey("warehouse_published"))
    assert warehouse.stat().st_mtime_ns == before
