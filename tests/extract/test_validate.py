"""extract.validate: every record check passes on a form that adds up and fails on a form that
breaks it, with the printed and the expected value."""

from __future__ import annotations

import copy

import pytest
from gold import gold, gold_records, record_from_gold

from extract.record import FundingLine
from extract.validate import (
    RATE_TOLERANCE_PCT,
    SCORE_TOLERANCE,
    computed_rate,
    execution_rate,
    expected_grade,
    validate,
)

JD01 = "jd-01"  # 对口扶贫支援类: adds up; total 96.59 (优), funding 65.67 / 24.88 / 21.38 at 85.93 %


def record(edit=None, key: str = JD01):
    """The gold record `key`, edited by `edit(dict)` before it is built, with its checks."""
    data = copy.deepcopy(gold(key))
    if edit:
        edit(data)
    return record_from_gold(data, f"{key}.pdf", "0" * 64, 1)


def checks(edit=None, key: str = JD01) -> dict:
    return {c.name: c for c in record(edit, key).checks}


def failed(edit=None, key: str = JD01) -> set[str]:
    return {c.name for c in record(edit, key).failed_checks}


def test_a_form_that_adds_up_passes_every_check():
    found = checks()
    assert {"complete", "weights_sum", "scores_sum", "execution_rate[0]", "grade_band"} <= set(found)
    assert all(c.passed for c in found.values()), [c for c in found.values() if not c.passed]


def test_every_sample_form_adds_up_but_the_one_with_a_misprinted_rate():
    failing = {g["key"]: failed(key=g["key"]) for g in gold_records()}
    assert {k: v for k, v in failing.items() if v} == {"jd-05": {"execution_rate[0]", "execution_rate[1]"}}


def test_weights_sum_fails_when_an_indicator_weight_is_off():
    def edit(g):
        g["indicators"][0]["weight"] += 1

    check = checks(edit)["weights_sum"]
    assert not check.passed and (check.actual, check.expected) == (100.0, 101.0)
    assert check.detail == "printed 100, computed 101: off by -1.00 (tolerance ±0.01)"  # what a reader sees
    assert failed(edit) == {"weights_sum"}


def test_weights_sum_fails_when_a_weight_is_missing():
    def edit(g):
        g["indicators"][2]["weight"] = None

    check = checks(edit)["weights_sum"]
    assert not check.passed and check.expected is None and check.detail == "a value is missing"


def test_scores_sum_fails_when_the_total_differs_beyond_the_tolerance():
    def off_by(delta):
        def edit(g):
            g["total_score"] = round(g["total_score"] + delta, 4)

        return edit

    assert checks(off_by(SCORE_TOLERANCE))["scores_sum"].passed  # 0.01: a rounding of the printed total
    check = checks(off_by(0.02))["scores_sum"]
    assert not check.passed and (check.actual, check.expected) == (96.61, 96.59)


def test_scores_sum_counts_the_funding_score():
    def edit(g):
        g["funding"][0]["score"] = 9.59

    assert failed(edit) >= {"scores_sum"}


def test_grade_band_fails_on_a_grade_that_is_not_the_band_of_the_score():
    def edit(g):
        g["grade"] = "良"

    check = checks(edit)["grade_band"]
    assert not check.passed and check.actual == 96.59 and check.detail == "printed 良, band 优"
    assert failed(edit) == {"grade_band"}


def test_grade_band_fails_when_the_grade_is_missing():
    def edit(g):
        g["grade"] = None

    assert not checks(edit)["grade_band"].passed


@pytest.mark.parametrize(
    "score,grade",
    [(100, "优"), (90, "优"), (89.99, "良"), (80, "良"), (79.99, "中"), (60, "中"), (59.99, "差"), (0, "差")],
)
def test_grade_bands_at_their_edges(score, grade):
    assert expected_grade(score) == grade


@pytest.mark.parametrize(
    "part,edit,missing",
    [
        ("project name", lambda g: g.update(project_name=None), "missing project_name"),
        ("a funding line", lambda g: g["funding"].pop(), "missing funding"),
        ("the indicators", lambda g: g.update(indicators=[]), "missing indicators"),
        ("the total score", lambda g: g.update(total_score=None), "missing total_score"),
    ],
)
def test_complete_fails_on_a_form_missing(part, edit, missing):
    check = checks(edit)["complete"]
    assert not check.passed and check.detail == missing, part


def test_execution_rate_fails_on_a_rate_the_amounts_do_not_give():
    def edit(g):
        g["funding"][0]["execution_rate_pct"] = 85.95  # 100 × 21.38 / 24.88 = 85.93

    check = checks(edit)["execution_rate[0]"]
    assert not check.passed and (check.actual, check.expected) == (85.95, 85.93)
    assert failed(edit) == {"execution_rate[0]"}


@pytest.mark.parametrize("printed,passes", [(84.41, True), (84.40, True), (84.39, False), (84.43, False)])
def test_execution_rate_allows_a_rounded_or_truncated_rate(printed, passes):
    # 100 × 21.00 / 24.88 = 84.405…: 84.41 rounded, 84.40 truncated; within RATE_TOLERANCE_PCT of 84.41
    def edit(g):
        g["funding"][0].update(executed=21.0, execution_rate_pct=printed)

    check = checks(edit)["execution_rate[0]"]
    assert check.expected == 84.41 and check.passed is passes
    assert passes is (abs(printed - 84.41) <= RATE_TOLERANCE_PCT)


def test_execution_rate_falls_back_to_the_initial_budget_where_the_full_year_one_is_blank():
    def edit(g):
        g["funding"][0].update(budget_full_year=None, execution_rate_pct=32.56)  # 21.38 / 65.67

    assert checks(edit)["execution_rate[0]"].passed

    def wrong(g):
        g["funding"][0].update(budget_full_year=None)  # 85.93 printed, the initial budget gives 32.56

    check = checks(wrong)["execution_rate[0]"]
    assert not check.passed and check.expected == 32.56


def test_a_line_without_a_rate_or_amounts_is_not_rate_checked():
    rec = record()
    rec.funding[3] = FundingLine("其他资金")
    assert "execution_rate[3]" not in {c.name for c in validate(rec)}


def test_execution_rate_falls_back_to_the_initial_budget_and_rounds_as_printed():
    assert execution_rate(100.0, 300.0, 100.0) == pytest.approx(100 / 3)
    assert computed_rate(100.0, 300.0, 100.0) == 33.33
    assert computed_rate(200.0, None, 50.0) == 25.0  # 全年预算数 blank: 年初预算数
    assert execution_rate(100.0, 0.0, 5.0) is None and execution_rate(100.0, 100.0, None) is None
