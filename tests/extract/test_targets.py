"""extract.targets.parse_value: every target/actual string of the samples, a table of exact parses,
and property tests (format a random operator/number/unit, parse it back)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from paths import GOLD_PATH

from extract.targets import ACHIEVED_WORDINGS, KINDS, OPERATORS, ParsedValue, parse_value

FIXTURE = GOLD_PATH
RECORDS = json.loads(FIXTURE.read_text(encoding="utf-8"))
INDICATORS = [(r["key"], i) for r in RECORDS for i in r["indicators"]]
ALL_STRINGS = sorted({s for _, i in INDICATORS for s in (i["target"], i["actual"]) if s is not None})

# Units the sample forms print, after normalization.
SAMPLE_UNITS = {
    None,
    "%",
    "人",
    "人次",
    "次",
    "家",
    "个",
    "份",
    "本",
    "课时",
    "户",
    "万元",
    "元/家",
    "元/人/年",
}
DEADLINES = {"11月底"}  # starts with a digit but is a date, not an amount


def test_the_samples_hold_many_strings():
    assert len(INDICATORS) == 247
    assert len(ALL_STRINGS) > 150  # every one is parametrized below


@pytest.mark.parametrize("text", ALL_STRINGS)
def test_every_sample_string_parses_to_a_sensible_kind(text):
    parsed = parse_value(text)
    assert parsed.kind in ("quantitative", "qualitative"), text
    if re.match(r"^(=|≥|≤|>|<|>=|<=)", text):
        assert parsed.kind == "quantitative", text
        assert parsed.op in OPERATORS, text
    elif re.match(r"^\d", text) and text not in DEADLINES:
        assert parsed.kind == "quantitative" and parsed.op is None, text
    else:
        assert parsed.kind == "qualitative", text
        assert parsed.qualitative == text
        assert parsed.unit is None and parsed.op is None
    if parsed.kind == "quantitative":
        assert parsed.value is not None and parsed.value >= 0
        assert parsed.unit in SAMPLE_UNITS, (text, parsed.unit)
        assert parsed.qualitative is None and not parsed.achieved_wording
        # the number printed is the value parsed
        number = re.search(r"\d[\d,]*(\.\d+)?", text).group(0)
        assert parsed.value == float(number.replace(",", ""))


@pytest.mark.parametrize("key,indicator", INDICATORS, ids=lambda v: v if isinstance(v, str) else "")
def test_sample_targets_and_actuals_pair_up(key, indicator):
    """Where both sides are numbers their units agree; where the target is a wording the actual is
    an achievement claim, the same wording, or a count for a 'none' wording (零投诉 → 0)."""
    target, actual = parse_value(indicator["target"]), parse_value(indicator["actual"])
    if target.kind == "quantitative" and actual.kind == "quantitative":
        assert target.unit == actual.unit, (key, indicator["level3"])
        assert actual.op is None
    elif target.kind == "qualitative":
        assert (
            actual.achieved_wording
            or actual.qualitative == target.qualitative
            or (target.value == 0 and actual.value == 0)
        ), (key, indicator["level3"], indicator["target"], indicator["actual"])


def q(op, value, unit=None):
    return ParsedValue("quantitative", op=op, value=value, unit=unit)


def w(text, achieved=False, value=None):
    return ParsedValue("qualitative", qualitative=text, achieved_wording=achieved, value=value)


EXACT = [
    # operators as printed
    ("=120.00(人)", q("=", 120.0, "人")),
    ("736.00(人)", q(None, 736.0, "人")),
    ("≤250.00(人)", q("≤", 250.0, "人")),
    ("≥90.00(%)", q("≥", 90.0, "%")),
    ("<100.00(人)", q("<", 100.0, "人")),
    (">1(次)", q(">", 1.0, "次")),
    (">=450人", q("≥", 450.0, "人")),
    (">=60%", q("≥", 60.0, "%")),
    ("<=3人", q("≤", 3.0, "人")),
    ("＝100％", q("=", 100.0, "%")),
    ("＞5（次）", q(">", 5.0, "次")),
    ("＜5（次）", q("<", 5.0, "次")),
    ("≧95%", q("≥", 95.0, "%")),
    ("> = 95 %", q("≥", 95.0, "%")),
    ("不低于90%", q("≥", 90.0, "%")),
    ("不超过50(本)", q("≤", 50.0, "本")),
    ("90%以上", q("≥", 90.0, "%")),
    ("3人以内", q("≤", 3.0, "人")),
    # units
    ("=100(百分比)", q("=", 100.0, "%")),
    ("95.00(百分比)", q(None, 95.0, "%")),
    ("=8000.00(元/家)", q("=", 8000.0, "元/家")),
    ("≤318.00(元/人/年)", q("≤", 318.0, "元/人/年")),
    ("=360.95(万元)", q("=", 360.95, "万元")),
    ("≥5（万人）", q("≥", 5.0, "万人")),
    ("1.5万人", q(None, 1.5, "万人")),
    ("1,614.00(万元)", q(None, 1614.0, "万元")),
    ("≥11,760(人次)", q("≥", 11760.0, "人次")),
    ("=0.00(%)", q("=", 0.0, "%")),
    ("0", q(None, 0.0, None)),
    ("100", q(None, 100.0, None)),
    ("515人", q(None, 515.0, "人")),
    ("≥6(次)", q("≥", 6.0, "次")),
    # qualitative targets
    ("及时", w("及时")),
    ("健全", w("健全")),
    ("未超项目预算", w("未超项目预算")),
    ("11月底", w("11月底")),
    ("90%-100%", w("90%-100%")),
    ("3个月内", w("3个月内")),
    ("宣传品经济实用，且发挥宣传作用", w("宣传品经济实用，且发挥宣传作用")),
    ("促进劳动关系\n和谐稳定", w("促进劳动关系和谐稳定")),
    ("否", w("否")),
    # achievement claims and 'none' wordings
    ("达成指标", w("达成指标", achieved=True)),
    ("达成", w("达成", achieved=True)),
    ("已达成", w("已达成", achieved=True)),
    ("完成", w("完成", achieved=True)),
    ("达标", w("达标", achieved=True)),
    ("合规", w("合规", achieved=True)),
    ("达成指标。", w("达成指标", achieved=True)),
    ("零投诉", w("零投诉", achieved=True, value=0.0)),
    ("无", w("无", value=0.0)),
    ("未发生", w("未发生", value=0.0)),
    ("零事故", w("零事故", value=0.0)),
    ("未达成", w("未达成")),
    ("基本完成", w("基本完成")),
    ("部分达标", w("部分达标")),
    ("未完成指标", w("未完成指标")),
    # empty
    (None, ParsedValue("empty")),
    ("", ParsedValue("empty")),
    ("  \n", ParsedValue("empty")),
    ("-", ParsedValue("empty")),
    ("/", ParsedValue("empty")),
]


@pytest.mark.parametrize("text,expected", EXACT)
def test_exact_parses(text, expected):
    assert parse_value(text) == expected


def test_achieved_wordings_are_whole_text_only():
    for wording in ACHIEVED_WORDINGS:
        assert parse_value(wording).achieved_wording
        for negated in ("未" + wording, "没有" + wording, "基本" + wording, wording + "情况较差"):
            assert not parse_value(negated).achieved_wording, negated


# ---------------------------------------------------------------- properties

OP_SPELLINGS = {
    "=": ["=", "＝", "等于"],
    "≥": ["≥", ">=", "≧", "＞＝", "不低于", "不少于"],
    "≤": ["≤", "<=", "≦", "＜＝", "不超过", "不高于"],
    ">": [">", "＞", "大于"],
    "<": ["<", "＜", "小于"],
    None: [""],
}
UNIT_SPELLINGS = {
    None: [""],
    "%": ["%", "(%)", "（%）", "(百分比)", "（百分比）", "％"],
    "人": ["人", "(人)", "（人）"],
    "人次": ["(人次)"],
    "万人": ["万人", "(万人)"],
    "万元": ["(万元)"],
    "元/家": ["(元/家)", "（元/家）"],
    "元/人/年": ["(元/人/年)"],
    "家": ["(家)"],
    "课时": ["(课时)"],
}


def _format_number(value: float, decimals: int, thousands: bool) -> str:
    return f"{value:,.{decimals}f}" if thousands else f"{value:.{decimals}f}"


@given(
    op=st.sampled_from(list(OP_SPELLINGS)),
    data=st.data(),
    unit=st.sampled_from(list(UNIT_SPELLINGS)),
    cents=st.integers(min_value=0, max_value=10**9),
    decimals=st.sampled_from([0, 1, 2]),
    thousands=st.booleans(),
    spaces=st.booleans(),
)
def test_formatted_values_parse_back(op, data, unit, cents, decimals, thousands, spaces):
    value = round(cents / 100, decimals)
    op_text = data.draw(st.sampled_from(OP_SPELLINGS[op]))
    unit_text = data.draw(st.sampled_from(UNIT_SPELLINGS[unit]))
    text = op_text + _format_number(value, decimals, thousands) + unit_text
    if spaces:
        text = " ".join(text)  # a wrapped or spaced-out cell
    parsed = parse_value(text)
    assert parsed == ParsedValue("quantitative", op=op, value=value, unit=unit), text


@given(st.text(max_size=40))
def test_any_text_parses_without_error(text):
    parsed = parse_value(text)
    assert parsed.kind in KINDS
    if parsed.kind == "quantitative":
        assert parsed.value is not None and parsed.qualitative is None
        assert parsed.op in (None, *OPERATORS)
    elif parsed.kind == "qualitative":
        assert parsed.qualitative and parsed.op is None and parsed.unit is None
    else:
        assert parsed == ParsedValue("empty")


@given(st.text(alphabet="及时健全达成指标未超项目预算提升合规零投诉无发生完", min_size=1, max_size=12))
def test_chinese_wordings_are_qualitative_and_kept(text):
    parsed = parse_value(text)
    assert parsed.kind == "qualitative"
    assert parsed.qualitative == text
    assert parsed.achieved_wording == (text in ACHIEVED_WORDINGS)


# How one printed number may be spelled by another producer: full-width punctuation, padding, no
# trailing zero decimals.
FULL_WIDTH = str.maketrans({"(": "（", ")": "）", "%": "％", "=": "＝", ">": "＞", "<": "＜", ",": "，"})
RESPELLINGS = {
    "full_width": lambda text: text.translate(FULL_WIDTH),
    "padded": lambda text: f"  {text}\n",
    "no_zero_decimals": lambda text: text.replace(".00", ""),
}
QUANTITATIVE = [s for s in ALL_STRINGS if parse_value(s).kind == "quantitative"]


@pytest.mark.parametrize("text", QUANTITATIVE)
def test_a_sample_number_reads_the_same_however_it_is_spelled(text):
    parsed = parse_value(text)
    for name, respell in RESPELLINGS.items():
        other = parse_value(respell(text))
        assert (other.kind, other.op, other.value, other.unit) == (
            parsed.kind,
            parsed.op,
            parsed.value,
            parsed.unit,
        ), (
            name,
            respell(text),
        )
