"""Record validations as asset checks on `raw/reports`.

The arithmetic checks extract/validate.py attaches to every record (weights add up, scores add up,
execution rates match the amounts, the grade matches the score, the form is complete) are reported
per family, with the number of failing reports. A published form that does not add up is a finding,
not a broken load: severity WARN. A further check counts the files that could not be read.

Counted in SQL by the landing step on its own connection to the build file, so no second
connection is needed while dbt writes to it.
"""

from collections.abc import Iterator

import dagster as dg
import duckdb

from ...staging import CHECK_FAMILIES, CHECK_INDEX, SCHEMA

STG_REPORTS = dg.AssetKey([SCHEMA, "reports"])
EXTRACTION_ERRORS_CHECK = "extraction_errors"
PREVIEW_ROWS = 20

FAMILY_DESCRIPTIONS = {
    "weights_sum": "Indicator 分值 plus the funding 分值 add up to the 总分 分值 (normally 100).",
    "scores_sum": "Indicator 得分 plus the funding 得分 add up to the 总分 得分 (to 0.01).",
    "execution_rate": (
        "Each printed 执行率 equals 100 × 全年执行数 / 全年预算数 (or / 年初预算数 where that is blank)."
    ),
    "grade_band": "The printed 评分等级 matches the total score (优 ≥ 90, 良 ≥ 80, 中 ≥ 60, else 差).",
    "complete": "The form has a project name, four funding lines, indicators and a total score.",
}


def record_check_specs() -> list[dg.AssetCheckSpec]:
    specs = [
        dg.AssetCheckSpec(family, asset=STG_REPORTS, description=FAMILY_DESCRIPTIONS[family])
        for family in CHECK_FAMILIES
    ]
    specs.append(
        dg.AssetCheckSpec(
            EXTRACTION_ERRORS_CHECK,
            asset=STG_REPORTS,
            description="Files (or forms) that could not be read: rows of raw.extract_errors.",
        )
    )
    return specs


def record_check_results(con: duckdb.DuckDBPyConnection) -> Iterator[dg.AssetCheckResult]:
    """The check results, counted in SQL on the landing tables `con` has just written."""
    family = "regexp_replace(c.check_name, $index, '')"  # staging.check_family, in SQL
    for name in CHECK_FAMILIES:
        failing_reports, failing_checks, checked = con.execute(
            "SELECT count(DISTINCT report_id) FILTER (WHERE NOT passed), "
            "count(*) FILTER (WHERE NOT passed), count(DISTINCT report_id) "
            f"FROM {SCHEMA}.checks c WHERE {family} = $name",
            {"index": CHECK_INDEX, "name": name},
        ).fetchone()
        failures = con.execute(
            "SELECT c.report_id, r.source_file, r.project_name, c.check_name, c.actual, c.expected, "
            f"c.detail FROM {SCHEMA}.checks c JOIN {SCHEMA}.reports r USING (report_id) "
            f"WHERE NOT c.passed AND {family} = $name "
            f"ORDER BY c.report_id, c.check_name LIMIT {PREVIEW_ROWS}",
            {"index": CHECK_INDEX, "name": name},
        ).fetchall()
        lines = [
            f"- {rid} {file} {project}: {check} printed {actual}, expected {expected}"
            + (f" — {detail}" if detail else "")
            for rid, file, project, check, actual, expected, detail in failures
        ]
        yield dg.AssetCheckResult(
            asset_key=STG_REPORTS,
            check_name=name,
            passed=not failing_reports,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "failing_reports": failing_reports,
                "failing_checks": failing_checks,
                "checked_reports": checked,
                "failures": dg.MetadataValue.md("\n".join(lines) or "none"),
            },
        )

    errors, files = con.execute(
        f"SELECT count(*), count(DISTINCT file) FROM {SCHEMA}.extract_errors"
    ).fetchone()
    by_class = con.execute(
        f"SELECT error_class, count(*) FROM {SCHEMA}.extract_errors GROUP BY ALL ORDER BY 1"
    ).fetchall()
    listing = con.execute(
        f"SELECT file, error_class, message FROM {SCHEMA}.extract_errors ORDER BY ALL LIMIT {PREVIEW_ROWS}"
    ).fetchall()
    yield dg.AssetCheckResult(
        asset_key=STG_REPORTS,
        check_name=EXTRACTION_ERRORS_CHECK,
        passed=not errors,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "errors": errors,
            "files_with_errors": files,
            "by_error_class": dg.MetadataValue.json(dict(by_class)),
            "errors_preview": dg.MetadataValue.md(
                "\n".join(f"- {f}: {c} — {m}" for f, c, m in listing) or "none"
            ),
        },
    )
