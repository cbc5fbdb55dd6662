"""Parse an indicator's target (年度指标值) or actual (实际完成值) text into operator, value and unit.

STUB: the interface is fixed; the implementation is being written (issue 5).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ParsedValue:
    kind: str  # "quantitative" | "qualitative" | "empty"
    op: str | None = None  # "=", "≥", "≤", ">", "<" (ASCII >=, <= normalized to ≥, ≤)
    value: float | None = None
    unit: str | None = None  # normalized: 百分比 → %, brackets removed, 万人 kept with its scale
    qualitative: str | None = None  # the wording of a qualitative value: 及时, 健全, 未超项目预算, …
    achieved_wording: bool = False  # "达成指标", "达成", "零投诉" and similar


def parse_value(text: str | None) -> ParsedValue:
    if not text:
        return ParsedValue("empty")
    return ParsedValue("qualitative", qualitative=text)
