"""Read one form, laid out over one or more page regions, into a canonical Record by geometry.

Labels (项目名称, 年初预算数, 一级指标, …) are found by pattern in geometric text lines; column edges
come from rules, cell-border ends or blank gutters (see columns.py); row bands from horizontal rules
crossing a column that is never merged. Nothing here depends on the order of the content stream.
"""

from __future__ import annotations

from ..cells import grade_cell
from ..record import Indicator, ReadError, Record, Source
from ..vocabulary import (
    FISCAL_YEAR,
    GOAL_EXPECTED,
    GRADE_LABEL,
    IMPLEMENTING_UNIT,
    PROJECT_NAME,
    SUPERVISING_DEPT,
    label,
)
from .columns import Column
from .funding import funding_fields, read_funding
from .goals import read_goals
from .indicators import INDICATOR_FIELDS, find_indicator_header, read_indicators
from .table import Form, Hit, Part, cell_text, parse_cell, row_band, value_right_of


def read_year(form: Form, name_hit: Hit) -> int | None:
    for part in form.parts[: name_hit.part + 1]:
        for line in part.lines():
            if (form.parts.index(part), line.yc) > name_hit.pos:
                break
            m = FISCAL_YEAR.search(line.text)
            if m and 1990 <= int(m.group(1)) <= 2100:
                return int(m.group(1))
    return None


def read_totals(
    form: Form, total: Hit | None, columns: dict[str, Column]
) -> tuple[float | None, float | None]:
    """总分 row: the numbers under the indicator table's 分值 and 得分 columns."""
    if total is None or not {"weight", "score"} <= columns.keys():
        form.uncertain.extend(["total_weight", "total_score"])
        return None, None
    part = form.parts[total.part]
    top, bottom = row_band(part, (total.x0 + total.x1) / 2, total.line)
    return tuple(
        parse_cell(
            form, f"total_{name}", cell_text(part.page, columns[name].x0, columns[name].x1, top, bottom)
        )
        for name in ("weight", "score")
    )


def read_grade(form: Form, total: Hit | None, after: tuple[int, float]) -> str | None:
    """评分等级: the text beside the label that starts the grade row below 总分. No such row → None,
    uncertain only where the table's end (总分) was not found either, so a grade row may have been
    missed; a note under the form (注：评分等级：90分以上为优…) is no grade row."""
    hit = form.find(GRADE_LABEL, after=total.pos if total else after)
    if hit is None:
        if total is None:
            form.uncertain.append("grade")
        return None
    grade, certain = grade_cell(value_right_of(form, hit))
    if not certain:
        form.uncertain.append("grade")
    return grade


def _next_label_x(form: Form, label: Hit, other: Hit | None) -> float | None:
    """Where the value right of `label` ends: at the next label when it is in the same row, also
    when the two labels wrap over different numbers of lines (主管部门 / 项目实施单位（盖章）)."""
    if other is None or other.part != label.part or other.x0 <= label.x1:
        return None
    top, bottom = row_band(form.parts[label.part], (label.x0 + label.x1) / 2, label.line)
    return other.x0 if top <= other.line.yc <= bottom else None


def _table_fields(indicators: list[Indicator]) -> list[str]:
    """Paths of every value read from a table cell."""
    paths = ["project_name", "supervising_dept", "implementing_unit", "goal_expected", "goal_actual"]
    paths += ["total_weight", "total_score", "grade"]
    paths += funding_fields()
    paths += [f"indicators[{i}].{f}" for i in range(len(indicators)) for f in INDICATOR_FIELDS]
    return paths


def read_form(parts: list[Part], source: Source) -> Record:
    form = Form(parts)
    name_hit = form.find("^" + label(PROJECT_NAME))
    if name_hit is None:
        raise ReadError("form_unreadable", "no 项目名称 label")
    dept = form.find(label(SUPERVISING_DEPT), after=(name_hit.part, name_hit.line.top - 0.1))
    unit = form.find(label(IMPLEMENTING_UNIT), after=(name_hit.part, name_hit.line.top - 0.1))
    project_name = value_right_of(form, name_hit, _next_label_x(form, name_hit, dept))
    supervising = value_right_of(form, dept, _next_label_x(form, dept, unit)) if dept else None
    implementing = value_right_of(form, unit) if unit else None
    anchor = max((h for h in (name_hit, dept, unit) if h), key=lambda h: h.pos)
    next_block = [h.pos for h in (form.find(GOAL_EXPECTED, after=anchor.pos),) if h]
    next_block += [h.pos for h in (find_indicator_header(form, anchor.pos),) if h]
    funding, after_funding = read_funding(form, anchor, min(next_block, default=None))
    ind_header = find_indicator_header(form, after_funding)
    goal_expected, goal_actual = read_goals(form, after_funding, ind_header.pos if ind_header else None)
    indicators, total, columns = read_indicators(form, after_funding)
    total_weight, total_score = read_totals(form, total, columns)
    grade = read_grade(form, total, after_funding)
    source.pages = sorted({p.page.number for p in parts if p.lines()})
    if not any(p.page.hrules or p.page.vrules for p in parts):
        # No ruling at all: cells are inferred from text positions alone, so nothing is certain.
        form.uncertain.extend(_table_fields(indicators))
    return Record(
        fiscal_year=read_year(form, name_hit),
        project_name=project_name,
        supervising_dept=supervising,
        implementing_unit=implementing,
        funding=funding,
        goal_expected=goal_expected,
        goal_actual=goal_actual,
        indicators=indicators,
        total_weight=total_weight,
        total_score=total_score,
        grade=grade,
        source=source,
        uncertain_fields=sorted(set(form.uncertain)),
    )
