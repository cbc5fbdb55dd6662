"""The landing tables (schema `raw`) in this run's build file, one asset per table.

Built in DuckDB from the store entries of the run's files (staging.land); this is the only step
that writes the build file before dbt does. On a copy of the published warehouse only the entries
whose names changed since its load (`loader.landed_entries`) are landed again.
"""

from functools import cache

import dagster as dg
import duckdb
import yaml
from dagster import AssetExecutionContext

from ... import warehouse
from ...plan import code_version, reports_shrink_refusal
from ...settings import DBT_PROJECT_DIR, Settings
from ...staging import SCHEMA, TABLES, land
from . import WAREHOUSE_STEP
from .checks import record_check_results, record_check_specs
from .dbt import run_rebuilds_everything
from .extraction import ExtractionManifest

SOURCES_YML = DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml"
PREVIEW_ROWS = 10
# Run tag of a run that lands the raw tables in its build file and publishes nothing (tests, debugging).
STAGE_ONLY_TAG = "warehouse/stage_only"
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
    op_tags=WAREHOUSE_STEP,
)
def staging_tables(context: AssetExecutionContext, settings: Settings, extracted_reports: ExtractionManifest):
    """Write the landing tables into this run's build file: a fresh one, or a copy of the
    published warehouse when the same code built it (then only the changed entries are landed).

    Refused (before anything is written) in a run that does not go on to build every dbt model and
    publish: landing tables are published only with the marts built on them. A run tagged
    `STAGE_ONLY_TAG` = "true" lands them in the build file and stops there (for inspecting what
    was read; its materializations say `published: false`)."""
    stage_only = context.run.tags.get(STAGE_ONLY_TAG) == "true"
    if not stage_only and not run_rebuilds_everything(context):
        raise dg.Failure(
            "not run: the landing tables reach the warehouse only with every dbt model built on them "
            "and published; materialize them with everything downstream (or run the job load_warehouse)",
            allow_retries=False,
        )
    # the same code built the published marts: keep them, and rebuild only the changed reports
    code = code_version()
    keep_marts = warehouse.published_code_version(settings) == code
    build = warehouse.start_build(settings, context.run.run_id, from_published=keep_marts)
    if stage_only:
        context.log.warning(f"stage-only run: the landing tables stay in {build}, nothing is published")
    con = duckdb.connect(str(build))
    try:
        con.execute(
            "CREATE TEMP TABLE _entries AS SELECT name, entry FROM read_parquet(?)",
            [list(extracted_reports.entries)],
        )
        # a copy keeps the landing tables too: land only the entries that changed since
        landed = warehouse.landed_entries(con) if keep_marts else None
        if extracted_reports.trusts_landed and landed is None:  # the load's lock rules this out
            raise dg.Failure(
                "the published warehouse was replaced while this load ran (the extraction took its "
                "entries as that warehouse had landed them): load again",
                allow_retries=False,
            )
        counts = land(con, "_entries", landed=landed)
        changes = warehouse.write_load_state(
            con,
            extracted_reports.fingerprint,
            settings.warehouse,
            code,
            context.run.run_id,
            keep_marts,
            entries="_entries",
        )
        context.log.info(
            "landed "
            + ", ".join(f"{table} {rows}" for table, rows in counts.items())
            + "; reports "
            + (", ".join(f"{n} {change}" for change, n in sorted(changes.items())) or "unchanged")
        )
        errors = f"SELECT error_class, count(*) FROM {SCHEMA}.extract_errors GROUP BY 1"
        refusal = reports_shrink_refusal(
            warehouse.published_reports(settings),
            con.execute(f"SELECT count(*) FROM {SCHEMA}.reports").fetchone()[0],
            dict(con.execute(errors).fetchall()),
        )
        if refusal and not settings.allow_shrink and not stage_only:
            raise dg.Failure(refusal, allow_retries=False)
        for table, rows in counts.items():
            metadata = {"dagster/row_count": rows, "published": not stage_only}
            if table in PREVIEW_COLUMNS:
                metadata["preview"] = dg.MetadataValue.md(_preview(con, table, PREVIEW_COLUMNS[table]))
            if table == "reports":
                metadata["report_changes"] = dg.MetadataValue.json(changes)
            yield dg.MaterializeResult(asset_key=[SCHEMA, table], metadata=metadata)
        yield from record_check_results(con)
    finally:
        con.close()


def _preview(con: duckdb.DuckDBPyConnection, table: str, columns: list[str]) -> str:
    quoted = ", ".join(f'"{c}"' for c in columns)
    rows = con.execute(f"SELECT {quoted} FROM {SCHEMA}.{table} LIMIT {PREVIEW_ROWS}").fetchall()
    total = con.execute(f"SELECT count(*) FROM {SCHEMA}.{table}").fetchone()[0]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join("" if v is None else str(v).replace("|", "/") for v in row) + " |")
    if total > PREVIEW_ROWS:
        lines.append(f"| … {total - PREVIEW_ROWS} more |" + " |" * (len(columns) - 1))
    return "\n".join(lines)
