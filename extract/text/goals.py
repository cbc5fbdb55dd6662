"""年度总体目标: the 预期目标 and 实际完成情况 texts, whose columns a dump prints one after the other.

Within a column every line of a paragraph but its last is filled to the column's width, so a line
clearly shorter than the column ends a paragraph. The left column (预期目标) is printed first and, in
this form, is wider than the right one. The split between them is the paragraph boundary that makes
both columns most regular: the continued lines of each column as wide as that column, no paragraph
ending in mid-phrase, the right column not wider than the left. Boundaries that do equally well are
told apart by the blank lines of the dump (a text box does not straddle the columns) and the choice
is marked uncertain; so is a paragraph break that widths cannot settle.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..vocabulary import GOAL_ROW_LABELS
from .lines import Line, ascii_count

SENTENCE_END = "。！？；!?;"
CLOSERS = "）)”’」』】〕"
PUNCTUATION = SENTENCE_END + CLOSERS + "，,、：:…"
FULL_GAP = 0.5  # a line this close to its column's width is filled: the paragraph goes on
SHORT_GAP = 2.0  # a line this much narrower ends its paragraph
MID_PHRASE_END = 3.0  # cost of a paragraph that ends without punctuation while its column goes on
UNSURE_END = 2.0  # cost of ending the left column on a line that looks continued (a closing bracket)
ASCII_SLACK = 0.1  # uncertainty of a half-width character's printed width, in em
TIE = 0.25  # splits whose costs differ by no more than this are equally good


@dataclass
class GoalResult:
    """The two 年度总体目标 texts (预期目标, 实际完成情况) and which of them are uncertain."""

    expected: str | None
    actual: str | None
    uncertain: list[str] = field(default_factory=list)  # "goal_expected" / "goal_actual"


@dataclass(frozen=True)
class LineEnd:
    """Whether a line ends its paragraph, and whether that is certain."""

    ends_paragraph: bool
    certain: bool


def parse_goals(lines: list[Line]) -> GoalResult:
    """Split the goal lines (between 预期目标/实际完成情况 and the indicator table) into the two texts."""
    lines = strip_row_labels(lines)
    if not lines:
        return GoalResult(None, None, ["goal_expected", "goal_actual"])
    splits = _candidate_splits(lines)
    if not splits:  # a single paragraph: which column holds it is unknown
        text, _ = _column_text(lines, None)
        return GoalResult(text, None, ["goal_expected", "goal_actual"])
    costs = {k: _split_cost(lines, k) for k in splits}
    best = min(costs.values())
    tied = [k for k, c in costs.items() if c <= best + TIE]
    k = _break_tie(lines, tied)
    left, right = lines[:k], lines[k:]
    expected, expected_sure = _column_text(left, max(line.width for line in right))
    actual, actual_sure = _column_text(right, max(line.width for line in left))
    uncertain = []
    if len(tied) > 1 or not expected_sure:
        uncertain.append("goal_expected")
    if len(tied) > 1 or not actual_sure:
        uncertain.append("goal_actual")
    return GoalResult(expected, actual, uncertain)


def strip_row_labels(lines: list[Line]) -> list[Line]:
    """Drop the form's row labels (年度总体目标, 绩效指标) printed, wrapped, among the goal lines."""
    out = list(lines)
    i = 0
    while i < len(out):
        for k in (4, 3, 2, 1):
            group = out[i : i + k]
            if (
                len(group) == k
                and all(g.width <= 6 for g in group)
                and "".join(g.clean for g in group) in GOAL_ROW_LABELS
            ):
                del out[i : i + k]
                break
        else:
            i += 1
    return out


def line_end(line: Line, width: float, last: bool) -> LineEnd:
    """Does a line end its paragraph, in a column `width` em wide?"""
    if last:
        return LineEnd(True, True)
    gap = width - line.width
    if gap <= FULL_GAP:
        return LineEnd(False, True)
    if gap >= SHORT_GAP:
        return LineEnd(True, True)
    tail = line.clean[-1]
    if tail in SENTENCE_END:
        return LineEnd(True, False)
    if tail in CLOSERS:
        return LineEnd(False, False)
    return LineEnd(False, True)  # ends mid-phrase: the next line goes on with it


def _candidate_splits(lines: list[Line]) -> list[int]:
    """Indices k where lines[k-1] may end a paragraph: the right column would start at lines[k]."""
    width = max(line.width for line in lines)
    return [
        k
        for k in range(1, len(lines))
        if line_end(lines[k - 1], width, False) != LineEnd(False, True)
        or _widest_sentence(lines[k - 1], width)
    ]


def _widest_sentence(line: Line, width: float) -> bool:
    """A widest line closing a sentence may be a one-line paragraph, the whole left column."""
    return line.width >= width - FULL_GAP and line.clean[-1] in SENTENCE_END


def _split_cost(lines: list[Line], k: int) -> float:
    left, right = lines[:k], lines[k:]
    if _least_width(right) >= _most_width(left):
        return float("inf")  # the right column would be as wide as the left
    w_left = max(line.width for line in left)
    w_right = max(line.width for line in right)
    if _ends(left, w_right)[-1] == LineEnd(False, True):
        return float("inf")  # the left column would stop in mid-paragraph
    return _column_cost(left, w_right, last_is_end=True) + _column_cost(right, w_left, last_is_end=False)


def _ends(lines: list[Line], other_width: float | None) -> list[LineEnd]:
    """How each line of a column ends, were more text to follow it.

    A column's width is its widest line. That is only known to be the column's width when the
    other column is about as wide or several lines reach it; otherwise a widest line closing a
    sentence may be a one-line paragraph: its break is taken, unsure.
    """
    width = max(line.width for line in lines)
    reaching = sum(1 for line in lines[:-1] if line.width >= width - FULL_GAP)
    confirmed = reaching >= 2 or (other_width is not None and abs(width - other_width) <= SHORT_GAP)
    ends = []
    for line in lines:
        end = line_end(line, width, False)
        if not confirmed and not end.ends_paragraph and line.clean[-1] in SENTENCE_END:
            end = LineEnd(True, False)
        ends.append(end)
    return ends


def _column_cost(lines: list[Line], other_width: float, last_is_end: bool) -> float:
    """Irregularity of a column: continued lines short of its width, paragraphs ending mid-phrase."""
    width = max(line.width for line in lines)
    cost = 0.0
    judged = list(zip(lines, _ends(lines, other_width), strict=True))
    for i, (line, end) in enumerate(judged if last_is_end else judged[:-1]):
        if not end.ends_paragraph:
            cost += UNSURE_END if i == len(lines) - 1 else max(0.0, width - line.width)
        elif line.clean[-1] not in PUNCTUATION:
            cost += MID_PHRASE_END
    return cost


def _most_width(lines: list[Line]) -> float:
    """The widest the widest line could be: half-width characters vary by font (±0.1 em each)."""
    return max(line.width + ASCII_SLACK * ascii_count(line.text) for line in lines)


def _least_width(lines: list[Line]) -> float:
    return max(line.width - ASCII_SLACK * ascii_count(line.text) for line in lines)


def _break_tie(lines: list[Line], tied: list[int]) -> int:
    """Prefer a split at a blank line (a box is in one column), then the latest one."""
    at_blank = [k for k in tied if lines[k - 1].chunk != lines[k].chunk]
    return max(at_blank or tied)


def _column_text(lines: list[Line], other_width: float | None) -> tuple[str | None, bool]:
    """Paragraphs joined by "\\n", wrapped lines with no separator; and whether every break is sure."""
    if not lines:
        return None, True
    ends = _ends(lines, other_width)
    ends[-1] = LineEnd(True, True)
    paragraphs, current = [], ""
    for line, end in zip(lines, ends, strict=True):
        current += line.clean
        if end.ends_paragraph:
            paragraphs.append(current)
            current = ""
    return "\n".join(paragraphs), all(end.certain for end in ends)
