"""A grid of cells (a worksheet, a document's tables) read into canonical records, one per form.

The form's parts are found by the same vocabulary as the PDF and text readers: the 项目名称 /
主管部门 / 实施单位 labels, the 项目资金 header words and line names, 预期目标 / 实际完成情况, the
绩效指标 header words, 总分 and 评分等级. Cells come with their merged ranges, so a value is the cell
right of its label, or the cell under its header column; a merged 一级/二级指标 cell gives its name
to every row it covers. Nothing is inferred from positions on a page.

A form starts at its 项目名称 row (its title and year printed above it); a grid holds any number.
Every non-blank cell of the form's rows is accounted for (`GlyphReport`, in characters): read into a
field or a label, or left unread — a cell under a column no header names makes the fields beside it
uncertain.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ..cells import clean_text, fold_target_parts, grade_cell, parse_number, parse_percent
from ..record import (
    FUNDING_LINES,
    FUNDING_VALUE_FIELDS,
    FundingLine,
    GlyphReport,
    Indicator,
    ReadError,
    Record,
    Source,
)
from ..vocabulary import (
    FISCAL_YEAR,
    FUNDING_BLOCK,
    FUNDING_HEADERS,
    GOAL_ACTUAL,
    GOAL_EXPECTED,
    GOALS_BLOCK,
    GRADE_LABEL,
    HEADER_ANCHOR_MIN_HITS,
    IMPLEMENTING_UNIT,
    INDICATOR_BLOCK,
    PROJECT_NAME,
    SUPERVISING_DEPT,
    TARGET_PART_HEADERS,
    TOTAL_LABEL,
    FundingUnit,
    funding_header_fields,
    funding_line_of,
    funding_unit,
    funding_value_in_wan,
    halfwidth,
    has_title,
    indicator_header_fields,
    is_header_piece,
    is_title_line,
    label,
)
from .grid import Cell, Grid

HEAD_LABELS = {
    "project_name": "^" + label(PROJECT_NAME),
    "supervising_dept": "^" + label(SUPERVISING_DEPT),
    "implementing_unit": "^" + label(IMPLEMENTING_UNIT),
}
LEVELS = ("level1", "level2")  # the columns whose cells are merged over the rows they group
NUMERIC_FIELDS = ("weight", "score")
_TOTAL_ROW = re.compile(rf"^(?:{TOTAL_LABEL})$")


def _clean(text: str | None) -> str:
    return halfwidth(clean_text(text))


def _paragraphs(text: str) -> str | None:
    """A cell's paragraphs, each without whitespace, joined by "\\n" (as the PDF reader gives
    goal texts)."""
    paras = [clean_text(p) for p in text.split("\n")]
    return "\n".join(p for p in paras if p) or None


@dataclass
class Column:
    """A header cell's grid columns and the field it names (None: a header no reader knows)."""

    name: str | None
    col: int
    last_col: int
    header: Cell


@dataclass
class FormGrid:
    """One form's rows of a grid, and the bookkeeping of what was read."""

    grid: Grid
    start: int  # first row of the form (its title rows included)
    name_row: int  # the 项目名称 row
    end: int  # one past the form's last row
    uncertain: list[str] = field(default_factory=list)
    read: set[int] = field(default_factory=set)  # id() of the cells read into a field or label

    def claim(self, *cells: Cell | None) -> None:
        """Record that `cells` were read into a field or as a label (for the unplaced-cell check)."""
        self.read.update(id(c) for c in cells if c is not None)

    def find_row(
        self, test: Callable[[str], object], first: int, last: int | None = None
    ) -> tuple[int, Cell] | None:
        """The first (row, cell) from `first` up to `last` (exclusive) whose cell passes `test`."""
        for r in range(first, self.end if last is None else last):
            for cell in self.grid.texts(r):
                if test(_clean(cell.text)):
                    return r, cell
        return None


def split_forms(grid: Grid) -> list[FormGrid]:
    """One FormGrid per 项目名称 row; a form's title rows above it are its own."""
    name_rows = [
        r
        for r in range(len(grid.rows))
        if any(re.match(HEAD_LABELS["project_name"], _clean(c.text)) for c in grid.texts(r))
    ]
    forms = []
    for n, r in enumerate(name_rows):
        end = name_rows[n + 1] if n + 1 < len(name_rows) else len(grid.rows)
        forms.append(FormGrid(grid, r, r, end))
    for form, after in zip(forms, forms[1:], strict=False):
        # The next form's title rows (above its 项目名称 row, after this form's last part) are its own.
        start = after.name_row
        while start - 1 > form.name_row and _is_title_row(grid, start - 1):
            start -= 1
        form.end = after.start = start
    if forms:
        start = forms[0].name_row
        while start > 0 and (_is_title_row(grid, start - 1) or not grid.texts(start - 1)):
            start -= 1
        forms[0].start = start
    return forms


def _is_title_row(grid: Grid, r: int) -> bool:
    """A row printing only the form's title or its year (（2024年度）), or nothing."""
    texts = [_clean(c.text) for c in grid.texts(r)]
    return all(is_title_line(t) or re.fullmatch(rf"[（(]?{FISCAL_YEAR.pattern}[)）]?", t) for t in texts)


# ---------------------------------------------------------------- the form's parts


def _right_of(form: FormGrid, r: int, label_cell: Cell, stop: int | None) -> tuple[str | None, list[Cell]]:
    """The cells right of a label in its row, up to grid column `stop` (the next label)."""
    cells = [
        c for c in form.grid.texts(r) if c.col > label_cell.last_col and (stop is None or c.last_col < stop)
    ]
    return "".join(clean_text(c.text) for c in cells) or None, cells


def read_head(form: FormGrid) -> dict[str, str | None]:
    """项目名称, 主管部门, 实施单位: the text right of each label, up to the next label in its row;
    a value printed in the label's own cell (项目名称：…) is read from there."""
    out: dict[str, str | None] = {name: None for name in HEAD_LABELS}
    found: dict[str, tuple[int, Cell, str]] = {}
    for name, pattern in HEAD_LABELS.items():
        for r in range(form.name_row, form.end):
            hit = next(((c, m) for c in form.grid.texts(r) if (m := re.match(pattern, _clean(c.text)))), None)
            if hit:
                cell, m = hit
                found[name] = (r, cell, _clean(cell.text)[m.end() :])
                break
    labels = [(r, cell) for r, cell, _ in found.values()]
    for name, (r, cell, rest) in found.items():
        form.claim(cell)
        if rest:
            out[name] = rest
            if any(re.search(p.lstrip("^"), rest) for p in HEAD_LABELS.values()):
                form.uncertain.append(name)  # the cell runs on into the next label: no value of its own
            continue
        stop = min((c.col for rr, c in labels if rr == r and c.col > cell.col), default=None)
        out[name], cells = _right_of(form, r, cell, stop)
        form.claim(*cells)
        if any(c.unsure for c in cells):
            form.uncertain.append(name)
    for name in HEAD_LABELS:
        if name not in found:
            form.uncertain.append(name)
    return out


def read_year(form: FormGrid) -> int | None:
    """The fiscal year printed in the form's title rows (2024年度…, （2024年度）) above 项目名称 (a
    year in a project's name is not the form's)."""
    for r in range(form.start, form.name_row):
        for cell in form.grid.texts(r):
            text = _clean(cell.text)
            m = FISCAL_YEAR.search(text)
            if m and 1990 <= int(m.group(1)) <= 2100:
                form.claim(cell)
                return int(m.group(1))
    form.uncertain.append("fiscal_year")
    return None


def _number(form: FormGrid, path: str, cell: Cell | None, percent: bool = False) -> float | None:
    if cell is None:
        return None
    form.claim(cell)
    if cell.unsure:
        form.uncertain.append(path)
        return None
    try:
        return parse_percent(cell.text) if percent else parse_number(cell.text)
    except ValueError:
        form.uncertain.append(path)
        return None


def _header_columns(form: FormGrid, r: int, fields_of: Callable[[str], list[str]]) -> list[Column]:
    """The header row's cells as columns, each naming the one field its words name (None when its
    words name none or several)."""
    columns = []
    for cell in form.grid.texts(r):
        names = fields_of(_clean(cell.text))
        columns.append(Column(names[0] if len(set(names)) == 1 else None, cell.col, cell.last_col, cell))
    return columns


def _under(form: FormGrid, r: int, column: Column, own_only: bool = True) -> list[Cell]:
    cells = form.grid.anchored(r) if own_only else form.grid.rows[r]
    return [c for c in cells if c.overlaps(column.col, column.last_col)]


def read_funding(form: FormGrid) -> tuple[list[FundingLine], int]:
    """The 项目资金 block: the header row (年初预算数 … 得分, in any order) above 年度资金总额 and
    the four line rows; amounts in 万元, from the unit its label, header or title prints."""
    lines = [FundingLine(name) for name in FUNDING_LINES]
    every = [f"funding[{i}].{f}" for i in range(len(FUNDING_LINES)) for f in FUNDING_VALUE_FIELDS]
    rows: dict[int, tuple[int, Cell]] = {}
    for r in range(form.name_row, form.end):
        for cell in form.grid.texts(r):
            which, rest = funding_line_of(_clean(cell.text))
            if which is not None and not rest and which not in rows and (not rows or which > max(rows)):
                rows[which] = (r, cell)
                break
    if 0 not in rows:
        form.uncertain.extend(every)
        return lines, form.name_row
    first = rows[0][0]
    header_row = next(
        (
            r
            for r in range(first - 1, form.name_row, -1)
            if len(funding_header_fields(_row_text(form, r))) >= 2
        ),
        None,
    )
    if header_row is None:
        form.uncertain.extend(every)
        return lines, max(r for r, _ in rows.values())
    columns = [c for c in _header_columns(form, header_row, funding_header_fields)]
    unit_texts = [c.text for r in range(form.start, header_row + 1) for c in form.grid.texts(r)]
    for r, name_cell in rows.values():
        unit_texts += [c.text for c in form.grid.rows[r] if c.last_col < name_cell.col]
    unit = funding_unit(unit_texts)
    form.claim(*form.grid.texts(header_row))
    for r in range(form.start, max(r for r, _ in rows.values()) + 1):  # the block's label, a 单位 line
        form.claim(
            *(c for c in form.grid.texts(r) if FUNDING_BLOCK in c.text or funding_unit([c.text]).printed)
        )
    for i, line in enumerate(lines):
        if i not in rows:
            form.uncertain.extend(f"funding[{i}].{f}" for f in FUNDING_VALUE_FIELDS)
            continue
        r, name_cell = rows[i]
        form.claim(name_cell, *(c for c in form.grid.rows[r] if c.last_col < name_cell.col))
        _read_row(form, r, columns, f"funding[{i}]", line, unit)
    named = {c.name for c in columns}
    for name in FUNDING_HEADERS:
        if name not in named:
            form.uncertain.extend(f"funding[{i}].{name}" for i in range(len(FUNDING_LINES)))
    return lines, max(r for r, _ in rows.values())


def _read_row(
    form: FormGrid, r: int, columns: list[Column], prefix: str, line: FundingLine, unit: FundingUnit
) -> None:
    for n, column in enumerate(columns):
        cells = _under(form, r, column)
        if column.name is None:
            if any(c.text.strip() for c in cells):
                form.uncertain.extend(f"{prefix}.{c.name}" for c in _beside(columns, n))
            continue
        path = f"{prefix}.{column.name}"
        if len(cells) > 1:  # two cells under one header: which is the value is not known
            form.claim(*cells)
            form.uncertain.append(path)
            continue
        cell = cells[0] if cells else None
        if (
            cell is not None
            and cell.colspan > 1
            and any(o is not column and cell.overlaps(o.col, o.last_col) for o in columns)
        ):
            form.uncertain.append(path)  # a cell merged across two columns
        value = _number(form, path, cell, percent=column.name == "execution_rate_pct")
        value, certain = funding_value_in_wan(column.name, value, unit)
        if not certain:
            form.uncertain.append(path)
        setattr(line, column.name, value)


def _beside(columns: list[Column], n: int) -> list[Column]:
    return [columns[j] for j in (n - 1, n + 1) if 0 <= j < len(columns) and columns[j].name]


def _row_text(form: FormGrid, r: int) -> str:
    return "".join(_clean(c.text) for c in form.grid.texts(r))


def read_goals(form: FormGrid, after: int, before: int | None) -> tuple[str | None, str | None]:
    """预期目标 / 实际完成情况: two header cells with the texts under them (in the rows up to the
    indicator header), or each label with its text to its right (stacked rows)."""
    last = before if before is not None else form.end
    exp = form.find_row(lambda t: re.fullmatch(GOAL_EXPECTED, t), after + 1, last)
    act = form.find_row(lambda t: re.fullmatch(f"(?:{GOAL_ACTUAL})", t), after + 1, last)
    if exp is None or act is None:
        form.uncertain.extend(["goal_expected", "goal_actual"])
        return None, None
    for r in range(after + 1, max(exp[0], act[0]) + 1):  # the 年度总体目标 label and the headers
        form.claim(
            *(
                c
                for c in form.grid.texts(r)
                if re.search(f"{GOALS_BLOCK}|{GOAL_EXPECTED}|{GOAL_ACTUAL}", _clean(c.text))
            )
        )
    out = []
    for (r, head), other, path in ((exp, act, "goal_expected"), (act, exp, "goal_actual")):
        if other[0] == r:  # side by side: the text is under the header
            cells = [
                c
                for rr in range(r + 1, last)
                for c in form.grid.texts(rr)
                if c.overlaps(head.col, head.last_col)
            ]
        else:
            cells = [c for c in form.grid.texts(r) if c.col > head.last_col]
        form.claim(*cells)
        if any(c.unsure for c in cells) or len(cells) > 1:
            form.uncertain.append(path)
        out.append("\n".join(filter(None, (_paragraphs(c.text) for c in cells))) or None)
    return out[0], out[1]


def _is_indicator_header(text: str) -> bool:
    return len(
        indicator_header_fields(text)
    ) >= HEADER_ANCHOR_MIN_HITS and "level3" in indicator_header_fields(text)


def _indicator_fields(text: str) -> list[str]:
    """The one Indicator field (or target part) a header cell names."""
    if re.fullmatch(INDICATOR_BLOCK, text):
        return []
    parts = [name for name, pattern in TARGET_PART_HEADERS.items() if re.search(pattern, text)]
    found = indicator_header_fields(text)
    return parts if parts and not found else found


def read_indicators(form: FormGrid, after: int) -> tuple[list[Indicator], int | None, list[Column]]:
    """The 绩效指标 table: the header row, then a row per indicator up to 总分. A merged 一级/二级
    cell names every row it covers; a blank one (not merged) takes the name above, uncertain."""
    header = next((r for r in range(after + 1, form.end) if _is_indicator_header(_row_text(form, r))), None)
    if header is None:
        form.uncertain.append("indicators")
        return [], None, []
    columns = [
        c
        for c in _header_columns(form, header, _indicator_fields)
        if not re.fullmatch(INDICATOR_BLOCK, _clean(c.header.text))
    ]
    names = {c.name for c in columns}
    if not {"level3", "weight", "score"} <= names:
        raise ReadError("form_unreadable", f"indicator header lacks columns: {sorted(n for n in names if n)}")
    form.claim(*(c.header for c in columns))
    form.claim(*(c for c in form.grid.rows[header] if re.fullmatch(INDICATOR_BLOCK, _clean(c.text))))
    table_left = min(c.col for c in columns)
    indicators: list[Indicator] = []
    total = None
    for r in range(header + 1, form.end):
        texts = form.grid.texts(r)
        row_text = _row_text(form, r)
        if any(_TOTAL_ROW.match(_clean(c.text)) for c in texts):
            total = r
            break
        if any(re.match(GRADE_LABEL, _clean(c.text)) for c in texts) or _is_title_row(form.grid, r) and texts:
            break
        if is_header_piece(row_text) and row_text:  # a header repeated or wrapped into a second row
            form.claim(*texts)
            continue
        own = [c for c in texts if c.col >= table_left]
        level_cols = [c for c in columns if c.name in LEVELS]
        if not [c for c in own if not any(c.overlaps(k.col, k.last_col) for k in level_cols)]:
            continue  # a blank row (or one only a merged level cell reaches): no indicator
        form.claim(*(c for c in form.grid.rows[r] if c.col < table_left))  # the 绩效指标 label column
        indicators.append(_indicator_row(form, r, columns, len(indicators), indicators))
    return indicators, total, columns


def _indicator_row(
    form: FormGrid, r: int, columns: list[Column], i: int, above: list[Indicator]
) -> Indicator:
    values: dict[str, str | None] = {}
    unsure: set[str] = set()
    for n, column in enumerate(columns):
        own_only = column.name not in LEVELS
        cells = _under(form, r, column, own_only)
        if column.name is None:
            if any(c.text.strip() for c in cells):
                unsure |= {c.name for c in _beside(columns, n) if c.name}
            continue
        form.claim(*cells)
        if own_only and any(c.row < r for c in form.grid.rows[r] if c.overlaps(column.col, column.last_col)):
            unsure.add(column.name)  # a cell merged over several indicators' own values
        if len(cells) > 1 or any(c.unsure for c in cells):
            unsure.add(column.name)
        text = "".join(clean_text(c.text) for c in cells) or None
        if column.name in values and values[column.name] and text:
            unsure.add(column.name)
        values[column.name] = values.get(column.name) or text
    fold_target_parts(values, unsure)
    for name in LEVELS:
        if not values.get(name) and above and getattr(above[-1], name):
            values[name] = getattr(above[-1], name)  # left blank under a name: the same, probably
            unsure.add(name)
    unsure = {"target" if u in TARGET_PART_HEADERS else u for u in unsure}
    weight = _numeric(form, f"indicators[{i}].weight", values.get("weight"))
    score = _numeric(form, f"indicators[{i}].score", values.get("score"))
    form.uncertain.extend(f"indicators[{i}].{name}" for name in sorted(unsure))
    return Indicator(
        level1=values.get("level1"),
        level2=values.get("level2"),
        level3=values.get("level3"),
        target=values.get("target"),
        actual=values.get("actual"),
        weight=weight,
        score=score,
        deviation_note=values.get("deviation_note"),
    )


def _numeric(form: FormGrid, path: str, text: str | None) -> float | None:
    try:
        return parse_number(text)
    except ValueError:
        form.uncertain.append(path)
        return None


def read_totals(
    form: FormGrid, total: int | None, columns: list[Column]
) -> tuple[float | None, float | None]:
    """总分 row: the numbers under the indicator table's 分值 and 得分 columns."""
    by_name = {c.name: c for c in columns if c.name}
    if total is None:
        form.uncertain.extend(["total_weight", "total_score"])
        return None, None
    form.claim(*(c for c in form.grid.texts(total) if _TOTAL_ROW.match(_clean(c.text))))
    out: list[float | None] = []
    for name in NUMERIC_FIELDS:
        cells = _under(form, total, by_name[name])
        path = f"total_{name}"
        if len(cells) > 1:
            form.claim(*cells)
            form.uncertain.append(path)
            out.append(None)
            continue
        out.append(_number(form, path, cells[0] if cells else None))
    return out[0], out[1]


def read_grade(form: FormGrid, after: int, total: int | None) -> tuple[str | None, int]:
    """评分等级: the text right of the label that starts its row (or after it in the label's
    cell). No such row → None, uncertain only where 总分 was not found either."""
    for r in range(after + 1, form.end):
        texts = form.grid.texts(r)
        if not texts:
            continue
        m = re.match(GRADE_LABEL, _clean(texts[0].text))
        if not m:
            continue
        form.claim(texts[0])
        rest = _clean(texts[0].text)[m.end() :]
        cells = texts[1:]
        grade, certain = grade_cell(rest or "".join(clean_text(c.text) for c in cells))
        if grade is None and certain:  # a legend of the bands, printed as a note: no field
            return None, r
        form.claim(*cells)
        if not certain or any(c.unsure for c in cells):
            form.uncertain.append("grade")
        return grade, r
    if total is None:
        form.uncertain.append("grade")
    return None, total if total is not None else after


# ---------------------------------------------------------------- the record


def read_form(form: FormGrid, source: Source) -> Record:
    """One form of a grid as a Record (checks are added by the API). Raises ReadError
    ("form_unreadable") for a form whose indicator table names no 三级指标/分值/得分 column."""
    name_cell = next(
        c for c in form.grid.texts(form.name_row) if re.match(HEAD_LABELS["project_name"], _clean(c.text))
    )
    if form.grid.sheet is None and name_cell.table is None:
        raise ReadError(
            "form_unreadable",
            "the form is printed as a paragraph (项目名称 outside any table): its cells cannot be told apart",
        )
    head = read_head(form)
    fiscal_year = read_year(form)
    for r in range(form.start, form.name_row):  # title rows
        form.claim(
            *(c for c in form.grid.texts(r) if has_title(_clean(c.text)) or _is_title_row(form.grid, r))
        )
    funding, after_funding = read_funding(form)
    header = next(
        (r for r in range(after_funding + 1, form.end) if _is_indicator_header(_row_text(form, r))), None
    )
    goal_expected, goal_actual = read_goals(form, after_funding, header)
    indicators, total, columns = read_indicators(form, after_funding)
    total_weight, total_score = read_totals(form, total, columns)
    grade, last = read_grade(form, total if total is not None else after_funding, total)
    glyphs = _account(form, max(last, total or 0))
    return Record(
        fiscal_year=fiscal_year,
        project_name=head["project_name"],
        supervising_dept=head["supervising_dept"],
        implementing_unit=head["implementing_unit"],
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


def _account(form: FormGrid, last: int) -> GlyphReport:
    """Characters of the form's cells: read (into a field or label), unplaced (a cell of the form's
    table read into nothing) or set aside (notes under the form, after its last row)."""
    report = GlyphReport()
    seen: set[int] = set()
    for r in range(form.start, form.end):
        for cell in form.grid.texts(r):
            if id(cell) in seen:
                continue
            seen.add(id(cell))
            chars = len(clean_text(cell.text))
            if id(cell) in form.read:
                report.read += chars
            elif r > last:
                report.set_aside["outside_table"] = report.set_aside.get("outside_table", 0) + chars
            else:
                report.unplaced += chars
    return report


def form_rows(form: FormGrid) -> tuple[int, int, int, int] | None:
    """(first row, first col, last row, last col), 0-based, of the form's non-blank cells."""
    cells = [c for r in range(form.start, form.end) for c in form.grid.texts(r)]
    if not cells:
        return None
    return (
        min(c.row for c in cells),
        min(c.col for c in cells),
        max(c.last_row for c in cells),
        max(c.last_col for c in cells),
    )
