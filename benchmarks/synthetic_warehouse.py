"""Synthetic landing tables at national size: the `raw` tables a load writes, for N forms.

    python benchmarks/synthetic_warehouse.py OUT.duckdb [--forms 1000000]

The shapes come from the hand-checked sample records (tests/fixtures/reports.json): each is
landed once by the load's own writer (`orchestration.staging.land_results`, validated by
`extract.validate`, so the columns, types, checks and parsed targets are exactly what a load
writes), and those rows are the templates. Every synthetic form copies one template, chosen by a
hash of its serial number with larger forms weighted up (≈ 15 indicators a form, as the national
corpus has): its own sha256 and report_id, project name, implementing unit (one of 20,000),
fiscal year (2019-2024) and funding amounts (万元, one factor 1.0-9.9 a form, so every printed
execution rate and score still holds). Every 50th form is also landed as a text dump of itself
(a second copy of the printed form: deduplication works at scale too). All of it is generated
inside DuckDB with SQL; no Python list holds the rows.

Changes for incremental builds: `add_forms` (new serials), `remove_forms`, `change_forms` (new
content: a new sha256, so the old report is removed and a new one added, as a re-published PDF
gives) and `rename_forms` (same content under another file name: `updated`).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
for _path in (ROOT, ROOT / "tests"):
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from gold import record_from_gold  # noqa: E402 - the sample records as a reader returns them

from extract.record import FileResult  # noqa: E402
from orchestration.staging import FORM_PARTS, SCHEMA, TABLES, create_tables, land_results  # noqa: E402

TEXT_COPY_EVERY = 50  # every 50th form is landed twice: as its PDF and as a text dump
UNITS = 20_000  # implementing units the forms are spread over
FIRST_YEAR, YEARS = 2019, 6


def _sha(serial: str, version: str, copy: str) -> str:
    """SQL: a 64-hex sha256 stand-in of one synthetic file (form `serial`, content `version`)."""
    seed = f"'synthetic-' || {serial} || '-v' || {version} || '-{copy}'"
    return f"(md5({seed}) || md5({seed} || '-2'))"


TEMPLATES = "synthetic_templates"  # schema the sample records are landed in, dropped once copied


def load_templates(con: duckdb.DuckDBPyConnection) -> int:
    """The sample records landed by the load's writer, kept as temp tables tpl_<table> with a
    template number `t`, and `_slots` (slot → t, larger forms in more slots); the raw tables are
    created (empty) where there are none. Returns the number of templates."""
    records = json.loads((ROOT / "tests/fixtures/reports.json").read_text(encoding="utf-8"))
    results = []
    for t, gold in enumerate(records):
        sha = f"{t + 1:016x}" * 4  # distinct in the 16 hex digits of its report_id
        record = record_from_gold(gold, f"template-{t}.pdf", sha, 1)
        results.append(FileResult(path=f"template-{t}.pdf", sha256=sha, kind="pdf", records=[record]))
    with tempfile.TemporaryDirectory() as scratch:
        land_results(con, results, Path(scratch), TEMPLATES)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE tpl_reports AS SELECT *, row_number() OVER (ORDER BY sha256) - 1 AS t "
        f"FROM {TEMPLATES}.reports"
    )
    for part in FORM_PARTS:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE tpl_{part} AS SELECT p.*, r.t FROM {TEMPLATES}.{part} p "
            "JOIN tpl_reports r USING (report_id)"
        )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _slots AS SELECT row_number() OVER (ORDER BY t, k) - 1 AS slot, t "
        "FROM tpl_reports, range(n_indicators // 4 + 1) AS k(k)"
    )
    con.execute(f"DROP SCHEMA {TEMPLATES} CASCADE")
    create_tables(con, replace=False)
    return len(records)


COPIES = ("pdf", "text")


def _forms_sql(serials: str, version: str, copies: Sequence[str] = COPIES) -> str:
    """SQL of the synthetic files of the forms in `serials` (a relation of `serial`): one row per
    copy (of those in `copies`) with serial, template t, sha256, file name and amount factor."""
    wanted = ", ".join(f"('{c}')" for c in copies)
    return f"""
        SELECT s.serial, c.copy, sl.t,
               CASE c.copy WHEN 'pdf' THEN {_sha("s.serial", version, "pdf")}
                           ELSE {_sha("s.serial", version, "text")} END AS sha256,
               'synthetic/' || lpad(s.serial::varchar, 8, '0') || CASE c.copy WHEN 'pdf' THEN '.pdf'
                   ELSE '.txt' END AS file,
               1 + (hash(s.serial, 'amounts') % 90) / 10.0 AS factor
        FROM {serials} s
        JOIN _slots sl ON sl.slot = hash(s.serial) % (SELECT count(*) FROM _slots)
        JOIN (VALUES {wanted}) c(copy)
          ON c.copy = 'pdf' OR s.serial % {TEXT_COPY_EVERY} = 0"""


def _insert(con: duckdb.DuckDBPyConnection, table: str, source: str, overrides: dict[str, str]) -> None:
    """INSERT INTO raw.<table> every column of TABLES[table] from `source` (template columns
    prefixed p., the file's as f.), `overrides` replacing some of them by SQL expressions."""
    exprs = [overrides.get(name, f'p."{name}"') for name, _ in TABLES[table]]
    con.execute(f"INSERT INTO {SCHEMA}.{table} SELECT {', '.join(exprs)} FROM {source}")


def add_forms(
    con: duckdb.DuckDBPyConnection,
    serials: Sequence[int] | range,
    version: int = 0,
    copies: Sequence[str] = COPIES,
) -> int:
    """Land the synthetic forms numbered `serials` (content `version`; of a form with a text copy,
    the copies named in `copies`) into the raw tables; returns the number of reports added.
    Needs `load_templates` first."""
    if isinstance(serials, range) and serials.step == 1:
        relation = f"(SELECT range AS serial FROM range({serials.start}, {serials.stop}))"
    else:
        relation = f"(SELECT unnest({list(serials)}::BIGINT[]) AS serial)"
    con.execute(f"CREATE OR REPLACE TEMP TABLE _files AS {_forms_sql(relation, str(version), copies)}")
    con.execute(
        "ALTER TABLE _files ADD COLUMN report_id VARCHAR; "
        "UPDATE _files SET report_id = left(sha256, 16) || '-01'"
    )
    files = "_files f JOIN tpl_{table} p USING (t)"
    text = "f.copy = 'text'"
    revised = f"CASE WHEN {version} > 0 THEN '（修订' || {version} || '）' ELSE '' END"
    _insert(
        con,
        "reports",
        files.format(table="reports"),
        {
            "report_id": "f.report_id",
            "sha256": "f.sha256",
            "source_file": "f.file",
            "source_files": "[f.file]",
            "source_kind": f"CASE WHEN {text} THEN 'text' ELSE p.source_kind END",
            "pages": f"CASE WHEN {text} THEN []::INTEGER[] ELSE p.pages END",
            "glyphs_set_aside": f"CASE WHEN {text} THEN NULL ELSE p.glyphs_set_aside END",
            "glyphs_unplaced": f"CASE WHEN {text} THEN NULL ELSE p.glyphs_unplaced END",
            "fiscal_year": f"{FIRST_YEAR} + f.serial % {YEARS}",
            "project_name": "p.project_name || '（' || f.serial || '）'",
            "implementing_unit": (
                f"coalesce(p.implementing_unit, p.supervising_dept) || '第' || (f.serial % {UNITS}) || '分部'"
            ),
            "goal_actual": f"p.goal_actual || {revised}",
        },
    )
    scaled = {c: f'p."{c}" * f.factor' for c in ("budget_initial", "budget_full_year", "executed")}
    _insert(con, "funding_lines", files.format(table="funding_lines"), {"report_id": "f.report_id", **scaled})
    _insert(con, "indicators", files.format(table="indicators"), {"report_id": "f.report_id"})
    _insert(con, "checks", files.format(table="checks"), {"report_id": "f.report_id"})
    added = con.execute("SELECT count(*) FROM _files").fetchone()[0]
    con.execute("DROP TABLE _files")
    return added


def _report_ids(serials: Sequence[int], version: int, copies: Sequence[str] = COPIES) -> str:
    relation = f"(SELECT unnest({list(serials)}::BIGINT[]) AS serial)"
    return f"(SELECT left(sha256, 16) || '-01' FROM ({_forms_sql(relation, str(version), copies)}))"


def remove_forms(
    con: duckdb.DuckDBPyConnection, serials: Sequence[int], version: int = 0, copies: Sequence[str] = COPIES
) -> None:
    """Delete the copies (of those in `copies`) of the forms `serials` (content `version`) from the
    raw tables."""
    ids = _report_ids(serials, version, copies)
    for table in ("reports", *FORM_PARTS):
        con.execute(f"DELETE FROM {SCHEMA}.{table} WHERE report_id IN {ids}")


def change_forms(con: duckdb.DuckDBPyConnection, serials: Sequence[int], version: int = 1) -> None:
    """The forms `serials` re-published with new content (`version`): a new sha256, so a new report."""
    remove_forms(con, serials, version - 1)
    add_forms(con, serials, version)


def rename_forms(con: duckdb.DuckDBPyConnection, serials: Sequence[int], version: int = 0) -> None:
    """The same files of the forms `serials` found under a second name as well (change `updated`)."""
    con.execute(
        f"UPDATE {SCHEMA}.reports SET source_files = list_sort(list_append(source_files, "
        "'synthetic/renamed/' || source_file)) "
        f"WHERE report_id IN {_report_ids(serials, version)}"
    )


def create(path: Path, forms: int, batch: int = 250_000) -> dict[str, int]:
    """A new DuckDB file at `path` holding the raw tables of `forms` synthetic forms (serials
    0..forms-1), written in batches of `batch` forms; returns row counts per table."""
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        load_templates(con)
        for start in range(0, forms, batch):
            add_forms(con, range(start, min(forms, start + batch)))
            print(f"  {min(forms, start + batch):,} / {forms:,} forms", file=sys.stderr, flush=True)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return counts(path)


def counts(path: Path) -> dict[str, int]:
    """Row counts per raw table of the DuckDB file at `path`."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return {t: con.execute(f"SELECT count(*) FROM {SCHEMA}.{t}").fetchone()[0] for t in TABLES}
    finally:
        con.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="DuckDB file to (re)create")
    parser.add_argument("--forms", type=int, default=1_000_000, help="synthetic forms (default 1,000,000)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = create(args.out, args.forms)
    print(
        f"{args.out}: "
        + ", ".join(f"{table} {rows:,}" for table, rows in counts.items())
        + f" in {time.perf_counter() - started:.1f} s"
    )


if __name__ == "__main__":
    main()
