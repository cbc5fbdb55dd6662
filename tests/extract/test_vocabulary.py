"""The one vocabulary both readers use, and the cell rules built on it (units, funding line names,
split targets, the grade cell)."""

from __future__ import annotations

import pytest

from extract import vocabulary as v
from extract.cells import compose_target, grade_cell, parse_number


@pytest.mark.parametrize(
    "texts, printed, factor",
    [
        (["项目资金（万元）"], "万元", 1.0),
        (["项目资金（元）"], "元", 1e-4),
        (["项目资金(单位：千元)"], "千元", 0.1),
        (["项目资金", "（亿元）"], None, None),  # two texts: the label is not joined across them
        (["项目资金（亿元）"], "亿元", 1e4),
        (["金额单位：元", "项目资金"], "元", 1e-4),
        (["年初预算数（元） 全年预算数（元）"], "元", 1e-4),
        (["项目资金（美元）"], "美元", None),
        (["项目资金（万元）", "单位：元"], "万元/元", None),  # two different units
        (["实施单位：示例区公共服务中心 项目资金"], None, None),
    ],
)
def test_funding_unit(texts, printed, factor):
    unit = v.funding_unit(texts)
    assert (unit.printed, unit.to_wan) == (printed, factor)


def test_amounts_convert_to_wan():
    assert v.to_wan(1_185_000.0, v.funding_unit(["项目资金（元）"])) == 118.5
    assert v.to_wan(1.2345, v.funding_unit(["项目资金（亿元）"])) == 12345.0
    assert v.to_wan(None, v.funding_unit(["项目资金（元）"])) is None
    assert v.to_wan(5.0, v.funding_unit(["项目资金（美元）"])) == 5.0  # kept as printed, unknown


@pytest.mark.parametrize(
    "text, index",
    [
        ("年度资金总额 120.00", 0),
        ("年度资金总额：90", 0),
        ("其中：当年财政拨款 100.00", 1),
        ("其中：本年财政拨款", 1),
        ("财政拨款", 1),
        ("上年结转资金", 2),
        ("其他资金 0.00", 3),
        ("其中：中央补助资金 80.00", None),
        ("地方配套资金", None),
        ("上级财政拨款", None),
        ("其中：本级财政拨款", None),
    ],
)
def test_funding_line_names(text, index):
    assert v.funding_line_of(text)[0] == index


def test_a_funding_line_name_is_not_the_tail_of_another_name():
    import re

    m = re.search(v.funding_line_pattern(1), "其中：中央财政拨款")
    assert m and not v.starts_a_name("其中：中央财政拨款"[: m.start()])
    assert v.starts_a_name("") and v.starts_a_name("）") and v.starts_a_name("1.")


def test_funding_header_words_in_printed_order():
    assert v.funding_header_fields("年初数 调整后预算数 实际执行数 权重 执行率(%) 得分") == [
        "budget_initial",
        "budget_full_year",
        "executed",
        "weight",
        "execution_rate_pct",
        "score",
    ]
    assert v.funding_header_fields("全年执行数") == ["executed"]  # one header word, matched once
    assert v.is_funding_header("年初预算数全年预算数全年执行数分数执行率(%)得分")
    assert v.is_funding_header("年初预算数全年预算数")  # a wrapped header's first line
    assert not v.is_funding_header("全年执行数占年初预算的比例即预算执行率，得分按比例计算")


@pytest.mark.parametrize(
    "parts, target, certain",
    [
        (("≥", "12", "处"), "≥12处", True),
        (("＞＝", "90", "%"), "＞＝90%", True),
        (("定量", "120", "人"), "120人", True),
        (("定性", "及时", ""), "及时", True),
        (("-", "100", "%"), "100%", True),
        (("≤", "90万元", "万元"), "≤90万元", True),
        (("约", "12", "处"), "约12处", False),
        ((None, None, None), None, True),
        (("≥", None, "处"), "≥处", False),
    ],
)
def test_compose_target(parts, target, certain):
    assert compose_target(*parts) == (target, certain)


@pytest.mark.parametrize(
    "text, grade, certain",
    [
        ("优", "优", True),
        ("：良", "良", True),
        ("", None, False),
        ("：90分（含）以上为优，80（含）-90分为良，60（含）-80分为中，60分以下为差。", None, True),
        ("A", "A", False),
    ],
)
def test_grade_cell(text, grade, certain):
    assert grade_cell(text) == (grade, certain)


def test_title_lines():
    assert v.is_title_line("财政项目支出绩效自评表")
    assert v.is_title_line("项目支出绩效自评表（２０２２年度）")
    assert not v.is_title_line("关于财政项目支出绩效自评表的说明")
    assert v.has_title("2024年度财政项目支出绩效自评表")


def test_null_tokens_and_full_width_numbers():
    assert [v.is_null(t) for t in ("－", "／", "——", "无数据", "0")] == [True, True, True, True, False]
    assert parse_number("１，０００．００") == 1000.0
    assert parse_number("－") is None


def test_header_pieces():
    assert v.is_header_piece("偏差原因分析及改进措施") and v.is_header_piece("施")
    assert not v.is_header_piece("产出指标")
    assert (
        v.nonstandard_header_words(
            "一级指标二级指标三级指标年度指标值实际完成值分值得分偏差原因分析及改进措施"
        )
        == ""
    )
    assert v.nonstandard_header_words("一级指标三级指标指标性质指标值度量单位实际完成值分值得分备注")
