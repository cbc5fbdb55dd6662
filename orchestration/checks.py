"""Record validations as asset checks on `raw/reports`.

The arithmetic checks extract/validate.py attaches to every record (weights add up, scores add up,
execution rates match the amounts, the grade matches the score, the form is complete) are reported
per family, with the number of failing reports. A published form that does not add up is a finding,
not a broken load: severity WARN. A further check counts the files that could not be read.

Computed from the staging frames inside the staging step, so no second connection to the build
file is needed while dbt writes to it.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pandas as pd

from .staging import CHECK_FAMILIES, check_family

STG_REPORTS = dg.AssetKey(["raw", "reports"])
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


def record_check_results(frames: dict[str, pd.DataFrame]) -> Iterator[dg.AssetCheckResult]:
    reports = frames["reports"].set_index("report_id")
    checks = frames["checks"].assign(family=lambda df: df["check_name"].map(check_family))
    for family in CHECK_FAMILIES:
        of_family = checks[checks["family"] == family]
        failing = of_family[~of_family["passed"].astype(bool)]
        failing_reports = sorted(set(failing["report_id"]))
        lines = []
        for row in failing.head(PREVIEW_ROWS).itertuples():
            report = reports.loc[row.report_id]
            lines.append(
                f"- {row.report_id} {report['source_file']} {report['project_name']}: {row.check_name} "
                f"printed {row.actual}, expected {row.expected}{' — ' + row.detail if row.detail else ''}"
            )
        yield dg.AssetCheckResult(
            asset_key=STG_REPORTS,
            check_name=family,
            passed=not failing_reports,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "failing_reports": len(failing_reports),
                "failing_checks": len(failing),
                "checked_reports": int(of_family["report_id"].nunique()),
                "failures": dg.MetadataValue.md("\n".join(lines) or "none"),
            },
        )

    errors = frames["extract_errors"]
    by_class = errors["error_class"].value_counts().sort_index()
    listing = [f"- {r.file}: {r.error_class} — {r.message}" for r in errors.head(PREVIEW_ROWS).itertuples()]
    yield dg.AssetCheckResult(
        asset_key=STG_REPORTS,
        check_name=EXTRACTION_ERRORS_CHECK,
        passed=errors.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "errors": len(errors),
            "files_with_errors": int(errors["file"].nunique()),
            "by_error_class": dg.MetadataValue.json({k: int(v) for k, v in by_class.items()}),
            "errors_preview": dg.MetadataValue.md("\n".join(listing) or "none"),
        },
    )
