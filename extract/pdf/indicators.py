"""The 绩效指标 table: its header row, columns and rows on every page it runs over, each row's cells.

Columns the standard form does not have are never read into a neighbour: a target printed in three
cells (指标性质 + 指标值 + 度量单位, Sichuan style) is joined into one target; a column the vocabulary
does not know keeps its own cells, and the fields beside it are marked uncertain where it holds text.
"""

from __future__ import annotations

import re

from ..cells import fold_target_parts, join_cell_lines
from ..record import MERGED_LEVEL_FIELDS, NUMERIC_FIELDS, ROW_TEXT_FIELDS, Indicator, ReadError
from ..vocabulary import (
    HEADER_ANCHOR_MIN_HITS,
    INDICATOR_BLOCK,
    INDICATOR_HEADERS,
    TARGET_PART_HEADERS,
    TOTAL_LABEL,
)
from .columns import Column, build_columns
from .layout import NUDGE, RULE_SNAP, SAME_EDGE, PageLayout, group_lines
from .merged_cells import LevelCell, Row, fill_merged, join_rows_split_by_page_breaks
from .table import (
    UNKNOWN,
    UNKNOWN_COLUMN,
    Cell,
    Form,
    Hit,
    Pos,
    cell_lines,
    columns_beside_unknown,
    header_spans,
    parse_cell,
    row_band,
    ruled_bottom,
    ruled_top,
    unknown_header_spans,
    wrapped,
)

INDICATOR_FIELDS = tuple(INDICATOR_HEADERS)
_TOTAL_ROW = re.compile(f"^({TOTAL_LABEL})")

# Tolerances, in pt.
MIN_BODY_HEIGHT = 1.0  # a table body on a page lower than this holds no row
ROW_RULE_SLACK = 2.0  # a row rule this far outside the body still bounds its first or last row
MIN_ROW_HEIGHT = 2.0  # rules closer than this bound no row between them (a double rule)
REPEATED_HEADER_LINES = 3  # lines: a header repeated on a continuation page is among its first lines


def read_indicators(form: Form, after: Pos) -> tuple[list[Indicator], Hit | None, dict[str, Column]]:
    """The 绩效指标 table after `after`, over every page it runs on.

    Returns the rows as Indicators (分值 and 得分 in pt, merged 一级/二级指标 cells filled in), the
    总分 row's label (None when not found) and the columns by name on the 总分 row's page. A form
    with no indicator header gives no rows and marks `indicators` uncertain. Raises ReadError
    `form_unreadable` for a header without 三级指标, 分值 and 得分 columns."""
    header = find_indicator_header(form, after)
    if header is None:
        form.uncertain.append("indicators")
        return [], None, {}
    part = form.parts[header.part]
    h_top, h_bottom = row_band(part, (header.x0 + header.x1) / 2, header.line)
    spans = header_spans(form, header.part, h_top, h_bottom, {**INDICATOR_HEADERS, **TARGET_PART_HEADERS})
    names = {s[0] for s in spans}
    if not {"level3", "weight", "score"} <= names:
        raise ReadError("form_unreadable", f"indicator header lacks columns: {sorted(names)}")
    spans += unknown_header_spans(part.page, h_top, h_bottom, spans)
    total = form.find(_TOTAL_ROW, after=header.pos)
    # A 绩效指标 label column, where found, bounds the table on the left even when no rule does.
    label = form.find(INDICATOR_BLOCK, after=(header.part, h_top - NUDGE))
    level1 = min(x0 for _, x0, _ in spans)
    # Without a rule between them, the label's line may run on into the 一级/二级指标 cells beside
    # it ("绩效指" + a wrapped name's "标"): the label ends at its last glyph left of the table.
    label_x1 = (
        max((g.x1 for g in label.line.glyphs if label.x0 <= g.x0 and g.x1 < level1), default=None)
        if label and label.x0 < level1
        else None
    )
    bodies = []  # (part, columns, top, bottom) of the table body on each page it runs over
    columns: dict[str, Column] = {}
    for pi in range(header.part, len(form.parts)):
        part = form.parts[pi]
        top = h_bottom if pi == header.part else _skip_repeated_header(form, pi, ruled_top(part))
        bottom = ruled_bottom(part)
        if total and total.part == pi:
            bottom = row_band(part, (total.x0 + total.x1) / 2, total.line)[0]
        left = label_x1 if label_x1 is not None else form.table_left(pi)
        if bottom - top > MIN_BODY_HEIGHT:
            cols = build_columns(part.page, spans, top, bottom, left, form.table_right(pi))
            form.claim_label_box(pi, form.table_left(pi), cols[0].x0, top, bottom)  # a 绩效指标 column
            bodies.append((pi, cols, top, bottom))
            columns = {c.name: c for c in cols}
        if total and total.part == pi:
            # The 总分 row's cells: edges found over the rows above it and the row itself (alone
            # at the top of a page, it has the columns of the page before).
            total_bottom = row_band(part, (total.x0 + total.x1) / 2, total.line)[1]
            if bottom - top > MIN_BODY_HEIGHT or not columns:
                right = form.table_right(pi)
                columns = {
                    c.name: c
                    for c in build_columns(part.page, spans, min(top, bottom), total_bottom, left, right)
                }
            break
    # A producer that rules rows rules every row: then a ruled band is one row, whatever it holds.
    rows_ruled = any(
        len(_weight_rules(form.parts[pi].page, cols, top, bottom)) > 2 for pi, cols, top, bottom in bodies
    )
    rows = [
        row
        for pi, cols, top, bottom in bodies
        for row in _rows_on_part(form, pi, cols, top, bottom, rows_ruled, pi > header.part)
    ]
    if (
        rows
        and rows[0].part > header.part
        and not (rows[0].values.get("weight") or rows[0].values.get("score"))
    ):
        # The header row's last lines, cut off by the page break before the first indicator row.
        for pi, x0, x1, top, bottom in (cell for cells in rows.pop(0).cells.values() for cell in cells):
            form.claim_label_box(pi, x0, x1, top, bottom)
    rows = join_rows_split_by_page_breaks(rows)
    for i, row in enumerate(rows):
        for name, cells in row.cells.items():
            for pi, x0, x1, top, bottom in cells:
                form.claim(pi, x0, x1, top, bottom, f"indicators[{i}].{name}")
    indicators = []
    for i, row in enumerate(rows):
        v = row.values
        indicators.append(
            Indicator(
                level1=v.get("level1"),
                level2=v.get("level2"),
                level3=v.get("level3"),
                target=v.get("target"),
                actual=v.get("actual"),
                weight=parse_cell(form, f"indicators[{i}].weight", v.get("weight")),
                score=parse_cell(form, f"indicators[{i}].score", v.get("score")),
                deviation_note=v.get("deviation_note"),
                page=form.parts[row.part].page.number,
            )
        )
    for i, row in enumerate(rows):
        form.uncertain.extend(
            f"indicators[{i}].{name}" for name in sorted(row.guessed) if row.values.get(name)
        )
    fill_merged(form, rows, indicators)
    return indicators, total, columns


def _field_of(column: str) -> str | None:
    """The Indicator field a column's cells are read into (None for an unknown column)."""
    if column in TARGET_PART_HEADERS:
        return "target"
    return None if column.startswith(UNKNOWN) else column


def _read_extra_columns(values: dict[str, str | None], cols: list[Column], unsure: set[str]) -> None:
    """Fold the cells of columns beyond the standard form into the row's fields, in place: a split
    target joined (指标性质 + 指标值 + 度量单位), an unknown column's text set aside with the
    fields beside it marked unsure."""
    fold_target_parts(values, unsure)
    for name, beside in columns_beside_unknown([c.name for c in cols]).items():
        if values.pop(name, None):
            unsure |= {f for n in beside if (f := _field_of(n))}


def find_indicator_header(form: Form, after: Pos, parts: range | None = None) -> Hit | None:
    """The indicator table's header row: the first line holding several header words, which
    survives headers wrapped in narrow columns ("一级指" / "标")."""
    for pi in parts if parts is not None else range(len(form.parts)):
        for line in form.parts[pi].lines():
            if (pi, line.yc) <= after:
                continue
            hits = [found[0] for p in INDICATOR_HEADERS.values() if (found := line.find(p))]
            if len(hits) >= HEADER_ANCHOR_MIN_HITS:
                return Hit(pi, line, min(h[0] for h in hits), max(h[1] for h in hits))
    return None


def _skip_repeated_header(form: Form, pi: int, top: float) -> float:
    """Below the header row when a continuation page repeats it."""
    part = form.parts[pi]
    header = find_indicator_header(form, (pi, top - NUDGE), range(pi, pi + 1))
    if header and any(header.line is ln for ln in part.lines()[:REPEATED_HEADER_LINES]):
        bottom = row_band(part, (header.x0 + header.x1) / 2, header.line)[1]
        form.claim_label_box(pi, 0.0, part.page.width, top, bottom)
        return bottom
    return top


def _weight_rules(page: PageLayout, cols: list[Column], top: float, bottom: float) -> list[float]:
    """y of the rules crossing the 分值 column within the body top..bottom (rounded to 0.1 pt)."""
    weight = next(c for c in cols if c.name == "weight")
    ys = page.hrules_at(weight.xc)
    return sorted({round(y, 1) for y in ys if top - ROW_RULE_SLACK <= y <= bottom + ROW_RULE_SLACK})


def _rows_on_part(
    form: Form, pi: int, cols: list[Column], top: float, bottom: float, rows_ruled: bool, continues: bool
) -> list[Row]:
    """The indicator rows of the body top..bottom on part pi: one per band between rules crossing
    the never-merged 分值 column; a band without rules at both ends, or in a table that rules no
    rows (`rows_ruled` False), is cut between its 分值 values. `continues`: the body continues
    from an earlier page."""
    page = form.parts[pi].page
    by_name = {c.name: c for c in cols}
    weight = by_name["weight"]
    rule_ys = set(_weight_rules(page, cols, top, bottom))
    ys = sorted(rule_ys | {top, bottom})
    ys = [y for i, y in enumerate(ys) if i == 0 or y - ys[i - 1] > MIN_ROW_HEIGHT]
    text_cols = [c for c in cols if c.name in ROW_TEXT_FIELDS]
    # (top, bottom, split, ruled): split bands were cut between weight values
    bands: list[tuple[float, float, bool, bool]] = []
    for a, b in zip(ys, ys[1:], strict=False):
        ruled = round(a, 1) in rule_ys and round(b, 1) in rule_ys
        pieces = [(a, b)] if ruled and rows_ruled else _split_by_anchors(page, weight, text_cols, a, b)
        bands.extend((pa, pb, len(pieces) > 1, ruled) for pa, pb in pieces)
    rows: list[Row] = []
    for a, b, split, ruled in bands:
        values: dict[str, str | None] = {}
        cells: dict[str, list[Cell]] = {}
        stacked: set[str] = set()
        for c in cols:
            if c.name in MERGED_LEVEL_FIELDS:
                continue
            lines = cell_lines(page, c.x0, c.x1, a, b)
            values[c.name] = join_cell_lines([ln.text for ln in lines])
            field = _field_of(c.name)
            if field is None:  # a column no reader knows: its text is no value
                form.set_aside_box(pi, c.x0, c.x1, a, b, UNKNOWN_COLUMN)
            else:
                cells.setdefault(field, []).append((pi, c.x0, c.x1, a, b))
            # One number per numeric cell: lines that are not one number wrapped at the cell's
            # width are stacked numbers, and without rules around the band even a wrap is a guess.
            if c.name in NUMERIC_FIELDS and len(lines) > 1 and not (ruled and wrapped(lines, c.x0, c.x1)):
                stacked.add(c.name)
        guessed = {f for c in cols if c.guessed and (f := _field_of(c.name))} | stacked
        _read_extra_columns(values, cols, guessed)
        if split:
            guessed |= set(ROW_TEXT_FIELDS)
        level_cells = {}
        for name in MERGED_LEVEL_FIELDS:
            col = by_name.get(name)
            if col is None:
                continue
            # Without row rules a merged cell's extent is unknown: read the row's own slice.
            c_top, c_bottom = _cell_span(page, col.xc, (a + b) / 2, top, bottom) if not split else (a, b)
            glyphs = page.glyphs_in(col.x0, col.x1, c_top, c_bottom)
            values[name] = join_cell_lines([ln.text for ln in group_lines(glyphs)])
            cells[name] = [(pi, col.x0, col.x1, c_top, c_bottom)]
            level_cells[name] = LevelCell(
                c_top,
                c_bottom,
                not split and c_top <= top + SAME_EDGE,
                not split and c_bottom >= bottom - SAME_EDGE,
                a,
                b,
                min((g.top for g in glyphs), default=None),
                max((g.bottom for g in glyphs), default=None),
                max((g.size for g in glyphs), default=0.0),
            )
        own_text = any(v for name, v in values.items() if name not in MERGED_LEVEL_FIELDS)
        # A band with level names only is empty, unless it opens a page the table runs on to: then
        # it is the rest of a row (or of the header row) a page break cut.
        if not own_text and not (continues and not rows and any(values.values())):
            continue
        numbers = page.glyphs_in(weight.x0, weight.x1, a, b)  # one line: shows the producer's alignment
        gaps = (min(g.top for g in numbers) - a, b - max(g.bottom for g in numbers)) if numbers else None
        rows.append(Row(pi, values, level_cells, guessed, gaps, cells))
    return rows


def _cell_span(page: PageLayout, x: float, y: float, top: float, bottom: float) -> tuple[float, float]:
    """Vertical extent of the (possibly merged) cell at (x, y) inside the table body top..bottom: a
    side with no rule crossing x runs to the body's edge."""
    above, below = page.rules_around(x, y, top - RULE_SNAP, bottom + RULE_SNAP)
    return (top if above is None else above), (bottom if below is None else below)


def _split_by_anchors(
    page: PageLayout, weight: Column, text_cols: list[Column], a: float, b: float
) -> list[tuple[float, float]]:
    """A band holding several weight values lacks its row rules: split it between the values —
    not between the lines of one number wrapped at the cell's width, and not where a piece would
    hold no text of its own (三级指标, 指标值, …): then the values are numbers stacked in one
    row's cell, and the band is one row."""
    anchors = [ln for ln in cell_lines(page, weight.x0, weight.x1, a, b) if re.search(r"\d", ln.text)]
    cuts = [a]
    for above, below in zip(anchors, anchors[1:], strict=False):
        # Between blank gutters a cell's width, and so a wrap, is not known.
        if not (weight.drawn and wrapped([above, below], weight.x0, weight.x1)):
            cuts.append((above.bottom + below.top) / 2)
    cuts.append(b)
    pieces = list(zip(cuts, cuts[1:], strict=False))
    own_text = (any(page.glyphs_in(c.x0, c.x1, pa, pb) for c in text_cols) for pa, pb in pieces)
    if len(pieces) > 1 and all(own_text):
        return pieces
    return [(a, b)]
