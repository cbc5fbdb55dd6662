"""Parse an indicator's target (年度指标值) or actual (实际完成值) text into operator, value and unit.

One pure function, `parse_value`, used by the staging loader for both the target and the actual cell
of every indicator; the marts (dbt) only compare its outputs and never re-parse text.

What the forms print, and how it is read (examples are from the sample forms):

- Quantitative: an optional comparison operator, a number, an optional unit.
  ``=120.00(人)``, ``≥90.00(%)``, ``>=450人``, ``<100.00(人)``, ``1,614.00(万元)``, ``515人``, ``0``.
  * Operators: ``=  ≥  ≤  >  <``; ASCII ``>=`` / ``<=`` and ``≧`` / ``≦`` become ``≥`` / ``≤``;
    full-width ``＝ ＞ ＜`` their ASCII forms; the words 不低于/不少于/大于等于/至少 (≥),
    不高于/不超过/不多于/小于等于/至多 (≤), 大于/高于/多于/超过 (>), 小于/低于/少于 (<), 等于 (=) when
    they stand before the number; with no operator before it, a trailing 以上/及以上 (≥) or
    以下/及以下/以内 (≤) after the unit (``90%以上``). No operator at all → ``op`` is None (usual
    for actuals).
  * Numbers: thousands separators dropped (``1,614.00`` → 1614.0), full-width digits accepted.
  * Units: brackets (half- or full-width) removed: ``(人)`` → ``人``, ``（元/家）`` → ``元/家``;
    ``百分比`` and ``％`` → ``%``; everything else kept as printed, including a scale such as
    ``万人`` or ``万元``: values are never rescaled, so ``5(万人)`` is value 5, unit ``万人``.
  * A unit must be free of digits and at most 12 characters; a trailing part that reads as a date
    (``11月底``, ``6月前``, ``年底``) makes the whole text qualitative: it is a deadline, not an amount.
- Qualitative: any other non-empty text (``及时``, ``健全``, ``未超项目预算``, ``11月底``, ranges such as
  ``90%-100%``). ``qualitative`` holds the text as printed (whitespace removed, trailing 。/； dropped,
  full-width punctuation kept).
- Empty: None, blank, or a null token (``-``, ``/``, ``—``).

``achieved_wording`` (meaningful on the actual side): True only when the WHOLE text is one of
ACHIEVED_WORDINGS (达成指标, 达成, 已达成, 完成, 已完成, 达标, 合规, 零投诉, …). Whole-text matching is
deliberate and conservative: "未达成", "基本完成", "部分达标" or a sentence that merely contains 完成
are not achievement claims and stay False; wordings that restate a target (及时, 健全) are not in the
list either: the marts treat an actual that repeats its target's wording as met instead.

``value`` on a qualitative parse: a "none" wording (零投诉, 无, 无投诉, 未发生, 零事故…, see
ZERO_WORDINGS / the 零… pattern) carries the count it implies, 0.0, so that a target 零投诉 can be
compared with an actual printed as ``0``. ``kind`` stays "qualitative"; use ``kind`` (not ``value``)
to tell quantitative values apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .vocabulary import FULLWIDTH_TO_ASCII, NULL_TOKENS, OPERATOR_VARIANTS, OPERATOR_WORDS


@dataclass(frozen=True)
class ParsedValue:
    """A target (年度指标值) or actual (实际完成值) cell as read by `parse_value`: its kind; the
    operator, value and unit of a quantitative value (never rescaled); the wording of a
    qualitative one; and whether that wording claims the target was reached."""

    kind: str  # "quantitative" | "qualitative" | "empty"
    op: str | None = None  # "=", "≥", "≤", ">", "<" (ASCII >=, <= normalized to ≥, ≤)
    value: float | None = None
    unit: str | None = None  # normalized: 百分比 → %, brackets removed, 万人 kept with its scale
    qualitative: str | None = None  # the wording of a qualitative value: 及时, 健全, 未超项目预算, …
    achieved_wording: bool = False  # "达成指标", "达成", "零投诉" and similar


KINDS = ("quantitative", "qualitative", "empty")
OPERATORS = ("=", "≥", "≤", ">", "<")

# Whole-text wordings by which an actual (实际完成值) claims the target was reached.
ACHIEVED_WORDINGS = frozenset(
    {
        "达成指标",
        "达成",
        "已达成",
        "达成目标",
        "已达成指标",
        "已达成目标",
        "完成",
        "已完成",
        "全部完成",
        "完成指标",
        "完成目标",
        "已完成指标",
        "达标",
        "已达标",
        "达到",
        "已达到",
        "达到指标",
        "达到目标",
        "合规",
        "符合",
        "零投诉",
        "无投诉",
    }
)

# Whole-text wordings that state a count of zero ("none occurred").
ZERO_WORDINGS = frozenset({"零", "无", "无投诉", "未发生", "零投诉", "无事故", "零事故", "零差错", "无差错"})
_ZERO_PATTERN = re.compile(r"^零[\u4e00-\u9fff]{1,4}$")  # 零投诉, 零事故, 零差错, 零失误 …

# Beyond the full-width map: operator signs of other fonts and every bracket as "(" / ")".
_CHAR_MAP = (
    FULLWIDTH_TO_ASCII
    | OPERATOR_VARIANTS
    | str.maketrans({"［": "(", "］": ")", "【": "(", "】": ")", "[": "(", "]": ")"})
)

_NUMBER = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|^-?\.\d+")
_DATE_UNIT = re.compile(r"^(?:月|日|号|年底|年末|年初|季度末|周内)|[底前末内]$")
# "90%以上" reads as ≥ 90 %; only used when no operator is printed before the number.
_BOUND_SUFFIXES = (("及以上", "≥"), ("以上", "≥"), ("及以下", "≤"), ("以下", "≤"), ("以内", "≤"))
_UNIT_ALIASES = {"百分比": "%", "百分数": "%", "百分之": "%"}


def _normalize(text: str) -> str:
    s = re.sub(r"\s+", "", text).translate(_CHAR_MAP)
    return s.rstrip("。.;；,")


def _split_op(s: str) -> tuple[str | None, str]:
    for word, op in OPERATOR_WORDS:
        if s.startswith(word):
            return op, s[len(word) :]
    return None, s


def _unit(rest: str) -> tuple[bool, str | None]:
    """(is a unit, normalized unit) for the text after the number."""
    if rest == "":
        return True, None
    inner = rest
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1]
    if "(" in inner or ")" in inner or re.search(r"\d", inner) or len(inner) > 12:
        return False, None
    if re.search(r"[,，、;；:：。!?！？\-~～]", inner):
        return False, None
    if _DATE_UNIT.search(inner):
        return False, None
    inner = _UNIT_ALIASES.get(inner, inner)
    return True, (inner or None)


def _qualitative(printed: str, s: str) -> ParsedValue:
    """`printed`: the text as printed, whitespace removed; `s`: its normalized form for matching."""
    zero = s in ZERO_WORDINGS or bool(_ZERO_PATTERN.match(s))
    return ParsedValue(
        "qualitative",
        value=0.0 if zero else None,
        qualitative=printed.rstrip("。;；") or s,
        achieved_wording=s in ACHIEVED_WORDINGS,
    )


def parse_value(text: str | None) -> ParsedValue:
    """Parse one target or actual cell. Pure; never raises for any string."""
    if text is None:
        return ParsedValue("empty")
    s = _normalize(str(text))
    if s in NULL_TOKENS:
        return ParsedValue("empty")
    op, rest = _split_op(s)
    match = _NUMBER.match(rest)
    if match:
        tail = rest[match.end() :]
        for suffix, suffix_op in _BOUND_SUFFIXES:
            if op is None and tail.endswith(suffix):
                op, tail = suffix_op, tail[: -len(suffix)]
                break
        ok, unit = _unit(tail)
        if ok:
            value = float(match.group(0).replace(",", ""))
            return ParsedValue("quantitative", op=op, value=value, unit=unit)
    return _qualitative(re.sub(r"\s+", "", str(text)), s)
