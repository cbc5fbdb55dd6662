"""Extraction results → the landing tables of the warehouse (schema `raw`).

`TABLES` is the one declaration of the landing tables (columns, DuckDB types); dbt's sources
(dbt_project/models/staging/_sources.yml) document the same columns for analysts.

Two halves:
- `file_row` (pure, run where a file is extracted): one FileResult → one row of the extraction
  store, holding every landing-table row the file gives except what depends on the file's *names*
  (`reports.source_file`, `reports.source_files`, `extract_errors.file`): the forms with their
  funding lines, indicators and checks nested inside, and the file's errors.
- `land` (SQL in DuckDB, run by the one step that writes the build file): the landing tables from
  the store entries of a load's files (`read_parquet`), names joined in from the load's manifest.
  Nothing passes through a Python list of records. Same entries and names, same tables, row for
  row (nothing here reads a clock); on a copy of the previous load's tables, only the entries
  whose names changed are landed again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

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
        ("source_sheet", "VARCHAR"),
        ("source_cell_range", "VARCHAR"),
        ("source_tables", "INTEGER[]"),
        ("ocr_pages", "INTEGER[]"),
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
        ("glyphs_set_aside", "MAP(VARCHAR, INTEGER)"),
        ("glyphs_unplaced", "INTEGER"),
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


# The index that numbers the checks of one family: "execution_rate[2]" belongs to "execution_rate".
CHECK_INDEX = r"\[\d+\]$"


def check_family(check_name: str) -> str:
    return re.sub(CHECK_INDEX, "", check_name)


def report_id(sha256: str, form_index: int) -> str:
    """Stable key of one form: the same file content gives the same id on every load."""
    return f"{sha256[:16]}-{form_index:02d}"


# Columns filled at landing from the names a load found the content under.
NAME_COLUMNS = {"reports": ("source_file", "source_files"), "extract_errors": ("file",)}
# Tables whose rows belong to one form (keyed by report_id), stored nested inside it.
FORM_PARTS = ("funding_lines", "indicators", "checks")


def stored_columns(table: str) -> list[tuple[str, str]]:
    """The (column, type) pairs of `table` kept in the store: all but the name columns, and, for
    the parts of a form, all but the report_id they inherit from it."""
    skip = set(NAME_COLUMNS.get(table, ()))
    if table in FORM_PARTS:
        skip.add("report_id")
    return [(name, kind) for name, kind in TABLES[table] if name not in skip]


def file_row(result: FileResult) -> dict:
    """{"forms": [...], "errors": [...]}: every landing row of one file but its names.

    A form's dict holds the `reports` columns plus its `funding_lines`, `indicators` and `checks`
    rows as lists; an error's dict the `extract_errors` columns. A file that yields no form and no
    error counts as `no_form`. A form needs the file's sha256 for its report_id: without one (a
    file that could not be read) only its errors are kept."""
    errors = list(result.errors)
    if not result.records and not errors:
        errors = [ExtractError(result.path, result.sha256, "no_form", "no 绩效自评表 form found in the file")]
    forms = []
    if result.sha256:
        forms = [_form(record, result, index) for index, record in _numbered(result.records)]
    return {
        "forms": forms,
        "errors": [
            {
                "sha256": error.sha256 or result.sha256,
                "error_class": error.error_class,
                "message": error.message,
                "pages": list(error.pages or []),
            }
            for error in errors
        ],
    }


def _numbered(records: list[Record]) -> list[tuple[int, Record]]:
    """Each record with its form index; renumbered by position if a reader repeated an index."""
    indexes = [r.source.form_index for r in records]
    if len(set(indexes)) != len(indexes) or any(not isinstance(i, int) or i < 1 for i in indexes):
        return [(i, r) for i, r in enumerate(records, start=1)]
    return list(zip(indexes, records, strict=True))


def _form(record: Record, result: FileResult, form_index: int) -> dict:
    failed = [c.name for c in record.failed_checks]
    form = {
        "report_id": report_id(result.sha256, form_index),
        "sha256": result.sha256,
        "form_index": form_index,
        "source_kind": result.kind,
        "pages": list(record.source.pages or []),
        "source_sheet": record.source.sheet,
        "source_cell_range": record.source.cell_range,
        "source_tables": list(record.source.tables or []),
        "ocr_pages": list(record.source.ocr_pages or []),
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
        "glyphs_set_aside": dict(record.glyphs.set_aside) if record.glyphs else None,
        "glyphs_unplaced": record.glyphs.unplaced if record.glyphs else None,
    }
    form["funding_lines"] = [
        {
            "line_no": line_no,
            "line": line.line,
            "budget_initial": line.budget_initial,
            "budget_full_year": line.budget_full_year,
            "executed": line.executed,
            "weight": line.weight,
            "execution_rate_pct": line.execution_rate_pct,
            "score": line.score,
        }
        for line_no, line in enumerate(record.funding, start=1)
    ]
    form["indicators"] = [_indicator(no, ind) for no, ind in enumerate(record.indicators, start=1)]
    form["checks"] = [
        {
            "check_name": check.name,
            "passed": bool(check.passed),
            "expected": check.expected,
            "actual": check.actual,
            "detail": check.detail or None,
        }
        for check in record.checks
    ]
    return form


def _indicator(indicator_no: int, ind) -> dict:
    row = {
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
    return row


def _parse(text: str | None) -> ParsedValue:
    """parse_value, but one odd cell must not stop a load: fall back to the raw text."""
    try:
        return parse_value(text)
    except Exception:  # noqa: BLE001
        log.warning("parse_value failed on %r; staged as qualitative", text, exc_info=True)
        return ParsedValue("qualitative", qualitative=text) if text else ParsedValue("empty")


# ------------------------------------------------------------------ landing, in DuckDB


def _select(table: str, source: str) -> str:
    """`SELECT <every column of table, cast to its type> FROM <source>`, where `source` exposes the
    stored columns as fields of struct `s` and the names as `names` (sorted VARCHAR[])."""
    exprs = []
    for name, kind in TABLES[table]:
        if name == "source_file":
            expr = "names[1]"
        elif name == "source_files":
            expr = "names"
        elif name == "file":
            expr = "name"
        elif table in FORM_PARTS and name == "report_id":
            expr = "report_id"
        else:
            expr = f's."{name}"'
        exprs.append(f'CAST({expr} AS {kind}) AS "{name}"')
    order = ", ".join(f'"{k}"' for k in TABLE_KEYS[table])
    return f"SELECT {', '.join(exprs)} FROM {source} ORDER BY {order}"


def create_tables(con, schema: str = SCHEMA, replace: bool = True) -> None:
    """The landing tables of TABLES, empty, in `schema` of `con`; with `replace` false, only those
    that do not exist yet."""
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    create = "CREATE OR REPLACE TABLE" if replace else "CREATE TABLE IF NOT EXISTS"
    for table, columns in TABLES.items():
        ddl = ", ".join(f'"{name}" {kind}' for name, kind in columns)
        con.execute(f"{create} {schema}.{table} ({ddl})")


def land(con, entries: str, schema: str = SCHEMA, landed: str | None = None) -> dict[str, int]:
    """The landing tables in `con` from a load's store entries; row counts per table.

    `entries` names a relation of the load's files: (name VARCHAR, entry VARCHAR), `entry` the
    path of the Parquet store entry holding the file's result (several names may share one).

    Without `landed`, every table is created again and filled from every entry, in key order.
    `landed` names the (name, entry) pairs the tables in `con` already hold, landed by an
    earlier call (a copy of a published warehouse keeps them, `loader.landed_entries`): then
    only the entries that are new, gone or under other names are landed again — their old rows
    deleted, their new ones appended — which gives the same rows as landing every entry, since
    an entry's path names one content (store entries by sha256, kind and results version;
    transient entries by run). Cost: the changed entries, not the corpus."""
    if landed is None:
        create_tables(con, schema)
        _insert(con, entries, schema)
    else:
        _land_changes(con, entries, schema, landed)
    return {t: con.execute(f"SELECT count(*) FROM {schema}.{t}").fetchone()[0] for t in TABLES}


# Each entry with its names, sorted: the reports' source_files (their first name is source_file).
_NAMES = "SELECT entry, list(name ORDER BY name) AS names FROM {} GROUP BY entry"


def _land_changes(con, entries: str, schema: str, landed: str) -> None:
    """Delete the rows of the `landed` entries whose names changed (or that are gone) and insert
    those of the `entries` whose names changed (or that are new). A name belongs to one entry in a
    load, so an entry's rows are its names' rows: the reports whose `source_file` (its first name)
    is one of them, their parts, the error rows of its names."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE _now AS {_NAMES.format(entries)}")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _before AS {_NAMES.format(landed)}")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _gone AS SELECT unnest(b.names) AS name "
        "FROM _before b LEFT JOIN _now n USING (entry) WHERE n.names IS DISTINCT FROM b.names"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _gone_reports AS "
        f"SELECT report_id FROM {schema}.reports WHERE source_file IN (SELECT name FROM _gone)"
    )
    for part in FORM_PARTS:
        con.execute(f"DELETE FROM {schema}.{part} WHERE report_id IN (SELECT report_id FROM _gone_reports)")
    con.execute(f"DELETE FROM {schema}.reports WHERE source_file IN (SELECT name FROM _gone)")
    con.execute(f"DELETE FROM {schema}.extract_errors WHERE file IN (SELECT name FROM _gone)")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _arrived AS SELECT e.name, e.entry "
        f"FROM {entries} e JOIN _now n USING (entry) LEFT JOIN _before b USING (entry) "
        "WHERE n.names IS DISTINCT FROM b.names"
    )
    _insert(con, "_arrived", schema)
    for temp in ("_now", "_before", "_gone", "_gone_reports", "_arrived"):
        con.execute(f"DROP TABLE {temp}")


def _insert(con, entries: str, schema: str) -> None:
    """Append the rows of `entries` (name, entry) to the landing tables, each table in key order."""
    paths = [row[0] for row in con.execute(f"SELECT DISTINCT entry FROM {entries} ORDER BY 1").fetchall()]
    if not paths:
        return
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _store AS SELECT filename AS entry, forms, errors "
        "FROM read_parquet(?, filename = true)",
        [paths],
    )
    con.execute(
        "CREATE OR REPLACE TEMP VIEW _forms AS "
        "SELECT n.names, unnest(st.forms) AS s FROM _store st JOIN "
        f"({_NAMES.format(entries)}) n USING (entry)"
    )
    con.execute(f"INSERT INTO {schema}.reports {_select('reports', '_forms')}")
    for part in FORM_PARTS:
        source = f'(SELECT s.report_id AS report_id, unnest(s."{part}") AS s FROM _forms)'
        con.execute(f"INSERT INTO {schema}.{part} {_select(part, source)}")
    errors = f"(SELECT e.name, unnest(st.errors) AS s FROM {entries} e JOIN _store st USING (entry))"
    con.execute(f"INSERT INTO {schema}.extract_errors {_select('extract_errors', errors)}")
    con.execute("DROP VIEW _forms")
    con.execute("DROP TABLE _store")


def land_results(con, results: Sequence[FileResult], scratch: Path, schema: str = SCHEMA) -> dict[str, int]:
    """The landing tables (in `schema`) from FileResults (their `path` taken as the file's name),
    through store entries written under `scratch`: for building a warehouse from records outside a load."""
    from .store import write_entry

    con.execute("CREATE OR REPLACE TEMP TABLE _entries (name VARCHAR, entry VARCHAR)")
    for index, result in enumerate(results):
        key = result.sha256 or f"unread-{index}"
        path = write_entry(
            scratch / f"{key}-{result.kind}.parquet", result.sha256 or "", result.kind, file_row(result)
        )
        con.execute("INSERT INTO _entries VALUES (?, ?)", [result.path, str(path)])
    try:
        return land(con, "_entries", schema)
    finally:
        con.execute("DROP TABLE _entries")
