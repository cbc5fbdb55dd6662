"""Producer styles: every knob that differs between the PDF exporters we imitate.

A style changes only how a form is drawn, never what it says, so one canonical record can be
rendered by several "producers" and an extractor tested against all of them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .conditions import Conditions

Align = Literal["left", "center", "right"]

# Forms whose funding block was printed in the short variant (header 分值/执行率, rates with "%",
# numbers without forced decimals); see the jd-04 text dump.
VARIANT_KEYS = frozenset({"jd-04"})


@dataclass(frozen=True)
class Style:
    name: str
    producer: str
    font_size: float = 9.0
    title_size: float = 16.0
    leading: float = 1.3  # line height as a multiple of the font size
    pad_x: float = 3.0  # left/right padding inside a cell
    pad_y: float = 3.0  # top/bottom padding inside a cell
    min_row_height: float = 18.0
    text_align: Align = "center"
    number_align: Align = "center"
    valign: Literal["top", "middle"] = "middle"
    # grid: four borders per cell; hrules: each cell's top/bottom only; rows: full-width lines at
    # every cell's top/bottom, cutting through merged cells
    rules: Literal["grid", "hrules", "rows"] = "grid"
    rule_shape: Literal["line", "rect"] = "line"  # rect: borders as thin filled rectangles (office exports)
    text_order: Literal["reading", "scrambled"] = "reading"
    seed: int = 0  # seeds the scrambled text order so output is reproducible
    repeat_header: bool = False  # repeat the indicator header row on a continuation page
    repeat_merged_text: bool = True  # re-print level1/level2 text in a merged cell's continuation
    thousands: bool = False  # "1,614.00" instead of "1614.00"
    rate_percent: bool = False  # "85.93%" under header 执行率 instead of "85.93" under 执行率(%)
    funding_variant: Literal["auto", "always", "never"] = "auto"  # auto: records in VARIANT_KEYS
    indicator_label: bool = False  # left label column 绩效指标 beside the indicator block
    margin_x: float = 40.0
    margin_top: float = 42.0
    margin_bottom: float = 40.0
    # Layout variants of other provinces' and years' forms (see variants.py).
    funding_unit: str = "万元"  # unit of the 项目资金 block's label and amounts: 万元, 元, 千元, 亿元
    head_labels: tuple[str, str, str] | None = None  # 项目名称 / 主管部门 / 实施单位 as printed
    funding_line_names: tuple[str, str, str, str] | None = None  # e.g. by source: 其中：中央补助资金
    target_columns: bool = False  # the target in three cells: 指标性质 / 指标值 / 度量单位
    extra_column: str | None = None  # header of a column no reader knows (funding and indicator blocks)
    grade_row: bool = True  # print the 评分等级 row
    note: str | None = None  # a note printed under the form
    # Conditions of published PDFs (conditions.py) and layouts that provoke them; off by default.
    conditions: Conditions = Conditions()
    number_chars: float | None = None  # width of the numeric columns in characters (narrow: numbers wrap)

    def with_(self, **changes) -> Style:
        return replace(self, **changes)


LATTICE = Style(
    name="lattice",
    producer="Sample lattice exporter",
    font_size=9.0,
    rules="grid",
    text_order="reading",
    repeat_header=False,
    repeat_merged_text=True,
)

SCRAMBLED = Style(
    name="scrambled",
    producer="Sample scrambled exporter",
    font_size=10.0,
    title_size=17.0,
    pad_x=5.0,
    pad_y=4.0,
    min_row_height=20.0,
    text_align="left",
    number_align="right",
    rules="hrules",
    text_order="scrambled",
    seed=20240,
    repeat_header=True,
    repeat_merged_text=False,
)

LATTICE_COMPACT = Style(
    name="lattice_compact",
    producer="Sample compact lattice exporter",
    font_size=8.0,
    title_size=14.0,
    leading=1.15,
    pad_x=1.5,
    pad_y=1.0,
    min_row_height=12.0,
    text_align="left",
    number_align="left",
    valign="top",
    thousands=True,
    rate_percent=True,
    repeat_header=True,
    repeat_merged_text=True,
    indicator_label=True,
    margin_x=30.0,
)

HRULES_ORDERED = Style(
    name="hrules_ordered",
    producer="Sample ruled-lines exporter",
    font_size=11.0,
    title_size=18.0,
    pad_x=4.0,
    pad_y=4.0,
    min_row_height=22.0,
    text_align="center",
    number_align="center",
    rules="hrules",
    text_order="reading",
    repeat_header=True,
    repeat_merged_text=False,
)

STYLES: dict[str, Style] = {s.name: s for s in (LATTICE, SCRAMBLED, LATTICE_COMPACT, HRULES_ORDERED)}
