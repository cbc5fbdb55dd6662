"""Arithmetic checks every published form should pass. A failed check is attached, never fatal.

This is the one place the form's own arithmetic is checked: the checks are landed in raw.checks and
the warehouse's quality mart reads them. The tolerances and grade bands are the warehouse's too
(dbt_project.yml `vars:`, seeds/grade_bands.csv); tests/dbt/test_rules_agree.py holds them equal.
"""

from __future__ import annotations

from .record import Check, Record

SCORE_TOLERANCE = 0.01  # pt: weights and scores are printed with two decimals
# percentage points: rates are printed with two decimals, sometimes truncated rather than rounded
RATE_TOLERANCE_PCT = 0.015
FLOAT_NOISE = 1e-9  # allowed beyond every tolerance: only binary rounding separates equal decimals

# 评分等级 bands used by the self-evaluation rules: 优 ≥ 90, 良 80–90, 中 60–80, 差 < 60.
GRADE_BANDS = (("优", 90.0), ("良", 80.0), ("中", 60.0), ("差", float("-inf")))


def expected_grade(total_score: float) -> str:
    """The 评分等级 band (GRADE_BANDS) of a total score in pt: 优 ≥ 90, 良 ≥ 80, 中 ≥ 60, else 差."""
    return next(grade for grade, floor in GRADE_BANDS if total_score >= floor)


def _sum(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return None if len(present) < len(values) else round(sum(present), 2)


def check_weights(record: Record) -> Check:
    """`weights_sum`: the 总分 row's 分值 equals the indicators' 分值 plus the 项目资金 block's
    (pt, within SCORE_TOLERANCE); fails when any of them is missing."""
    parts = [i.weight for i in record.indicators] + [record.funding[0].weight if record.funding else None]
    return _compare("weights_sum", record.total_weight, _sum(parts), SCORE_TOLERANCE)


def check_scores(record: Record) -> Check:
    """`scores_sum`: the 总分 row's 得分 equals the indicators' 得分 plus the 项目资金 block's (pt,
    within SCORE_TOLERANCE); fails when any of them is missing."""
    parts = [i.score for i in record.indicators] + [record.funding[0].score if record.funding else None]
    return _compare("scores_sum", record.total_score, _sum(parts), SCORE_TOLERANCE)


def execution_rate(
    budget_initial: float | None, budget_full_year: float | None, executed: float | None
) -> float | None:
    """执行率 as the form's amounts give it: 全年执行数 / 全年预算数 in percent, the 年初预算数 where
    全年预算数 is blank; unrounded. None when the executed amount or the budget is missing or zero."""
    base = budget_full_year if budget_full_year is not None else budget_initial
    if executed is None or not base:
        return None
    return 100.0 * executed / base


def computed_rate(
    budget_initial: float | None, budget_full_year: float | None, executed: float | None
) -> float | None:
    """`execution_rate` rounded to two decimals, as forms print 执行率 (%)."""
    rate = execution_rate(budget_initial, budget_full_year, executed)
    return None if rate is None else round(rate, 2)


def check_rates(record: Record) -> list[Check]:
    """`execution_rate[i]` for each funding line printing a 执行率 that can be computed: the printed
    rate (%) equals `computed_rate` within RATE_TOLERANCE_PCT."""
    checks = []
    for i, line in enumerate(record.funding):
        expected = computed_rate(line.budget_initial, line.budget_full_year, line.executed)
        if line.execution_rate_pct is None or expected is None:
            continue
        check = _compare(f"execution_rate[{i}]", line.execution_rate_pct, expected, RATE_TOLERANCE_PCT)
        checks.append(check)
    return checks


def check_grade(record: Record) -> Check:
    """`grade_band`: the printed 评分等级 is the band of the total score; fails when either is
    missing."""
    if record.total_score is None or record.grade is None:
        return Check("grade_band", False, None, record.total_score, "total score or grade missing")
    want = expected_grade(record.total_score)
    return Check(
        "grade_band", want == record.grade, None, record.total_score, f"printed {record.grade}, band {want}"
    )


def check_complete(record: Record) -> Check:
    """A form needs a name, four funding lines and at least one indicator to be usable."""
    missing = [
        name
        for name, ok in (
            ("project_name", bool(record.project_name)),
            ("funding", len(record.funding) == 4),
            ("indicators", bool(record.indicators)),
            ("total_score", record.total_score is not None),
        )
        if not ok
    ]
    return Check("complete", not missing, None, None, ", ".join(f"missing {m}" for m in missing))


def _compare(name: str, printed: float | None, computed: float | None, tolerance: float) -> Check:
    if printed is None or computed is None:
        return Check(name, False, computed, printed, "a value is missing")
    off = printed - computed
    detail = f"printed {printed:g}, computed {computed:g}: off by {off:+.2f} (tolerance ±{tolerance:g})"
    return Check(name, abs(off) <= tolerance + FLOAT_NOISE, computed, printed, detail)


def validate(record: Record) -> list[Check]:
    """Every check of a record, in a fixed order: complete, weights_sum, scores_sum,
    execution_rate[i] and grade_band."""
    return [
        check_complete(record),
        check_weights(record),
        check_scores(record),
        *check_rates(record),
        check_grade(record),
    ]


def has_readable_field(record: Record) -> bool:
    """Whether any field of the form's body was read: 项目名称, 主管部门, 实施单位, a goal, a total
    (总分 分值/得分, 评分等级), an amount of a funding line or a cell of an indicator row. A "form"
    with none (a title and a 项目名称 label with nothing readable beside it) is no record; the
    年度 alone does not count, as the title gives it."""
    head = (record.project_name, record.supervising_dept, record.implementing_unit)
    totals = (record.goal_expected, record.goal_actual, record.total_weight, record.total_score, record.grade)
    funding = [value for line in record.funding for key, value in vars(line).items() if key != "line"]
    cells = [value for ind in record.indicators for key, value in vars(ind).items() if key != "page"]
    return any(value not in (None, "") for value in (*head, *totals, *funding, *cells))
