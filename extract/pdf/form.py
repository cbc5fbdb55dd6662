"""Read one form, laid out over one or more page regions, into a canonical Record by geometry.

Labels (项目名称, 年初预算数, 一级指标, …) are found by pattern in geometric text lines; column edges
come from rules, cell-border ends or blank gutters (see columns.py); row bands from horizontal rules
crossing a column that is never merged. Nothing here depends on the order of the content stream.
"""

from __future__ import annotations

import math

from ..cells import grade_cell
from ..record import INDICATOR_TEXT_FIELDS, Indicator, ReadError, Record, Source
from ..vocabulary import (
    FISCAL_YEAR,
    FISCAL_YEARS,
    FORM_NOTE,
    FUNDING_BLOCK,
    GOAL_EXPECTED,
    GRADE_LABEL,
    IMPLEMENTING_UNIT,
    NEAR_MISS_LABELS,
    PROJECT_NAME,
    SUPERVISING_DEPT,
    label,
    near_miss,
)
from .accounting import account, flag_unmapped_values
from .columns import Column
from .funding import funding_fields, read_funding
from .goals import read_goals
from .indicators import INDICATOR_FIELDS, find_indicator_header, read_indicators
from .layout import NUDGE
from .painting import UNMAPPED
from .table import Form, Hit, Part, Pos, cell_text, parse_cell, row_band, text_right_of, value_right_of

LEVELS = ("level1", "level2", "level3")
UNMAPPED_NAMES_SHARE = 0.5  # above this share of unmapped glyphs in its names a form is refused


def read_year(form: Form, name_hit: Hit) -> int | None:
    """The fiscal year (年度) of the title lines above the 项目名称 label: the first four-digit year
    followed by 年 or 年度 that lies in FISCAL_YEARS; None when there is none."""
    for part in form.parts[: name_hit.part + 1]:
        for line in part.lines():
            if (form.parts.index(part), line.yc) > name_hit.pos:
                break
            m = FISCAL_YEAR.search(line.text)
            if m and int(m.group(1)) in FISCAL_YEARS:
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
    weight, score = (
        parse_cell(
            form, f"total_{name}", cell_text(part.page, columns[name].x0, columns[name].x1, top, bottom)
        )
        for name in ("weight", "score")
    )
    return weight, score


def read_grade(form: Form, total: Hit | None, after: Pos) -> str | None:
    """评分等级: the text beside the label that starts the grade row below 总分. No such row → None,
    uncertain only where the table's end (总分) was not found either, so a grade row may have been
    missed; a note under the form (注：评分等级：90分以上为优…) is no grade row."""
    hit = form.find(GRADE_LABEL, after=total.pos if total else after)
    if hit is None:
        if total is None:
            form.uncertain.append("grade")
        return None
    text, box = text_right_of(form, hit)
    grade, certain = grade_cell(text)
    if grade is None and certain:  # a legend of the bands printed as a note: no field
        form.set_aside_box(*box, "outside_table")
        return None
    form.claim(*box, "grade")
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


def _near_miss(form: Form, field: str, after: Pos) -> Hit | None:
    """On a scan, a head label the recogniser read one character off (vocabulary.near_miss)."""
    if not any(p.page.ocr for p in form.parts):
        return None
    return form.find(label(near_miss(NEAR_MISS_LABELS[field])), after=after)


def read_form(parts: list[Part], source: Source) -> Record:
    """Read one form, laid out over `parts` (its page regions, in page order), into a Record.

    Every field the geometry cannot settle is listed in uncertain_fields; the glyph accounting
    (GlyphReport) is attached. Raises ReadError `form_unreadable` for a form without a 项目名称 label
    or whose indicator header lacks 三级指标, 分值 or 得分, and `unmapped_glyphs` for a form whose
    names are mostly glyphs its fonts map to no character."""
    form = Form(parts)
    name_hit = form.find("^" + label(PROJECT_NAME))
    if name_hit is None:
        raise ReadError("form_unreadable", "no 项目名称 label")
    after = (name_hit.part, name_hit.line.top - NUDGE)
    dept = form.find(label(SUPERVISING_DEPT), after=after) or _near_miss(form, "supervising_dept", after)
    unit = form.find(label(IMPLEMENTING_UNIT), after=after) or _near_miss(form, "implementing_unit", after)
    for hit, path in ((dept, "supervising_dept"), (unit, "implementing_unit")):
        if hit is None:  # not printed, or printed but not read (a label misrecognised on a scan)
            form.uncertain.append(path)
    project_name = value_right_of(form, name_hit, "project_name", _next_label_x(form, name_hit, dept))
    supervising = (
        value_right_of(form, dept, "supervising_dept", _next_label_x(form, dept, unit)) if dept else None
    )
    implementing = value_right_of(form, unit, "implementing_unit") if unit else None
    _claim_title(form, name_hit)
    anchor = max((h for h in (name_hit, dept, unit) if h), key=lambda h: h.pos)
    form.find(FUNDING_BLOCK, after=anchor.pos)  # the block's own label, claimed as such
    next_block = [h.pos for h in (form.find(GOAL_EXPECTED, after=anchor.pos),) if h]
    next_block += [h.pos for h in (find_indicator_header(form, anchor.pos),) if h]
    funding, after_funding = read_funding(form, anchor, min(next_block, default=None))
    ind_header = find_indicator_header(form, after_funding)
    goal_expected, goal_actual = read_goals(form, after_funding, ind_header.pos if ind_header else None)
    indicators, total, columns = read_indicators(form, after_funding)
    total_weight, total_score = read_totals(form, total, columns)
    grade = read_grade(form, total, after_funding)
    _set_aside_notes(form, total.pos if total else after_funding)
    source.pages = sorted({p.page.number for p in parts if p.lines()})
    source.ocr_pages = sorted({p.page.number for p in parts if p.lines() and p.page.ocr})
    if not any(p.page.hrules or p.page.vrules for p in parts):
        # No ruling at all: cells are inferred from text positions alone, so nothing is certain.
        form.uncertain.extend(_table_fields(indicators))
    fiscal_year = read_year(form, name_hit)
    if fiscal_year is None:  # every form prints its year: one that cannot be read is not known
        form.uncertain.append("fiscal_year")
    glyphs = account(form)
    texts = {
        "project_name": project_name,
        "supervising_dept": supervising,
        "implementing_unit": implementing,
        "goal_expected": goal_expected,
        "goal_actual": goal_actual,
        "grade": grade,
    }
    texts.update(
        (f"indicators[{i}].{name}", getattr(ind, name))
        for i, ind in enumerate(indicators)
        for name in INDICATOR_TEXT_FIELDS
    )
    flag_unmapped_values(form, glyphs, texts)
    _refuse_unmapped_names([project_name, supervising, implementing], indicators)
    return Record(
        fiscal_year=fiscal_year,
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
        glyphs=glyphs,
    )


def _set_aside_notes(form: Form, after: Pos) -> None:
    """A note under the form (注：…, 说明：…, below the 总分 row) is no field: its lines, to the end
    of the form's part on that page, are set aside as `outside_table`."""
    note = form.find(FORM_NOTE, after=after)
    if note is not None:
        part = form.parts[note.part]
        form.set_aside_box(
            note.part, -math.inf, math.inf, note.line.top - NUDGE, part.bottom, "outside_table"
        )


def _claim_title(form: Form, name_hit: Hit) -> None:
    """The title lines above the 项目名称 row (财政项目支出绩效自评表, （2024年度）), also on the page
    before when the title was left there, are the form's own."""
    for pi, part in enumerate(form.parts[: name_hit.part + 1]):
        bottom = part.bottom
        if pi == name_hit.part:
            bottom = row_band(part, (name_hit.x0 + name_hit.x1) / 2, name_hit.line)[0]
        form.claim_label_box(pi, 0.0, part.page.width, part.top, bottom)


def _refuse_unmapped_names(names: list[str | None], indicators: list[Indicator]) -> None:
    """A form whose names (项目名称, 主管部门, 实施单位, 一/二/三级指标) are mostly glyphs its fonts
    map to no character cannot be read: ReadError `unmapped_glyphs`."""
    texts = [t for t in names + [getattr(i, f) for i in indicators for f in LEVELS] if t]
    unmapped = sum(len(UNMAPPED.findall(t)) for t in texts)
    mapped = sum(len(UNMAPPED.sub("", t)) for t in texts)
    if unmapped > UNMAPPED_NAMES_SHARE * (unmapped + mapped):
        total = unmapped + mapped
        message = f"{unmapped} of {total} glyphs of the form's names map to no character in their font"
        raise ReadError("unmapped_glyphs", message)
