"""Read text dumps of 财政项目支出绩效自评表 forms into canonical records.

Stages, each a pure function over typed values:
  bytes --decode_dump/split_lines--> [Line] --split_forms--> [FormText] (reading order checked)
  FormText --sections--> head / funding / goals / table / totals --parse_*--> Record
A dump whose boxes are out of reading order is refused (scrambled_text): only page geometry can
rebuild such a table. Whatever the text cannot settle is listed in Record.uncertain_fields.
"""

from __future__ import annotations

import re

from ..cells import clean_text, grade_cell, number_or_none
from ..record import ExtractError, ReadError, Record, Source
from ..vocabulary import (
    FISCAL_YEAR,
    FUNDING_BLOCK,
    GRADE_LABEL,
    IMPLEMENTING_UNIT,
    PROJECT_NAME,
    SUPERVISING_DEPT,
    TOTAL_LABEL,
    label,
)
from .form import FormText, split_forms
from .funding import parse_funding
from .goals import parse_goals, strip_row_labels
from .indicators import parse_indicators
from .lines import decode_dump, split_lines

_HEAD = re.compile(
    f"{label(PROJECT_NAME)}(?P<name>.*?){label(SUPERVISING_DEPT)}(?P<dept>.*?)"
    f"({label(IMPLEMENTING_UNIT)}(?P<unit>.*?))?({FUNDING_BLOCK}|$)"
)
REQUIRED = ("funding header", "indicator header")


def read_text_dump(data: bytes, file: str, sha256: str) -> tuple[list[Record], list[ExtractError]]:
    """Every form in a text dump; raises ReadError for a file that is no readable dump."""
    lines = split_lines(decode_dump(data))
    if not lines:
        raise ReadError("no_form", "the text is blank")
    records: list[Record] = []
    errors: list[ExtractError] = []
    for form in split_forms(lines):
        missing = [name for name in REQUIRED if name not in form.anchors]
        if missing:
            message = f"form {form.index}: no {', no '.join(missing)} found"
            errors.append(ExtractError(file, sha256, "form_unreadable", message, form.pages))
            continue
        records.append(
            read_form(form, Source(file=file, sha256=sha256, pages=form.pages, form_index=form.index))
        )
    return records, errors


def read_form(form: FormText, source: Source) -> Record:
    """One form of a dump into a Record: head, 项目资金, 年度总体目标, 绩效指标, 总分 and 评分等级, with
    everything the text cannot settle in uncertain_fields. Raises ReadError `scrambled_text` when
    many indicator rows have no 三级指标 text (the dump is out of reading order)."""
    uncertain: list[str] = []
    year, name, dept, unit = _head(form, uncertain)
    fund_end = form.anchors.get("goals header", form.anchors["indicator header"])
    head = form.lines[: form.anchors["funding header"]]
    funding = parse_funding(form.lines[form.anchors["funding header"] : fund_end], head)
    goals = (
        parse_goals(form.section("goals header", "indicator header"))
        if "goals header" in form.anchors
        else None
    )
    table_lines = form.lines[form.anchors["indicator header"] : form.anchors.get("总分", len(form.lines))]
    table = parse_indicators(table_lines)
    nameless = table.rows_without_names
    if nameless >= 2 and 4 * nameless >= len(table.indicators):
        why = f"form {form.index}: {nameless} of {len(table.indicators)} indicator rows have no 三级指标 text"
        raise ReadError(
            "scrambled_text", f"text is not in reading order ({why}); extract from the PDF instead"
        )
    total_weight, total_score, grade = _totals(form, uncertain)
    uncertain += funding.uncertain
    if goals is None or strip_row_labels(funding.leftover):  # goal text printed before its header?
        uncertain += ["goal_expected", "goal_actual"]
    if goals is not None:
        uncertain += goals.uncertain
    uncertain += table.uncertain
    return Record(
        fiscal_year=year,
        project_name=name,
        supervising_dept=dept,
        implementing_unit=unit,
        funding=funding.lines,
        goal_expected=goals.expected if goals else None,
        goal_actual=goals.actual if goals else None,
        indicators=table.indicators,
        total_weight=total_weight,
        total_score=total_score,
        grade=grade,
        source=source,
        uncertain_fields=list(dict.fromkeys(uncertain)),
    )


def _head(form: FormText, uncertain: list[str]) -> tuple[int | None, str | None, str | None, str | None]:
    """Fiscal year from the title, then 项目名称 / 主管部门 / 实施单位 up to the funding block."""
    head = form.lines[: form.anchors["funding header"]]
    year_match = next((m for line in head[:3] if (m := FISCAL_YEAR.search(line.clean))), None)
    year = int(year_match.group(1)) if year_match else None
    if year is None:
        uncertain.append("fiscal_year")
    text = "".join(line.clean for line in head)
    match = _HEAD.search(text)
    if match is None:
        uncertain += ["project_name", "supervising_dept", "implementing_unit"]
        return year, None, None, None
    name, dept, unit = (clean_text(match.group(g)) or None for g in ("name", "dept", "unit"))
    if match.group("unit") is None:
        uncertain.append("implementing_unit")
    return year, name, dept, unit


def _totals(form: FormText, uncertain: list[str]) -> tuple[float | None, float | None, str | None]:
    """总分 (分值 and 得分 columns) and 评分等级."""
    weight = score = grade = None
    i = form.anchors.get("总分")
    if i is not None:
        j = form.anchors.get("评分等级", len(form.lines))
        tokens = [t for line in form.lines[i:j] for t in line.tokens]
        tokens[0] = re.sub(f"^(?:{TOTAL_LABEL})", "", tokens[0])
        numbers = [t for t in tokens if t and number_or_none(t) is not None]
        if len(numbers) == 2:
            weight, score = number_or_none(numbers[0]), number_or_none(numbers[1])
    if weight is None:
        uncertain += ["total_weight", "total_score"]
    k = form.anchors.get("评分等级")
    certain = k is None and i is not None  # no grade row below a 总分 row: the form prints none
    if k is not None:
        rest = re.sub(GRADE_LABEL, "", form.lines[k].clean)
        if not rest and k + 1 < len(form.lines):
            rest = form.lines[k + 1].clean
        grade, certain = grade_cell(rest)
    if not certain:
        uncertain.append("grade")
    return weight, score, grade
