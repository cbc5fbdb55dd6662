"""The 绩效指标 table: its header row, columns and rows on every page it runs over, each row's cells.

Columns the standard form does not have are never read into a neighbour: a target printed in three
cells (指标性质 + 指标值 + 度量单位, Sichuan style) is joined into one target; a column the vocabulary
does not know keeps its own cells, and the fields beside it are marked uncertain where it holds text.
"""

from __future__ import annotations

import re

from ..cells import compose_target, join_cell_lines
from ..record import Indicator, ReadError
from ..vocabulary import (
    HEADER_ANCHOR_MIN_HITS,
    INDICATOR_BLOCK,
    INDICATOR_HEADERS,
    TARGET_PART_HEADERS,
    TOTAL_LABEL,
)
from .columns import Column, build_columns
from .layout import PageLayout, group_lines
from .merged_cells import LevelCell, Row, fill_merged, join_rows_split_by_page_breaks
from .table import (
    UNKNOWN,
    Form,
    Hit,
    Part,
    cell_lines,
    cell_text,
    columns_beside_unknown,
    header_spans,
    parse_cell,
    row_band,
    unknown_header_spans,
)

INDICATOR_FIELDS = tuple(INDICATOR_HEADERS)
_TOTAL_ROW = re.compile(f"^({TOTAL_LABEL})")


def read_indicators(form: Form, after) -> tuple[list[Indicator], Hit | None, dict[str, Column]]:
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
    label = form.find(INDICATOR_BLOCK, after=(header.part, h_top - 0.1))
    level1 = min(x0 for _, x0, _ in spans)
    label_x1 = label.x1 if label and label.x1 < level1 else None
    rows: list[Row] = []
    columns: dict[str, Column] = {}
    for pi in range(header.part, len(form.parts)):
        part = form.parts[pi]
        top = h_bottom if pi == header.part else _skip_repeated_header(form, pi, _ruled_top(part))
        bottom = _ruled_bottom(part)
        if total and total.part == pi:
            bottom = row_band(part, (total.x0 + total.x1) / 2, total.line)[0]
        if bottom - top > 1:
            left = label_x1 if label_x1 is not None else form.table_left(pi)
            cols = build_columns(part.page, spans, top, bottom, left, form.table_right(pi))
            rows.extend(_rows_on_part(form, pi, cols, top, bottom))
            columns = {c.name: c for c in cols}
        if total and total.part == pi:
            break
    rows = join_rows_split_by_page_breaks(rows)
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
    if any(name in values for name in TARGET_PART_HEADERS):
        target, certain = compose_target(
            values.pop("target_operator", None), values.get("target"), values.pop("target_unit", None)
        )
        values["target"] = target
        if not certain:
            unsure.add("target")
    for name, beside in columns_beside_unknown([c.name for c in cols]).items():
        if values.pop(name, None):
            unsure |= {f for n in beside if (f := _field_of(n))}


def _ruled_top(part: Part) -> float:
    """Where the table starts on a continuation page: its first rule, unless text sits just above
    it (an unruled top row); a running header far above is left out."""
    ys = [r.pos for r in part.page.hrules if part.top - 1 <= r.pos < part.bottom]
    if not ys:
        return part.top
    above = [ln for ln in part.lines() if ln.bottom <= min(ys)]
    near = [ln for ln in above if min(ys) - ln.bottom < 1.5 * (ln.bottom - ln.top)]
    return part.top if near else min(ys)


def _ruled_bottom(part: Part) -> float:
    """Where the table ends on a page it runs off: its last rule, unless text sits just below it
    (an unruled last row); a page footer far below is left out."""
    ys = [r.pos for r in part.page.hrules if part.top < r.pos <= part.bottom + 1]
    if not ys:
        return part.bottom
    below = [ln for ln in part.lines() if ln.top >= max(ys)]
    near = [ln for ln in below if ln.top - max(ys) < 1.5 * (ln.bottom - ln.top)]
    return part.bottom if near else max(ys)


def find_indicator_header(form: Form, after: tuple[int, float], parts: range | None = None) -> Hit | None:
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
    header = find_indicator_header(form, (pi, top - 0.1), range(pi, pi + 1))
    if header and any(header.line is ln for ln in part.lines()[:3]):
        return row_band(part, (header.x0 + header.x1) / 2, header.line)[1]
    return top


def _rows_on_part(form: Form, pi: int, cols: list[Column], top: float, bottom: float) -> list[Row]:
    page = form.parts[pi].page
    by_name = {c.name: c for c in cols}
    weight = by_name["weight"]
    ys = sorted(
        {round(y, 1) for y in page.hrules_at(weight.xc) if top - 2 <= y <= bottom + 2} | {top, bottom}
    )
    ys = [y for i, y in enumerate(ys) if i == 0 or y - ys[i - 1] > 2]
    bands = []  # (top, bottom, ruled): unruled bands were cut between weight values
    for a, b in zip(ys, ys[1:], strict=False):
        pieces = _split_by_anchors(page, weight, a, b)
        bands.extend((pa, pb, len(pieces) == 1) for pa, pb in pieces)
    rows = []
    for a, b, ruled in bands:
        values = {
            c.name: cell_text(page, c.x0, c.x1, a, b) for c in cols if c.name not in ("level1", "level2")
        }
        guessed = {f for c in cols if c.guessed and (f := _field_of(c.name))}
        _read_extra_columns(values, cols, guessed)
        if not any(values.values()):
            continue
        if not ruled:
            guessed |= {"level3", "target", "actual", "deviation_note"}
        level_cells = {}
        for name in ("level1", "level2"):
            col = by_name.get(name)
            if col is None:
                continue
            # Without row rules a merged cell's extent is unknown: read the row's own slice.
            c_top, c_bottom = _cell_span(page, col.xc, (a + b) / 2, top, bottom) if ruled else (a, b)
            glyphs = page.glyphs_in(col.x0, col.x1, c_top, c_bottom)
            values[name] = join_cell_lines([ln.text for ln in group_lines(glyphs)])
            level_cells[name] = LevelCell(
                c_top,
                c_bottom,
                ruled and c_top <= top + 1,
                ruled and c_bottom >= bottom - 1,
                a,
                b,
                min((g.top for g in glyphs), default=None),
                max((g.bottom for g in glyphs), default=None),
                max((g.size for g in glyphs), default=0.0),
            )
        numbers = page.glyphs_in(weight.x0, weight.x1, a, b)  # one line: shows the producer's alignment
        gaps = (min(g.top for g in numbers) - a, b - max(g.bottom for g in numbers)) if numbers else None
        rows.append(Row(pi, values, level_cells, guessed, gaps))
    return rows


def _cell_span(page: PageLayout, x: float, y: float, top: float, bottom: float) -> tuple[float, float]:
    """Vertical extent of the (possibly merged) cell at (x, y) inside the table body top..bottom: a
    side with no rule crossing x runs to the body's edge."""
    above, below = page.rules_around(x, y, top - 1.5, bottom + 1.5)
    return (top if above is None else above), (bottom if below is None else below)


def _split_by_anchors(page: PageLayout, weight: Column, a: float, b: float) -> list[tuple[float, float]]:
    """A band holding several weight values lacks its row rules: split it between the values."""
    anchors = [ln for ln in cell_lines(page, weight.x0, weight.x1, a, b) if re.search(r"\d", ln.text)]
    if len(anchors) <= 1:
        return [(a, b)]
    cuts = [a] + [(p.bottom + n.top) / 2 for p, n in zip(anchors, anchors[1:], strict=False)] + [b]
    return list(zip(cuts, cuts[1:], strict=False))
