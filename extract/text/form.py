"""One form of a dump cut into its sections, and the check that the dump is in reading order.

A form starts at its title 财政项目支出绩效自评表 and its parts come in a fixed order: project name,
departments, the funding block (header, then 年度资金总额 …), the goals (预期目标 / 实际完成情况), the
indicator table (header 一级指标 …), 总分 and 评分等级. A dump whose producer wrote boxes out of that
order (titles after the body, header cells in separate blocks) cannot be read from its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..record import ReadError
from ..vocabulary import (
    GOAL_ACTUAL,
    GOAL_EXPECTED,
    GRADE_LABEL,
    INDICATOR_BLOCK,
    LEVEL1_HEADER,
    LEVEL3_HEADER,
    PROJECT_NAME,
    SUPERVISING_DEPT,
    TOTAL_LABEL,
    funding_line_of,
    is_funding_header,
    is_title_line,
    label,
)
from .lines import Line


def _pattern(source: str) -> Callable[[str], bool]:
    """A test of a line's whitespace-free text: does the pattern occur in it."""
    pattern = re.compile(source)
    return lambda clean: bool(pattern.search(clean))


# Anchors in the order a form prints them: (name, test on a line's whitespace-free text).
ANCHORS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("项目名称", _pattern("^" + label(PROJECT_NAME))),
    ("主管部门", _pattern("^" + label(SUPERVISING_DEPT))),
    ("funding header", is_funding_header),
    ("年度资金总额", lambda clean: funding_line_of(clean)[0] == 0),
    ("goals header", _pattern(f"^(?:{GOAL_EXPECTED})(?:{GOAL_ACTUAL}|实际完成值)?$")),
    ("indicator header", _pattern(f"^(?:{INDICATOR_BLOCK})?{LEVEL1_HEADER}")),
    ("总分", _pattern(rf"^(?:{TOTAL_LABEL})(?:[\d.,\-—]|$)")),
    # The grade row holds a grade word at most: a line of the table starting with 等级 is no anchor.
    ("评分等级", _pattern(GRADE_LABEL + r"(?:[\u4e00-\u9fff]{1,3})?$")),
)
REPEATABLE = {"indicator header"}  # a continuation page may repeat the table header


@dataclass
class FormText:
    """One form's lines of a dump (its title line first) and where each anchor (ANCHORS: 项目名称,
    the funding header, …) first stands among them."""

    index: int  # 1-based position of the form in the file
    lines: list[Line]  # title line first
    anchors: dict[str, int]  # anchor name -> index into lines of its first occurrence

    @property
    def pages(self) -> list[int]:
        """The 1-based pages the form's lines are on."""
        return sorted({line.page for line in self.lines})

    def section(self, start: str, end: str | None) -> list[Line]:
        """Lines after anchor `start` (exclusive) up to anchor `end` (exclusive) or the form's end."""
        i = self.anchors.get(start)
        if i is None:
            return []
        j = self.anchors.get(end, len(self.lines)) if end else len(self.lines)
        return self.lines[i + 1 : j]


def is_title(line: Line) -> bool:
    """Whether the line is the form's title (财政项目支出绩效自评表 or a variant) and nothing else."""
    return is_title_line(line.clean)


def anchor_of(line: Line) -> str | None:
    """The name of the anchor (ANCHORS) the line is, or None."""
    clean = line.clean
    return next((name for name, test in ANCHORS if test(clean)), None)


def split_forms(lines: list[Line]) -> list[FormText]:
    """One FormText per title; raises ReadError when there is none or the text is out of order."""
    starts = [i for i, line in enumerate(lines) if is_title(line)]
    if not starts:
        raise ReadError("no_form", "no 财政项目支出绩效自评表 title in the text")
    preamble = [anchor_of(line) for line in lines[: starts[0]]]
    found = [a for a in preamble if a]
    if found:
        _scrambled(f"form parts ({', '.join(dict.fromkeys(found))}) are printed before the title")
    forms = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        form_lines = lines[start:end]
        forms.append(FormText(n + 1, form_lines, _anchors(form_lines, n + 1)))
    return forms


def _anchors(lines: list[Line], index: int) -> dict[str, int]:
    order = [name for name, _ in ANCHORS]
    seen: dict[str, int] = {}
    last_rank = -1
    for i, line in enumerate(lines[1:], start=1):
        name = anchor_of(line)
        if name is None:
            continue
        rank = order.index(name)
        if name in seen:
            if name in REPEATABLE and rank == last_rank:
                continue
            _scrambled(f"form {index}: '{name}' printed twice (line {line.no})")
        if rank < last_rank:
            _scrambled(f"form {index}: '{name}' (line {line.no}) printed after '{order[last_rank]}'")
        seen[name] = i
        last_rank = rank
    header = seen.get("indicator header")
    if header is not None and LEVEL3_HEADER not in lines[header].clean:
        _scrambled(f"form {index}: the indicator header (line {lines[header].no}) lacks its 三级指标 column")
    return seen


def _scrambled(why: str) -> None:
    raise ReadError("scrambled_text", f"text is not in reading order ({why}); extract from the PDF instead")
