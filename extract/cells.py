"""Parsing of single table cells: numbers, percentages, wrapped text, the grade and split targets."""

from __future__ import annotations

import math
import re

from .vocabulary import (
    GRADE_WORDS,
    NULL_TOKENS,
    TARGET_KIND_WORDS,
    TARGET_PART_HEADERS,
    halfwidth,
    is_null,
    operator_of,
)

_NUMBER = re.compile(r"^-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def clean_text(text: str | None) -> str:
    """Drop all whitespace: the forms never need it and wrapping puts it anywhere."""
    return re.sub(r"\s+", "", text or "")


def join_cell_lines(lines: list[str]) -> str | None:
    """A cell's wrapped lines joined with no separator ("经济成本指", "标" → "经济成本指标")."""
    joined = clean_text("".join(lines))
    return joined or None


def parse_number(text: str | None) -> float | None:
    """A printed amount as a float: "1,614.00" → 1614.0; "-" or blank → None.

    Raises ValueError for text that is neither a number nor a null token, so a misread cell is
    never silently turned into None.
    """
    s = halfwidth(clean_text(text))
    if s in NULL_TOKENS:
        return None
    if not _NUMBER.match(s):
        raise ValueError(f"not a number: {text!r}")
    value = float(s.replace(",", ""))
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text!r}")
    return value


def parse_percent(text: str | None) -> float | None:
    """A rate in percent: "40.87%" → 40.87, "85.93" → 85.93, "-" → None."""
    s = halfwidth(clean_text(text))
    return parse_number(s[:-1] if s.endswith("%") else s)


def number_or_none(text: str | None) -> float | None:
    """`parse_number`, but None also for text that is no number: for a caller that only asks
    whether a token is an amount ("85.93" → 85.93; "达成指标", "-" → None)."""
    try:
        return parse_number(text)
    except ValueError:
        return None


def is_number(text: str | None) -> bool:
    """True when a cell prints a number or a percentage ("40.87%", "1,614.00"); False for a null
    token ("-") or text ("达成指标")."""
    try:
        return parse_percent(text) is not None
    except ValueError:
        return False


def grade_cell(text: str | None) -> tuple[str | None, bool]:
    """The 评分等级 row's value as (grade, certain): "优" → ("优", True).

    A blank cell gives (None, False): the row is there but its grade is not. A legend of the
    bands (90分以上为优，80-90分为良…) is no grade: (None, True). Any other text is returned as
    printed but uncertain.
    """
    s = clean_text(text).lstrip(":：")
    if not s:
        return None, False
    if s in GRADE_WORDS:
        return s, True
    if len({g for g in GRADE_WORDS if len(g) == 1 and g in s}) >= 2 and re.search(r"\d", halfwidth(s)):
        return None, True
    return s, False


def compose_target(operator: str | None, value: str | None, unit: str | None) -> tuple[str | None, bool]:
    """A target printed in three cells (指标性质, 指标值, 度量单位) as one text, and whether it is
    certain: ("≥", "12", "处") → ("≥12处", True); ("定性", "好", None) → ("好", True).

    指标性质 may print an operator (kept as printed) or the indicator's kind (定性/定量, dropped);
    anything else is kept in front but makes the target uncertain. A unit the value already ends
    with is not repeated.
    """
    op = clean_text(operator)
    value_text, unit_text = clean_text(value), clean_text(unit)
    certain = True
    if is_null(op) or op in TARGET_KIND_WORDS:
        op = ""
    elif operator_of(op) is None:
        certain = False
    if is_null(unit_text) or value_text.endswith(unit_text):
        unit_text = ""
    if is_null(value_text):
        return (op + unit_text or None), not (op or unit_text)
    return op + value_text + unit_text, certain


def fold_target_parts(values: dict[str, str | None], unsure: set[str]) -> None:
    """A row's target printed in three cells (指标性质 / 指标值 / 度量单位: keys `target_operator`,
    `target`, `target_unit` of `values`) joined into `values["target"]`, in place; "target" is
    added to `unsure` when the parts do not make one certain target. Rows without the parts are
    left as they are."""
    if any(name in values for name in TARGET_PART_HEADERS):
        target, certain = compose_target(
            values.pop("target_operator", None), values.get("target"), values.pop("target_unit", None)
        )
        values["target"] = target
        if not certain:
            unsure.add("target")
