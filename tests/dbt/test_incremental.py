"""The marts keyed by report_id rebuild only the changed reports, and give the tables a full build
gives: real synthetic landing tables (benchmarks/synthetic_warehouse.py, the load's own writer),
real `loader.report_changes` (orchestration.warehouse.write_load_state against the previous
file, as a load writes it), real `dbt build` on real DuckDB files.

One small warehouse is built whole, then changed the ways loads change it: forms added, a form
re-published with new content (its text copy too), forms removed, the canonical copy of a form
removed while its text copy stays, a better copy of a form arriving, a file found under a second
name. The incremental build of the changed file must equal a --full-refresh build of it, table for
table, row for row.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from dbt_cli import dbt_cli

from benchmarks import synthetic_warehouse as synthetic
from orchestration.dbt_project import build_args
from orchestration.staging import create_tables
from orchestration.warehouse import write_load_state

FORMS = 120  # serials 0, 50 and 100 also have a text copy
# The incremental marts and everything upstream of them; tests are left to test_marts.py.
SELECT = [
    "--select",
    "+mart_report_quality",
    "+mart_unit_scorecard",
    "+dim_projects",
    "+dim_implementing_units",
    "+mart_deductions_by_category",
    "--exclude-resource-type",
    "test",
    "unit_test",
]
ONLY_CHANGED = ["--vars", json.dumps({"only_changed_reports": True})]
INCREMENTAL = (
    "intermediate.int_report_copies_ranked",
    "intermediate.int_reports_deduplicated",
    "intermediate.int_deductions_categorized",
    "marts.dim_reports",
    "marts.fct_funding_execution",
    "marts.fct_indicator_outcomes",
    "marts.fct_deductions",
    "marts.mart_report_quality",
    "marts.dim_projects",
    "marts.dim_implementing_units",
    "marts.mart_unit_scorecard",
    "marts.mart_deductions_by_category",
)


def _build(path: Path, workdir: Path, *extra: str, incremental: bool = True) -> None:
    result = dbt_cli(["build", *SELECT, *(ONLY_CHANGED if incremental else []), *extra], workdir, path)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]


def _report_id(con: duckdb.DuckDBPyConnection, serial: int, copy: str, version: int = 0) -> str:
    ids = synthetic._report_ids([serial], version, (copy,))
    return con.execute(f"SELECT * FROM {ids}").fetchone()[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("incremental")
    before, after, full = work / "before.duckdb", work / "after.duckdb", work / "full.duckdb"
    synthetic.create(before, FORMS)
    con = duckdb.connect(str(before))
    try:
        synthetic.load_templates(con)
        synthetic.remove_forms(con, [100], copies=("pdf",))  # form 100: only its text copy
        write_load_state(con, "before", work / "none.duckdb")  # every report added
    finally:
        con.close()
    _build(before, work, incremental=False)

    shutil.copyfile(before, after)
    con = duckdb.connect(str(after))
    try:
        synthetic.load_templates(con)
        synthetic.add_forms(con, range(FORMS, FORMS + 5))
        synthetic.add_forms(con, [150])  # a new form with its text copy
        synthetic.change_forms(con, [3, 50])  # new content; 50's text copy too
        synthetic.remove_forms(con, [7])
        synthetic.remove_forms(con, [0], copies=("pdf",))  # the text copy becomes canonical
        synthetic.add_forms(con, [100], copies=("pdf",))  # a better copy than the text one
        synthetic.rename_forms(con, [9])
        changes = write_load_state(con, "after", before, builds_on_published=True)
        ids = {
            "text_0": _report_id(con, 0, "text"),
            "text_100": _report_id(con, 100, "text"),
            "pdf_100": _report_id(con, 100, "pdf"),
            "pdf_0": _report_id(con, 0, "pdf"),
            "pdf_9": _report_id(con, 9, "pdf"),
        }
    finally:
        con.close()
    _build(after, work)
    # what dbt ran for the biggest mart and for an aggregate: the queries, the statements that wrote
    compiled = {
        model: next((work / "target" / "compiled").rglob(f"{model}.sql")).read_text()
        + next((work / "target" / "run").rglob(f"{model}.sql")).read_text()
        for model in ("fct_indicator_outcomes", "mart_unit_scorecard")
    }
    # what a build's data tests would read there
    result = dbt_cli(["compile", "--select", *TEST_READS, *ONLY_CHANGED], work, after)
    assert result.returncode == 0, result.stdout[-6000:]
    tests = {
        test: next((work / "target" / "compiled").rglob(f"{test}.sql")).read_text() for test in TEST_READS
    }
    shutil.copyfile(after, full)
    _build(full, work, "--full-refresh")
    return {
        "before": before,
        "after": after,
        "full": full,
        "changes": changes,
        "ids": ids,
        "compiled": compiled,
        "tests": tests,
    }


def _rows(path: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_the_load_reports_every_kind_of_change(built):
    # added: 5 new, 150 and its text copy, the new content of 3 and of 50's two copies, 100's PDF;
    # removed: the old content of those, 7, 0's PDF; updated: 9 under a second name
    assert built["changes"] == {"added": 11, "removed": 5, "updated": 1}


def test_only_the_changed_reports_and_their_copies_are_rebuilt(built):
    rebuilt = {
        r[0] for r in _rows(built["after"], "SELECT report_id FROM intermediate.int_reports_to_rebuild")
    }
    ids = built["ids"]
    # unchanged, but their form's canonical copy changed
    assert {ids["text_0"], ids["text_100"]} <= rebuilt
    assert {ids["pdf_0"], ids["pdf_100"], ids["pdf_9"]} <= rebuilt
    assert len(rebuilt) == 17 + 2, sorted(rebuilt)
    total = _rows(built["after"], "SELECT count(*) FROM raw.reports")[0][0]
    assert len(rebuilt) < total / 5
    # the incremental query ran, and appended to the table rather than replacing it
    for model, compiled in built["compiled"].items():
        assert "int_reports_to_rebuild" in compiled, model
        assert f'insert into "after"."marts"."{model}"' in compiled, model
    assert _rows(built["full"], "SELECT count(*) FROM marts.dim_reports") == _rows(
        built["after"], "SELECT count(*) FROM marts.dim_reports"
    )


# data test → the list of reports it reads on a build on the published warehouse (None: every row)
TEST_READS = {
    "not_null_int_indicators_assessed_report_id": "loader.report_changes",  # a view keyed by report_id
    "not_null_fct_deductions_report_id": "intermediate.int_reports_to_rebuild",  # a report-keyed table
    "unique_fct_deductions_deduction_id": None,  # a key without report_id
    "not_null_stg_extract__errors_file": None,  # a view without report_id
    "not_null_dim_projects_project_key": None,  # an aggregate
}


@pytest.mark.parametrize("test", TEST_READS)
def test_each_data_test_reads_the_rebuilt_reports_only_where_that_gives_its_verdict(built, test):
    sql = " ".join(built["tests"][test].split()).replace('"', "")
    reads = TEST_READS[test]
    if reads is None:
        assert "report_changes" not in sql and "int_reports_to_rebuild" not in sql, sql
    else:
        assert f"report_id in (select report_id from after.{reads})" in sql, sql


def test_canonical_copies_follow_the_change(built):
    ids = built["ids"]
    canonical = {r[0] for r in _rows(built["after"], "SELECT report_id FROM marts.dim_reports")}
    assert ids["text_0"] in canonical and ids["pdf_0"] not in canonical
    assert ids["pdf_100"] in canonical and ids["text_100"] not in canonical
    files = _rows(
        built["after"], f"SELECT source_files FROM marts.dim_reports WHERE report_id = '{ids['pdf_9']}'"
    )
    assert len(files[0][0]) == 2


@pytest.mark.parametrize("table", INCREMENTAL)
def test_incremental_build_equals_a_full_refresh(built, table):
    _assert_same_table(built["after"], built["full"], table)


def _assert_same_table(path: Path, full: Path, table: str) -> None:
    """`table` holds the same rows (as a multiset) in the file `path` as in the full build `full`."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        con.execute(f"ATTACH '{full}' AS full_build (READ_ONLY)")
        mine = table
        theirs = f"full_build.{table}"
        assert (
            con.execute(f"SELECT count(*) FROM {mine}").fetchone()
            == con.execute(f"SELECT count(*) FROM {theirs}").fetchone()
        )
        extra = con.execute(f"SELECT * FROM {mine} EXCEPT ALL SELECT * FROM {theirs}").fetchall()
        missing = con.execute(f"SELECT * FROM {theirs} EXCEPT ALL SELECT * FROM {mine}").fetchall()
        assert not extra and not missing, (extra[:3], missing[:3])
    finally:
        con.close()


def test_a_build_that_keeps_the_marts_needs_a_file_a_load_landed(built, tmp_path):
    """With only_changed_reports, dbt refuses a file without loader.load_state (no load landed it:
    nothing lists what its marts miss), before building anything."""
    path = tmp_path / "refused.duckdb"
    shutil.copyfile(built["before"], path)
    con = duckdb.connect(str(path))
    try:
        con.execute("DROP TABLE loader.load_state")
    finally:
        con.close()
    result = dbt_cli(["build", "--select", "stg_extract__reports", *ONLY_CHANGED], tmp_path, path)
    assert result.returncode != 0
    assert "the build file has no loader.load_state" in result.stdout, result.stdout[-3000:]
    assert "1 of 1 START" not in result.stdout


@pytest.mark.parametrize("table", INCREMENTAL)
def test_a_fresh_file_built_as_a_load_builds_it_equals_a_full_build(built, fresh, table):
    """A fresh build file (no marts; the published warehouse built by other code) lists every
    report in loader.report_changes and is built with the same vars as a copy of the published
    one (dbt's partial parse stays valid): it gives the tables of a build without the var."""
    _assert_same_table(fresh, built["full"], table)


@pytest.fixture(scope="module")
def fresh(built, tmp_path_factory) -> Path:
    """The landing tables of built["after"] in a file without marts, landed as a load lands a fresh
    file (load_state not on the published warehouse) and built as the load builds it."""
    work = tmp_path_factory.mktemp("fresh")
    path = work / "fresh.duckdb"
    shutil.copyfile(built["after"], path)
    con = duckdb.connect(str(path))
    try:
        for schema in ("staging", "intermediate", "marts"):
            con.execute(f"DROP SCHEMA {schema} CASCADE")
        changes = write_load_state(con, "fresh", built["before"], builds_on_published=False)
        listed = con.execute("SELECT change, count(*) FROM loader.report_changes GROUP BY ALL").fetchall()
        reports = con.execute("SELECT count(*) FROM raw.reports").fetchone()[0]
    finally:
        con.close()
    assert changes == built["changes"]  # counted against the published warehouse
    assert listed == [("added", reports)]  # what the file's marts miss: everything
    # the var a load passes on a fresh file it landed
    assert json.loads(build_args(path, True, builds_on_published=False)[1])["only_changed_reports"] is True
    _build(path, work)
    return path


def test_a_load_builds_on_the_published_warehouse_only_when_asked(tmp_path):
    """The build file is a copy of the published warehouse (its marts kept) with from_published,
    else empty; the load state says which, and which run landed it."""
    from conftest import settings_for

    from orchestration import warehouse

    settings = settings_for(tmp_path / "data_raw", tmp_path / "warehouse" / "warehouse.duckdb")
    settings.warehouse.parent.mkdir(parents=True)
    con = duckdb.connect(str(settings.warehouse))
    try:
        create_tables(con)
        write_load_state(con, "fp-1", tmp_path / "none.duckdb", "code-1", "run-1")
        con.execute("CREATE SCHEMA marts; CREATE TABLE marts.kept AS SELECT 42 AS answer")
    finally:
        con.close()
    assert warehouse.published_code_version(settings) == "code-1"
    assert warehouse.landing(settings.warehouse) == ("run-1", False)

    build = warehouse.start_build(settings, "run-2", from_published=True)
    con = duckdb.connect(str(build))
    try:
        assert con.execute("SELECT answer FROM marts.kept").fetchall() == [(42,)]
        write_load_state(con, "fp-2", settings.warehouse, "code-1", "run-2", builds_on_published=True)
        assert con.execute("SELECT * FROM loader.load_state").fetchall() == [
            ("fp-2", "code-1", "run-2", True)
        ]
    finally:
        con.close()
    assert warehouse.landing(build) == ("run-2", True)

    build = warehouse.start_build(settings, "run-3")
    con = duckdb.connect(str(build))
    try:
        assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchone()[0] == 0
    finally:
        con.close()
    assert warehouse.landing(build) == (None, False)


# (data test, table it reads, statement that breaks one report's rows, whether a build on the
# published warehouse checks only the rebuilt reports)
TAMPERED_TESTS = [
    (
        "not_null_fct_funding_execution_line_no",
        "marts.fct_funding_execution",
        "UPDATE marts.fct_funding_execution SET line_no = NULL WHERE report_id = ? AND line_no = 1",
        True,
    ),
    (
        "assert_funding_lines_complete",
        "marts.fct_funding_execution",
        "DELETE FROM marts.fct_funding_execution WHERE report_id = ? AND line_no = 2",
        True,
    ),
    (
        # built before int_reports_to_rebuild: its tests would read the previous build's list
        "not_null_int_report_copies_ranked_copy_rank",
        "intermediate.int_report_copies_ranked",
        "UPDATE intermediate.int_report_copies_ranked SET copy_rank = NULL WHERE report_id = ?",
        False,
    ),
]


@pytest.mark.parametrize(("test", "table", "breaks", "restricted"), TAMPERED_TESTS)
def test_a_data_test_of_a_report_keyed_table_reads_the_rebuilt_reports_only(
    built, tmp_path, test, table, breaks, restricted
):
    """On a build that builds on the published warehouse, a test of a table keyed by report_id
    (a generic test, or a singular test judging each report alone) fails on a bad row of a rebuilt
    report and leaves an unchanged report's rows to the build that tested them (where
    `restricted`; otherwise it fails there too), and reads every row again without the var."""
    selected = ["test", "--select", test]

    def tampered(name: str, where: str) -> Path:
        path = tmp_path / f"{name}.duckdb"
        shutil.copyfile(built["after"], path)
        con = duckdb.connect(str(path))
        try:
            report = con.execute(
                f"SELECT min(report_id) FROM {table} WHERE report_id {where} "
                "(SELECT report_id FROM intermediate.int_reports_to_rebuild) "
                "AND report_id IN (SELECT report_id FROM marts.dim_reports)"
            ).fetchone()[0]
            con.execute(breaks, [report])
        finally:
            con.close()
        return path

    rebuilt, unchanged = tampered("rebuilt", "IN"), tampered("unchanged", "NOT IN")
    failed = dbt_cli([*selected, *ONLY_CHANGED], tmp_path / "a", rebuilt)
    assert failed.returncode == 1 and "Got 1 result" in failed.stdout, failed.stdout[-3000:]
    on_unchanged = dbt_cli([*selected, *ONLY_CHANGED], tmp_path / "b", unchanged)
    assert on_unchanged.returncode == (0 if restricted else 1), on_unchanged.stdout[-3000:]
    whole = dbt_cli(selected, tmp_path / "c", unchanged)
    assert whole.returncode == 1 and "Got 1 result" in whole.stdout, whole.stdout[-3000:]


def _listed(workdir: Path, warehouse: Path, *args: str) -> set[str]:
    result = dbt_cli(["ls", "--quiet", "--output", "name", *args], workdir, warehouse)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return set(result.stdout.split())


def test_a_build_on_the_published_warehouse_runs_every_data_test_but_no_unit_test(built, tmp_path):
    """What a load's build leaves out on a copy of the published warehouse (build_args): the unit
    tests, which the same code version already passed; never a model, seed or data test."""
    vars_only = build_args(built["after"], only_changed_reports=True, builds_on_published=False)
    on_published = build_args(built["after"], only_changed_reports=True, builds_on_published=True)
    everything = _listed(tmp_path, built["after"], *vars_only)
    left = _listed(tmp_path, built["after"], *on_published)
    unit_tests = _listed(tmp_path, built["after"], "--resource-type", "unit_test")
    assert len(unit_tests) >= 5
    assert everything - left == unit_tests and left < everything
