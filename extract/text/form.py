"""One form of a dump cut into its sections, and the check that the dump is in reading order.

A form starts at its title 财政项目支出绩效自评表 and its parts come in a fixed order: project name,
departments, the funding block (header, then 年度资金总额 …), the goals (预期目标 / 实际完成情况), the
indicator table (header 一级指标 …), 总分 and 评分等级. A dump whose producer wrote boxes out of that
order (titles after the body, header cells in separate blocks) cannot be read from its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..record import ReadError
from .lines import Line

TITLE = re.compile(r"^(财政)?项目支出绩效自评表([（(]\d{4}年度?[)）])?$")

# Anchors in the order a form prints them: (name, test on a line's whitespace-free text).
ANCHORS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("项目名称", re.compile(r"^项目名称")),
    ("主管部门", re.compile(r"^主管部门")),
    ("funding header", re.compile(r"年初预算数")),
    ("年度资金总额", re.compile(r"^年度资金总额")),
    ("goals header", re.compile(r"^预期目标(实际完成(情况|值)?)?$")),
    ("indicator header", re.compile(r"^(绩效指标)?一级指标")),
    ("总分", re.compile(r"^总分([\d.,\-—]|$)")),
    ("评分等级", re.compile(r"^评分等级")),
)
REPEATABLE = {"indicator header"}  # a continuation page may repeat the table header


@dataclass
class FormText:
    index: int  # 1-based position of the form in the file
    lines: list[Line]  # title line first
    anchors: dict[str, int]  # anchor name -> index into lines of its first occurrence

    @property
    def pages(self) -> list[int]:
        return sorted({line.page for line in self.lines})

    def section(self, start: str, end: str | None) -> list[Line]:
        """Lines after anchor `start` (exclusive) up to anchor `end` (exclusive) or the form's end."""
        i = self.anchors.get(start)
        if i is None:
            return []
        j = self.anchors.get(end, len(self.lines)) if end else len(self.lines)
        return self.lines[i + 1 : j]


def is_title(line: Line) -> bool:
    return bool(TITLE.match(line.clean))


def anchor_of(line: Line) -> str | None:
    clean = line.clean
    for name, pattern in ANCHORS:
        if pattern.search(clean):
            return name
    return None


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
    if header is not None and "三级指标" not in lines[header].clean:
        _scrambled(f"form {index}: the indicator header (line {lines[header].no}) lacks its 三级指标 column")
    return seen


def _scrambled(why: str) -> None:
    raise ReadError("scrambled_text", f"text is not in reading order ({why}); extract from the PDF instead")
