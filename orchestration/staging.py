"""Extraction results → the five staging tables of the warehouse (schema `staging`).

`staging_frames` is pure: the same results give the same frames, row for row, so two loads over
the same files give identical tables (nothing here reads a clock). `write_staging` replaces the
tables in a DuckDB connection with explicitly typed columns, rows in key order.

The column contract (names, types, meanings) is documented for analysts in
dbt_project/models/staging/_sources.yml; keep the two in step.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict

import pandas as pd

from extract.record import ExtractError, FileResult, Record
from extract.targets import ParsedValue, parse_value

log = logging.getLogger(__name__)

SCHEMA = "raw"  # landing tables the extraction writes; dbt staging views read them

# table → ordered (column, DuckDB type); the first columns listed in TABLE_KEYS order the rows.
TABLES: dict[str, list[tuple[str, str]]] = {
    "reports": [
        ("report_id", "VARCHAR"),
        ("sha256", "VARCHAR"),
        ("form_index", "INTEGER"),
        ("source_file", "VARCHAR"),
        ("source_files", "VARCHAR[]"),
        ("source_kind", "VARCHAR"),
        ("pages", "INTEGER[]"),
        ("fiscal_year", "INTEGER"),
        ("project_name", "VARCHAR"),
        ("supervising_dept", "VARCHAR"),
        ("implementing_unit", "VARCHAR"),
        ("goal_expected", "VARCHAR"),
        ("goal_actual", "VARCHAR"),
        ("total_weight", "DOUBLE"),
        ("total_score", "DOUBLE"),
        ("grade", "VARCHAR"),
        ("n_indicators", "INTEGER"),
        ("uncertain_fields", "VARCHAR[]"),
        ("checks_failed", "INTEGER"),
        ("failed_check_names", "VARCHAR[]"),
    ],
    "funding_lines": [
        ("report_id", "VARCHAR"),
        ("line_no", "INTEGER"),
        ("line", "VARCHAR"),
        ("budget_initial", "DOUBLE"),
        ("budget_full_year", "DOUBLE"),
        ("executed", "DOUBLE"),
        ("weight", "DOUBLE"),
        ("execution_rate_pct", "DOUBLE"),
        ("score", "DOUBLE"),
    ],
    "indicators": [
        ("report_id", "VARCHAR"),
        ("indicator_no", "INTEGER"),
        ("level1", "VARCHAR"),
        ("level2", "VARCHAR"),
        ("level3", "VARCHAR"),
        ("target", "VARCHAR"),
        ("actual", "VARCHAR"),
        ("weight", "DOUBLE"),
        ("score", "DOUBLE"),
        ("deviation_note", "VARCHAR"),
        ("page", "INTEGER"),
        *[
            (f"{side}_{part}", kind)
            for side in ("target", "actual")
            for part, kind in (
                ("kind", "VARCHAR"),
                ("op", "VARCHAR"),
                ("value", "DOUBLE"),
                ("unit", "VARCHAR"),
                ("qualitative", "VARCHAR"),
                ("achieved_wording", "BOOLEAN"),
            )
        ],
    ],
    "checks": [
        ("report_id", "VARCHAR"),
        ("check_name", "VARCHAR"),
        ("passed", "BOOLEAN"),
        ("expected", "DOUBLE"),
        ("actual", "DOUBLE"),
        ("detail", "VARCHAR"),
    ],
    "extract_errors": [
        ("file", "VARCHAR"),
        ("sha256", "VARCHAR"),
        ("error_class", "VARCHAR"),
        ("message", "VARCHAR"),
        ("pages", "INTEGER[]"),
    ],
}

TABLE_KEYS: dict[str, list[str]] = {
    "reports": ["report_id"],
    "funding_lines": ["report_id", "line_no"],
    "indicators": ["report_id", "indicator_no"],
    "checks": ["report_id", "check_name"],
    "extract_errors": ["file", "error_class", "message"],
}

# Record validations are reported per family: "execution_rate[2]" belongs to "execution_rate".
CHECK_FAMILIES = ("weights_sum", "scores_sum", "execution_rate", "grade_band", "complete")


def check_family(check_name: str) -> str:
    return re.sub(r"\[\d+\]$", "", check_name)


def report_id(sha256: str, form_index: int) -> str:
    """Stable key of one form: the same file content gives the same id on every load."""
    return f"{sha256[:16]}-{form_index:02d}"


def staging_frames(results: list[FileResult]) -> dict[str, pd.DataFrame]:
    """One DataFrame per staging table, columns as in TABLES, rows in key order.

    `FileResult.path` is taken as the file's name as it should appear in the warehouse (the
    orchestration passes the path relative to DATA_RAW_DIR). Files with identical content are one
    report listing every name; a file that yields no form and no error counts as `no_form`.
    """
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    ordered = sorted(results, key=lambda r: r.path)

    names_by_content: dict[tuple[str, str], list[str]] = defaultdict(list)
    for result in ordered:
        if result.records and result.sha256:
            names_by_content[(result.sha256, result.kind)].append(result.path)

    seen_content: set[tuple[str, str]] = set()
    for result in ordered:
        for error in _errors_of(result):
            rows["extract_errors"].append(
                {
                    "file": result.path,
                    "sha256": error.sha256 or result.sha256,
                    "error_class": error.error_class,
                    "message": error.message,
                    "pages": list(error.pages or []),
                }
            )
        if not result.records or not result.sha256:
            continue
        content = (result.sha256, result.kind)
        if content in seen_content:
            continue  # the same report under another name: already staged, listing this name
        seen_content.add(content)
        names = names_by_content[content]
        for form_index, record in _numbered(result.records):
            rid = report_id(result.sha256, form_index)
            _stage_record(rows, record, rid, result, form_index, names)

    return {
        name: _frame(name, rows[name]).sort_values(TABLE_KEYS[name], kind="stable", ignore_index=True)
        for name in TABLES
    }


def _errors_of(result: FileResult) -> list[ExtractError]:
    if result.records or result.errors:
        return list(result.errors)
    message = "no 绩效自评表 form found in the file"
    return [ExtractError(result.path, result.sha256, "no_form", message)]


def _numbered(records: list[Record]) -> list[tuple[int, Record]]:
    """Each record with its form index; renumbered by position if a reader repeated an index."""
    indexes = [r.source.form_index for r in records]
    if len(set(indexes)) != len(indexes) or any(not isinstance(i, int) or i < 1 for i in indexes):
        return [(i, r) for i, r in enumerate(records, start=1)]
    return list(zip(indexes, records, strict=True))


def _stage_record(
    rows: dict[str, list[dict]],
    record: Record,
    rid: str,
    result: FileResult,
    form_index: int,
    names: list[str],
) -> None:
    failed = [c.name for c in record.failed_checks]
    rows["reports"].append(
        {
            "report_id": rid,
            "sha256": result.sha256,
            "form_index": form_index,
            "source_file": names[0],
            "source_files": list(names),
            "source_kind": result.kind,
            "pages": list(record.source.pages or []),
            "fiscal_year": record.fiscal_year,
            "project_name": record.project_name,
            "supervising_dept": record.supervising_dept,
            "implementing_unit": record.implementing_unit,
            "goal_expected": record.goal_expected,
            "goal_actual": record.goal_actual,
            "total_weight": record.total_weight,
            "total_score": record.total_score,
            "grade": record.grade,
            "n_indicators": len(record.indicators),
            "uncertain_fields": list(record.uncertain_fields or []),
            "checks_failed": len(failed),
            "failed_check_names": failed,
        }
    )
    for line_no, line in enumerate(record.funding, start=1):
        rows["funding_lines"].append(
            {
                "report_id": rid,
                "line_no": line_no,
                "line": line.line,
                "budget_initial": line.budget_initial,
                "budget_full_year": line.budget_full_year,
                "executed": line.executed,
                "weight": line.weight,
                "execution_rate_pct": line.execution_rate_pct,
                "score": line.score,
            }
        )
    for indicator_no, ind in enumerate(record.indicators, start=1):
        row = {
            "report_id": rid,
            "indicator_no": indicator_no,
            "level1": ind.level1,
            "level2": ind.level2,
            "level3": ind.level3,
            "target": ind.target,
            "actual": ind.actual,
            "weight": ind.weight,
            "score": ind.score,
            "deviation_note": ind.deviation_note,
            "page": ind.page,
        }
        for side, text in (("target", ind.target), ("actual", ind.actual)):
            parsed = _parse(text)
            row[f"{side}_kind"] = parsed.kind
            row[f"{side}_op"] = parsed.op
            row[f"{side}_value"] = parsed.value
            row[f"{side}_unit"] = parsed.unit
            row[f"{side}_qualitative"] = parsed.qualitative
            row[f"{side}_achieved_wording"] = bool(parsed.achieved_wording)
        rows["indicators"].append(row)
    for check in record.checks:
        rows["checks"].append(
            {
                "report_id": rid,
                "check_name": check.name,
                "passed": bool(check.passed),
                "expected": check.expected,
                "actual": check.actual,
                "detail": check.detail or None,
            }
        )


def _parse(text: str | None) -> ParsedValue:
    """parse_value, but one odd cell must not stop a load: fall back to the raw text."""
    try:
        return parse_value(text)
    except Exception:  # noqa: BLE001
        log.warning("parse_value failed on %r; staged as qualitative", text, exc_info=True)
        return ParsedValue("qualitative", qualitative=text) if text else ParsedValue("empty")


def _frame(table: str, rows: list[dict]) -> pd.DataFrame:
    columns = [name for name, _ in TABLES[table]]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def write_staging(con, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """(Re)create every staging table in `con` from `frames`; returns row counts per table."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
    counts = {}
    for table, columns in TABLES.items():
        frame = frames[table]
        ddl = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        casts = ", ".join(f'CAST("{name}" AS {kind}) AS "{name}"' for name, kind in columns)
        order = ", ".join(f'"{k}"' for k in TABLE_KEYS[table])
        con.execute(f"CREATE OR REPLACE TABLE {SCHEMA}.{table} ({ddl})")
        con.register("_staging_frame", frame)
        try:
            con.execute(f"INSERT INTO {SCHEMA}.{table} SELECT {casts} FROM _staging_frame ORDER BY {order}")
        finally:
            con.unregister("_staging_frame")
        counts[table] = con.execute(f"SELECT count(*) FROM {SCHEMA}.{table}").fetchone()[0]
    return counts
