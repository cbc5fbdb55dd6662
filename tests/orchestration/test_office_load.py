"""Office originals through the whole load: an .xlsx and a .docx (and a damaged workbook) in
DATA_RAW_DIR land in raw.reports with the records extract_file gives, their sheet, cell range and
tables, pass dbt build and reach the marts. Real Dagster, DuckDB and dbt."""

from __future__ import annotations

import duckdb
import pytest
from conftest import run_load
from gold import gold_records

from extract import extract_file
from sample_pdfs.office_originals import STYLES, write_docx, write_xlsx


@pytest.mark.slow
def test_an_xlsx_and_a_docx_load_into_the_warehouse(tmp_path):
    records = [dict(r) for r in gold_records()[:2]]
    data_raw = tmp_path / "data_raw"
    (data_raw / "office").mkdir(parents=True)
    workbook = write_xlsx(records, data_raw / "office" / "自评表 2024.xlsx", STYLES["plain"])
    write_docx(records[1:], data_raw / "office" / "jd-03.docx")
    (data_raw / "office" / "damaged.xlsx").write_bytes(workbook.read_bytes()[:1000])
    warehouse = tmp_path / "warehouse" / "warehouse.duckdb"

    result = run_load(data_raw, warehouse)
    assert result.success, [e.event_specific_data for e in result.get_step_failure_events()]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        reports = con.execute(
            "SELECT source_file, source_kind, source_sheet, source_cell_range, source_tables, project_name, "
            "total_score FROM raw.reports ORDER BY source_file, form_index"
        ).fetchall()
        errors = con.execute("SELECT file, error_class FROM raw.extract_errors").fetchall()
        staged = con.execute(
            "SELECT count(*) FROM staging.stg_extract__reports WHERE source_sheet IS NOT NULL"
        )
        n_staged = staged.fetchone()[0]
        marts = con.execute("SELECT source_kind, project_name FROM marts.dim_reports ORDER BY project_name")
        dim = marts.fetchall()
    finally:
        con.close()
    ranges = [r.source.cell_range for r in extract_file(workbook).records]
    assert reports == [
        ("office/jd-03.docx", "docx", None, None, [1], records[1]["project_name"], records[1]["total_score"]),
        (
            "office/自评表 2024.xlsx",
            "xlsx",
            "自评表",
            ranges[0],
            [],
            records[0]["project_name"],
            records[0]["total_score"],
        ),
        (
            "office/自评表 2024.xlsx",
            "xlsx",
            "自评表",
            ranges[1],
            [],
            records[1]["project_name"],
            records[1]["total_score"],
        ),
    ]
    assert errors == [("office/damaged.xlsx", "corrupt_office")]
    assert n_staged == 2
    # jd-03 printed twice (workbook and document) is one report in the marts
    assert sorted(name for _, name in dim) == sorted(r["project_name"] for r in records)
    assert {kind for kind, _ in dim} <= {"xlsx", "docx"}
