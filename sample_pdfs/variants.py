"""Layout variants of other provinces' and years' forms, drawn from the same canonical record.

Each is a Style knob (the last block of `Style`) that changes what the form prints around the
values, never the values themselves, so a test knows what a reader must return:

- `funding_unit`: the 项目资金 block in 元 (or 千元, 亿元): the label says so and the amounts are
  printed in that unit (the record's 万元 × the factor);
- `head_labels`: other wordings of the head labels (实施单位（盖章）, 主管部门及代码);
- `funding_line_names`: funding lines by source (其中：中央补助资金 / 地方配套资金);
- `target_columns`: the target printed in three cells, 指标性质 / 指标值 / 度量单位 (Sichuan);
- `extra_column`: a column the reader's vocabulary does not know, in the 项目资金 block (after
  全年执行数) and the indicator table (after 实际完成值), with text in every other row;
- `grade_row` / `note`: no 评分等级 row, a note under the form.
"""

from __future__ import annotations

import re

from .style import Style

STANDARD_HEADS = ("项目名称", "主管部门", "实施单位")
STANDARD_LINES = ("年度资金总额", "其中：当年财政拨款", "上年结转资金", "其他资金")
UNIT_TO_WAN = {"万元": 1.0, "元": 1e-4, "千元": 0.1, "亿元": 1e4}
_SPLIT_TARGET = re.compile(r"^(?P<op>[≥≤=><]?)(?P<value>\d[\d,.]*)(?P<unit>\D*)$")


def head_labels(style: Style) -> tuple[str, str, str]:
    """Printed labels of 项目名称, 主管部门 and 实施单位."""
    return style.head_labels or STANDARD_HEADS


def funding_line_names(style: Style) -> tuple[str, ...]:
    """Printed names of the four funding lines, 年度资金总额 first."""
    return style.funding_line_names or STANDARD_LINES


def funding_label(style: Style) -> str:
    """The 项目资金 block's label with its unit: 项目资金（万元）, 项目资金（元）."""
    return f"项目资金（{style.funding_unit}）"


def printed_amount(value: float | None, style: Style) -> float | None:
    """A record's amount (万元) in the unit the block prints, to two decimals (an unknown unit
    prints the 万元 figure)."""
    return None if value is None else round(value / UNIT_TO_WAN.get(style.funding_unit, 1.0), 2)


INDICATOR_HEADERS = (
    "一级指标",
    "二级指标",
    "三级指标",
    "年度指标值",
    "实际完成值",
    "分值",
    "得分",
    "偏差原因分析及改进措施",
)
SPLIT_TARGET_HEADERS = ("指标性质", "指标值", "度量单位")


def with_extra_column(cells: list[str], at: int, cell: str, style: Style) -> list[str]:
    """`cells` with the style's unknown column (its header or one of its cells) inserted at `at`."""
    return [*cells[:at], cell, *cells[at:]] if style.extra_column else cells


def extra_cell(row: int) -> str:
    """The unknown column's text in row `row`: every other row holds some."""
    return f"说明{row + 1}" if row % 2 == 0 else ""


def indicator_headers(style: Style) -> list[str]:
    """The indicator table's header cells, left to right."""
    heads = list(INDICATOR_HEADERS)
    if style.extra_column:
        heads.insert(heads.index("实际完成值") + 1, style.extra_column)
    if style.target_columns:
        i = heads.index("年度指标值")
        heads[i : i + 1] = SPLIT_TARGET_HEADERS
    return heads


def split_target(target: str | None) -> tuple[str, str, str]:
    """A target as (指标性质, 指标值, 度量单位): "≥12处" → ("≥", "12", "处"); a qualitative
    target "及时" → ("定性", "及时", "")."""
    m = _SPLIT_TARGET.match(target or "")
    if m is None:
        return ("定性" if target else "", target or "", "")
    return m.group("op") or "定量", m.group("value"), m.group("unit")


def target_cells(ind: dict, row: int, style: Style) -> list[str]:
    """Texts of the cells between 三级指标 and 分值 for one indicator (row: its index)."""
    cells = list(split_target(ind["target"])) if style.target_columns else [ind["target"]]
    cells.append(ind["actual"])
    return with_extra_column(cells, len(cells), extra_cell(row), style)
