"""The text-dump reader on the Jiading dumps rewritten the ways other producers print the same form:
other encodings and line ends, the wordings the PDF reader accepts (the one vocabulary), the
项目资金 block in 元, label suffixes, funding lines by source, no grade row, extra columns."""

from __future__ import annotations

import re

import pytest
from paths import DATA_RAW

from extract.record import ReadError
from extract.text.reader import read_text_dump

DUMPS = {p.stem: p for p in sorted(DATA_RAW.glob("**/jd-*.txt"))}
# Dumps whose four funding lines print all six cells (jd-04 prints the short variant).
FULL_FUNDING = [k for k in ("jd-01", "jd-05", "jd-07", "jd-13") if k in DUMPS]
FUNDING_LINE = re.compile(
    r"^(\s*(?:其中：)?(?:年度资金总额|当年财政拨款|上年结转资金|其他资金))((?: \S+){6})$", re.M
)
SHA = "0" * 64


def text_of(key: str) -> str:
    return DUMPS[key].read_text("utf-8")


def read(text: str, encoding: str = "utf-8"):
    records, errors = read_text_dump(text.encode(encoding), "x.txt", SHA)
    assert not errors
    (record,) = records
    return record


def same_record(a, b) -> bool:
    return a.to_dict() == b.to_dict()


@pytest.fixture(scope="module")
def base():
    return {key: read(text_of(key)) for key in DUMPS}


def test_dumps_found():
    assert len(DUMPS) >= 17 and FULL_FUNDING


# ---------------------------------------------------------------- encodings (issue 9 kind 6)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
@pytest.mark.parametrize("key", ["jd-01", "jd-04", "jd-07"])
def test_dump_in_another_encoding_reads_the_same(base, key, encoding, line_end):
    """Each dump written by the test in the encoding (UTF-16 with and without a BOM) and line end."""
    text = text_of(key).replace("\n", line_end)
    assert same_record(read(text, encoding), base[key])


def test_every_dump_reads_the_same_in_gbk(base):
    for key in DUMPS:
        assert same_record(read(text_of(key), "gbk"), base[key]), key


@pytest.mark.parametrize(
    "data",
    [
        "会议纪要：本周工作安排如下。".encode("gbk"),
        "项目支出情况说明".encode("utf-16-le")[:-1],  # cut in a character
        bytes(range(256)) * 4,
    ],
)
def test_text_that_is_no_form_dump_in_any_encoding_is_unreadable(data):
    with pytest.raises(ReadError) as info:
        read_text_dump(data, "bad.txt", SHA)
    assert info.value.error_class == "unreadable_text"


# ---------------------------------------------------------------- the vocabulary both readers share


@pytest.mark.parametrize(
    "old, new",
    [
        (
            "年初预算数 全年预算数 全年执行数 分数 执行率(%) 得分",
            "年初数 调整后预算数 实际执行数 权重 执行率(%) 得分",
        ),
        (
            "年初预算数 全年预算数 全年执行数 分数 执行率(%) 得分",
            "年初预算数 全年预算数 全年执行数 分值 执行率 得分",
        ),
        ("其中：当年财政拨款", "其中：本年财政拨款"),
        ("年度资金总额 ", "年度资金总额： "),
        ("总分 ", "合计 "),
        ("评分等级 ", "评价等级："),
        ("财政项目支出绩效自评表", "项目支出绩效自评表"),
    ],
)
def test_text_reader_accepts_the_wordings_the_pdf_reader_accepts(base, old, new):
    text = text_of("jd-01")
    assert old in text
    assert same_record(read(text.replace(old, new)), base["jd-01"])


def test_full_width_digits_read_as_numbers(base):
    text = text_of("jd-01")
    wide = re.sub(r"[0-9.,%-]", lambda m: chr(ord(m.group(0)) + 0xFEE0), text)
    record = read(wide)
    got, want = record.to_dict(), base["jd-01"].to_dict()
    assert got["funding"] == want["funding"] and got["fiscal_year"] == want["fiscal_year"]
    assert [(i["weight"], i["score"]) for i in got["indicators"]] == [
        (i["weight"], i["score"]) for i in want["indicators"]
    ]
    assert (got["total_weight"], got["total_score"]) == (want["total_weight"], want["total_score"])


# ---------------------------------------------------------------- layout the reader does not know (kind 5)


def _scaled(text: str, factor: float, unit: str) -> str:
    """The dump with the block's label in `unit` and its amounts (first three cells) × factor."""

    def scale(match: re.Match) -> str:
        cells = match.group(2).split()
        for i in range(3):
            if re.fullmatch(r"[\d.,]+", cells[i]):
                cells[i] = f"{float(cells[i].replace(',', '')) * factor:,.2f}"
        return match.group(1) + " " + " ".join(cells)

    return FUNDING_LINE.sub(scale, text).replace("（万元）", f"（{unit}）")


@pytest.mark.parametrize("key", FULL_FUNDING)
@pytest.mark.parametrize("unit, factor", [("元", 10_000), ("千元", 10)])
def test_amounts_in_another_unit_are_converted_to_wan(base, key, unit, factor):
    assert same_record(read(_scaled(text_of(key), factor, unit)), base[key])


@pytest.mark.parametrize("label", ["（美元）", ""])
def test_amounts_in_an_unknown_unit_are_uncertain(base, label):
    record = read(text_of("jd-01").replace("（万元）", label))
    amounts = {
        f"funding[{i}].{f}" for i in range(4) for f in ("budget_initial", "budget_full_year", "executed")
    }
    assert amounts <= set(record.uncertain_fields)
    assert record.funding == base["jd-01"].funding  # the values as printed, marked uncertain


@pytest.mark.parametrize(
    "dept, unit", [("主管部门及代码 ", "实施单位（盖章）："), ("项目主管部门 ", "项目实施单位(公章) ")]
)
def test_label_suffixes_are_not_part_of_the_value(base, dept, unit):
    text = text_of("jd-01").replace("主管部门 ", dept).replace("实施单位 ", unit)
    assert same_record(read(text), base["jd-01"])


def test_funding_lines_by_source_are_not_the_standard_lines(base):
    text = text_of("jd-01").replace("当年财政拨款", "中央补助资金").replace("上年结转资金", "地方配套资金")
    record = read(text)
    for i in (1, 2):
        line = record.funding[i]
        assert (line.budget_initial, line.budget_full_year, line.executed, line.execution_rate_pct) == (
            None,
        ) * 4
        assert f"funding[{i}].executed" in record.uncertain_fields
    assert record.funding[0] == base["jd-01"].funding[0] and record.funding[3] == base["jd-01"].funding[3]


@pytest.mark.parametrize(
    "replacement",
    ["", "注：评分等级：90分（含）以上为优，80（含）-90分为良，60（含）-80分为中，60分以下为差。"],
)
def test_no_grade_row_gives_no_grade_and_a_note_is_not_one(base, replacement):
    text = text_of("jd-01").replace("评分等级 优", replacement)
    record = read(text)
    assert record.grade is None and "grade" not in record.uncertain_fields
    assert record.total_score == base["jd-01"].total_score


def test_unknown_indicator_columns_make_the_table_uncertain():
    text = text_of("jd-01")
    header = next(line for line in text.split("\n") if line.startswith("一级指标"))
    record = read(text.replace(header, header.replace("实际完成值", "实际完成值 备注")))
    fields = {"level1", "level2", "level3", "target", "actual", "deviation_note"}
    assert {f"indicators[{i}].{f}" for i in range(len(record.indicators)) for f in fields} <= set(
        record.uncertain_fields
    )
