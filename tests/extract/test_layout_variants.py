"""Layout the reader does not know is never glued into a neighbour (issue 9 kind 5): sample forms
rendered the ways other provinces and years print them (sample_pdfs/variants.py) and read back field
for field. Each variant says what the form prints, so the expected record follows from the gold one;
the handed real-world cases of the same kinds are in test_cases.py."""

from __future__ import annotations

import copy

import pytest
from gold import field_diffs, gold

from extract import extract_file
from sample_pdfs import STYLES, render_pdf

# A multi-page form, the short funding variant, two Songjiang forms and two plain ones.
KEYS = ("jd-01", "jd-04", "jd-05", "jd-07", "sj-02", "sj-04")
AMOUNTS = ("budget_initial", "budget_full_year", "executed")
NOTE = "注：评分等级：90分（含）以上为优，80（含）-90分为良，60（含）-80分为中，60分以下为差。"


def read_variant(tmp_path, style: str, **knobs) -> list[tuple[dict, dict]]:
    """(gold record, extracted record as a dict) per sample form rendered with the knobs."""
    path = tmp_path / f"{style}.pdf"
    render_pdf([gold(k) for k in KEYS], path, STYLES[style].with_(name="variant", **knobs))
    result = extract_file(path)
    assert not result.errors
    assert len(result.records) == len(KEYS)
    return [(copy.deepcopy(gold(k)), r.to_dict()) for k, r in zip(KEYS, result.records, strict=True)]


@pytest.mark.parametrize(
    "style, unit, thousands",
    [("lattice", "元", True), ("hrules_ordered", "元", False), ("scrambled", "千元", True)],
)
def test_amounts_printed_in_another_unit_are_read_in_wan(tmp_path, style, unit, thousands):
    """项目资金（元）, 1,185,000.00 → 118.5 万元: never 10 000 × too large."""
    for want, got in read_variant(tmp_path, style, funding_unit=unit, thousands=thousands):
        assert field_diffs(want, got) == [] and got["uncertain_fields"] == [], want["key"]


@pytest.mark.parametrize("style, unit", [("lattice", "美元"), ("hrules_ordered", "")])
def test_amounts_in_an_unknown_unit_are_uncertain(tmp_path, style, unit):
    for want, got in read_variant(tmp_path, style, funding_unit=unit):
        printed = {
            f"funding[{i}].{f}"
            for i, line in enumerate(want["funding"])
            for f in AMOUNTS
            if line[f] is not None
        }
        assert printed <= set(got["uncertain_fields"]), want["key"]
        assert field_diffs(want, got) == []


@pytest.mark.parametrize(
    "style, labels",
    [
        ("lattice_compact", ("项目名称：", "主管部门及代码", "实施单位（盖章）")),
        ("hrules_ordered", ("项目名称", "项目主管部门", "项目实施单位(公章)")),
    ],
)
def test_label_suffixes_are_not_part_of_the_value(tmp_path, style, labels):
    """实施单位（盖章）, 主管部门及代码, 项目主管部门: the value beside a label is read without the
    label's suffix or prefix."""
    for want, got in read_variant(tmp_path, style, head_labels=labels):
        assert field_diffs(want, got) == [] and got["uncertain_fields"] == [], want["key"]


@pytest.mark.parametrize("style", ["lattice", "hrules_ordered", "scrambled"])
def test_target_in_three_cells_is_joined(tmp_path, style):
    """Sichuan style: 指标性质 + 指标值 + 度量单位 ("≥", "12", "处") is one target, "≥12处"."""
    for want, got in read_variant(tmp_path, style, target_columns=True):
        assert field_diffs(want, got) == [] and got["uncertain_fields"] == [], want["key"]


@pytest.mark.parametrize("style", ["lattice", "scrambled"])
def test_an_unknown_column_is_not_glued_into_its_neighbours(tmp_path, style):
    """A 备注 column after 全年执行数 and after 实际完成值: its text is in no field; the fields beside
    it, where it holds text, are marked uncertain, and every field reads as printed."""
    for want, got in read_variant(tmp_path, style, extra_column="备注"):
        assert field_diffs(want, got) == [], want["key"]
        beside = {f"funding[{i}].{f}" for i in (0, 2) for f in ("executed", "weight")}
        beside |= {
            f"indicators[{i}].{f}" for i in range(0, len(want["indicators"]), 2) for f in ("actual", "weight")
        }
        assert set(got["uncertain_fields"]) == beside, want["key"]


@pytest.mark.parametrize(
    "style, note", [("lattice", NOTE), ("hrules_ordered", NOTE[2:]), ("scrambled", None)]
)
def test_grade_comes_only_from_the_grade_row(tmp_path, style, note):
    """No 评分等级 row: the grade is null and not flagged, whatever a note under the form says."""
    for want, got in read_variant(tmp_path, style, grade_row=False, note=note):
        want["grade"] = None
        assert field_diffs(want, got) == [] and got["uncertain_fields"] == [], want["key"]


@pytest.mark.parametrize(
    "style, names",
    [
        ("lattice", ("年度资金总额", "其中：中央补助资金", "地方配套资金", "其他资金")),
        ("scrambled", ("年度资金总额", "其中：上级财政拨款", "本级财政拨款", "其他资金")),
        ("hrules_ordered", ("资金总额", "其中：本年财政拨款", "上年结转", "其他资金")),
    ],
)
def test_funding_lines_by_source_are_not_read_as_the_standard_lines(tmp_path, style, names):
    by_source = "中央补助资金" in names[1] or "上级财政拨款" in names[1]
    for want, got in read_variant(tmp_path, style, funding_line_names=names):
        if by_source:
            for i in (1, 2):
                want["funding"][i] = (
                    {"line": want["funding"][i]["line"]}
                    | dict.fromkeys(AMOUNTS, None)
                    | {
                        "weight": None,
                        "execution_rate_pct": None,
                        "score": None,
                    }
                )
                assert f"funding[{i}].executed" in got["uncertain_fields"]
        else:
            assert got["uncertain_fields"] == []
        assert field_diffs(want, got) == [], want["key"]
