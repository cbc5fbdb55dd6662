"""Exports of the marts for people who do not write SQL: CSV, Parquet and one Excel workbook.

Written from the published warehouse into `Settings.exports_dir` (`exports/` beside the warehouse
file, so a warehouse moved with WAREHOUSE_PATH carries its exports):

- `csv/<mart>.csv`: UTF-8 with a byte-order mark, so Excel opens the Chinese text as Chinese; lists
  (e.g. `corrected_fields`) as DuckDB prints them (`[a, b]`).
- `parquet/<mart>.parquet`: the marts' own column types.
- `marts.xlsx`: one sheet per mart; each header cell is the English column name with the form's
  Chinese term beneath it, read from the column's description (the first parenthesised term in
  Chinese, e.g. "Implementing unit (实施单位)" → 实施单位), which dbt persisted into the warehouse.
  A mart longer than an Excel sheet continues on sheets `<mart>_2`, `<mart>_3`, …

Every file is written beside its final name and moved over it, so a reader never opens half an export.
A load writes them after each publish; `make export` (`python -m orchestration.exports`) writes
them, and the report (orchestration/report.py), from the published warehouse on demand.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from extract.wording import counted

MARTS = "marts"
WORKBOOK = "marts.xlsx"
EXCEL_MAX_ROWS = 1_048_576  # rows of an Excel sheet, the header row included
FETCH_ROWS = 10_000
BOM = "\ufeff".encode()
# The form's term in a description: the first parenthesis (half- or full-width) holding Chinese.
CHINESE_TERM = re.compile(r"[(（]([^()（）]*[\u4e00-\u9fff][^()（）]*)[)）]")


@dataclass(frozen=True)
class ExportSummary:
    """What `export_marts` wrote: the folder, and the rows of every mart (`{mart: rows}`)."""

    folder: Path
    rows: dict[str, int]


def chinese_term(description: str | None) -> str | None:
    """The form's Chinese term a column description gives in parentheses, e.g.
    "Implementing unit (实施单位); NULL when …" → "实施单位"; None when it gives none."""
    match = CHINESE_TERM.search(description or "")
    return match.group(1).strip() if match else None


def mart_columns(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple[str, str | None]]]:
    """Every mart (tables of schema `marts`) → its columns as (name, Chinese term or None), in order."""
    rows = con.execute(
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE schema_name = ? "
        "AND table_name IN (SELECT table_name FROM duckdb_tables() WHERE schema_name = ?) "
        "ORDER BY table_name, column_index",
        [MARTS, MARTS],
    ).fetchall()
    marts: dict[str, list[tuple[str, str | None]]] = {}
    for table, column, comment in rows:
        marts.setdefault(table, []).append((column, chinese_term(comment)))
    return marts


def _write_csv(con: duckdb.DuckDBPyConnection, mart: str, path: Path) -> None:
    body = path.with_name(path.name + ".body")
    con.execute(f"COPY {MARTS}.\"{mart}\" TO '{_sql_path(body)}' (FORMAT csv, HEADER)")
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as out, open(body, "rb") as src:
        out.write(BOM)
        shutil.copyfileobj(src, out)
    body.unlink()
    os.replace(tmp, path)


def _write_parquet(con: duckdb.DuckDBPyConnection, mart: str, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    con.execute(f"COPY {MARTS}.\"{mart}\" TO '{_sql_path(tmp)}' (FORMAT parquet)")
    os.replace(tmp, path)


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _cell(value):
    """A value Excel can hold: lists and structs as text, everything else as it is."""
    if isinstance(value, (list, tuple, dict)):
        return str(value)
    return value


def _write_workbook(
    con: duckdb.DuckDBPyConnection, marts: dict[str, list[tuple[str, str | None]]], path: Path
) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font

    workbook = Workbook(write_only=True)
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    for mart, columns in marts.items():

        def new_sheet(part: int, mart=mart, columns=columns):
            sheet = workbook.create_sheet(mart if part == 1 else f"{mart}_{part}")
            sheet.freeze_panes = "A2"
            header = []
            for name, term in columns:
                cell = WriteOnlyCell(sheet, value=f"{name}\n{term}" if term else name)
                cell.font, cell.alignment = bold, wrap
                header.append(cell)
            sheet.append(header)
            return sheet

        part, sheet, rows_on_sheet = 1, new_sheet(1), 1
        result = con.execute(f'SELECT * FROM {MARTS}."{mart}"')
        while batch := result.fetchmany(FETCH_ROWS):
            for row in batch:
                if rows_on_sheet == EXCEL_MAX_ROWS:
                    part += 1
                    sheet, rows_on_sheet = new_sheet(part), 1
                sheet.append([_cell(v) for v in row])
                rows_on_sheet += 1
    tmp = path.with_name(path.name + ".tmp")
    workbook.save(tmp)
    os.replace(tmp, path)


def export_marts(warehouse: Path, folder: Path) -> ExportSummary:
    """Write every mart of the warehouse file `warehouse` as CSV, Parquet and one Excel workbook
    into `folder` (created; exports of marts that no longer exist are removed).

    Opens the warehouse read-only. Raises FileNotFoundError when there is no warehouse file, and
    duckdb.Error when it cannot be read."""
    if not warehouse.is_file():
        raise FileNotFoundError(f"no warehouse at {warehouse}: run `make run` first")
    csv_dir, parquet_dir = folder / "csv", folder / "parquet"
    for sub in (csv_dir, parquet_dir):
        sub.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        marts = mart_columns(con)
        rows = {}
        for mart in marts:
            _write_csv(con, mart, csv_dir / f"{mart}.csv")
            _write_parquet(con, mart, parquet_dir / f"{mart}.parquet")
            rows[mart] = con.execute(f'SELECT count(*) FROM {MARTS}."{mart}"').fetchone()[0]
        _write_workbook(con, marts, folder / WORKBOOK)
    finally:
        con.close()
    for sub, suffix in ((csv_dir, ".csv"), (parquet_dir, ".parquet")):
        for old in sub.glob(f"*{suffix}"):
            if old.stem not in marts:
                old.unlink()
    return ExportSummary(folder, rows)


def main() -> int:
    """`make export`: the exports and the report of the published warehouse (WAREHOUSE_PATH)."""
    import sys

    from .report import build_report
    from .settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        written = export_marts(settings.warehouse, settings.exports_dir)
        page = build_report(settings.warehouse, settings.report_path, settings.data_raw)
    except (SettingsError, FileNotFoundError, duckdb.Error) as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 1
    total = sum(written.rows.values())
    marts, rows = counted(len(written.rows), "mart"), counted(total, "row")
    print(f"exported {marts} ({rows}) to {written.folder}; report at {page.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
