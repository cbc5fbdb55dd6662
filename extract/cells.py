"""Parsing of single table cells: numbers, percentages and wrapped text."""

from __future__ import annotations

import math
import re

_NULL_TOKENS = {"", "-", "—", "－", "/", "——", "--"}
_NUMBER = re.compile(r"^[-−]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")
_FULLWIDTH = str.maketrans("０１２３４５６７８９．，％－", "0123456789.,%-")


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
    s = clean_text(text).translate(_FULLWIDTH)
    if s in _NULL_TOKENS:
        return None
    if not _NUMBER.match(s):
        raise ValueError(f"not a number: {text!r}")
    value = float(s.replace(",", "").replace("−", "-"))
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text!r}")
    return value


def parse_percent(text: str | None) -> float | None:
    """A rate in percent: "40.87%" → 40.87, "85.93" → 85.93, "-" → None."""
    s = clean_text(text).translate(_FULLWIDTH)
    return parse_number(s[:-1] if s.endswith("%") else s)


def is_number(text: str | None) -> bool:
    try:
        return parse_percent(text) is not None
    except ValueError:
        return False
