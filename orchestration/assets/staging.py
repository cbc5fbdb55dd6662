"""The staging tables in the build file's DuckDB schema `staging`, one asset per table."""

from functools import cache

import dagster as dg
import duckdb
import pandas as pd
import yaml
from dagster import AssetExecutionContext

from extract.record import FileResult

from .. import settings, warehouse
from ..checks import record_check_results, record_check_specs
from ..staging import SCHEMA, TABLES, staging_frames, write_staging

SOURCES_YML = settings.DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml"
PREVIEW_ROWS = 10
PREVIEW_COLUMNS = {
    "reports": ["report_id", "source_file", "project_name", "total_score", "grade", "checks_failed"],
    "extract_errors": ["file", "error_class", "message"],
}


@cache
def source_docs() -> dict[str, tuple[str, dict[str, str]]]:
    """Table → (description, column → description), read from the dbt sources file (one place)."""
    try:
        data = yaml.safe_load(SOURCES_YML.read_text(encoding="utf-8"))
        tables = next(s for s in data["sources"] if s.get("schema") == SCHEMA)["tables"]
    except (OSError, KeyError, StopIteration, yaml.YAMLError):
        return {}
    return {
        t["name"]: (
            " ".join(str(t.get("description", "")).split()),
            {c["name"]: " ".join(str(c.get("description", "")).split()) for c in t.get("columns", [])},
        )
        for t in tables
    }


def _column_schema(table: str) -> dg.TableSchema:
    _, columns = source_docs().get(table, ("", {}))
    return dg.TableSchema(
        columns=[dg.TableColumn(name, kind, description=columns.get(name)) for name, kind in TABLES[table]]
    )


def _spec(table: str) -> dg.AssetSpec:
    description, _ = source_docs().get(table, ("", {}))
    return dg.AssetSpec(
        [SCHEMA, table],
        deps=["extracted_reports"],
        group_name="ingest",
        kinds={"duckdb"},
        description=description or None,
        metadata={"dagster/column_schema": _column_schema(table), "dagster/table_name": f"{SCHEMA}.{table}"},
    )


@dg.multi_asset(
    name="staging_tables",
    specs=[_spec(table) for table in TABLES],
    ins={"extracted_reports": dg.AssetIn()},
    check_specs=record_check_specs(),
)
def staging_tables(context: AssetExecutionContext, extracted_reports: list[FileResult]):
    """Write the five staging tables into a fresh build file of this run."""
    frames = staging_frames(extracted_reports)
    build = warehouse.start_build(context.run.run_id)
    con = duckdb.connect(str(build))
    try:
        counts = write_staging(con, frames)
    finally:
        con.close()
    context.log.info("staged " + ", ".join(f"{table} {rows}" for table, rows in counts.items()))
    for table, rows in counts.items():
        metadata = {"dagster/row_count": rows}
        if table in PREVIEW_COLUMNS:
            metadata["preview"] = dg.MetadataValue.md(_preview(frames[table], PREVIEW_COLUMNS[table]))
        yield dg.MaterializeResult(asset_key=[SCHEMA, table], metadata=metadata)
    yield from record_check_results(frames)


def _preview(frame: pd.DataFrame, columns: list[str]) -> str:
    head = frame[columns].head(PREVIEW_ROWS)
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in head.itertuples(index=False):
        lines.append("| " + " | ".join("" if pd.isna(v) else str(v).replace("|", "/") for v in row) + " |")
    if len(frame) > PREVIEW_ROWS:
        lines.append(f"| … {len(frame) - PREVIEW_ROWS} more |" + " |" * (len(columns) - 1))
    return "\n".join(lines)
