"""Form → pages of drawn cells. Pure: no canvas, no I/O; every coordinate is in points from the
page's top-left corner (converted to PDF's bottom-up coordinates only when drawing).

Three steps: `_build` describes the form as a grid of logical rows and spans (a span is a cell,
possibly merged over several rows); `_paginate` places rows on pages (splitting a row taller than
a page, repeating the indicator header if the style says so); `_materialize` cuts every span into
per-page parts and positions its wrapped text.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from reportlab.lib.pagesizes import A4

from extract.record import FUNDING_VALUE_FIELDS

from . import variants
from .style import VARIANT_KEYS, Align, Style
from .text import format_number, text_width, wrap

PAGE_W, PAGE_H = A4
PAGE_MIN_MARGIN = 10.0  # pt: a table wider than the page less this is narrowed (text off the page is unseen)
ASCENT, DESCENT = 0.752, 0.271  # STSong-Light glyph box, in units of the font size
AMOUNT_FIELDS = ("budget_initial", "budget_full_year", "executed")


@dataclass(frozen=True)
class Span:
    """One cell of the form grid, covering logical rows first..last (merged when last > first)."""

    text: str
    x0: float
    x1: float
    first: int
    last: int
    kind: str  # title | label | header | value | text | number
    group: str  # column-ish group; the scrambled producer writes text group by group
    align: Align
    border: bool = True
    size: float | None = None  # font size override (the title)
    indent: float = 0.0  # extra left indent (其中： sub-lines of the funding block)


@dataclass(frozen=True)
class Row:
    block: str
    splittable: bool = False  # long goal texts may continue on the next page
    keep_with_next: bool = False  # headers and titles are never left alone at a page bottom
    repeatable_header: bool = False
    table: bool = True  # inside the table (min row height applies)


@dataclass(frozen=True)
class TextLine:
    x: float  # left end of the string
    baseline: float
    text: str
    size: float


@dataclass(frozen=True)
class DrawnCell:
    x0: float
    top: float
    x1: float
    bottom: float
    lines: tuple[TextLine, ...]
    border: bool
    kind: str
    group: str
    continued: bool = False  # a merged cell's part after a page break


@dataclass(frozen=True)
class Page:
    form: int  # index of the record drawn on this page
    cells: tuple[DrawnCell, ...]


@dataclass
class _Grid:
    style: Style
    rows: list[Row] = field(default_factory=list)
    spans: list[Span] = field(default_factory=list)

    def row(self, block: str, **flags) -> int:
        self.rows.append(Row(block, **flags))
        return len(self.rows) - 1

    def cell(
        self,
        text: str,
        x0: float,
        x1: float,
        first: int,
        last: int | None = None,
        *,
        kind: str,
        group: str,
        align: Align | None = None,
        **extra,
    ) -> None:
        if align is None:
            align = self.style.number_align if kind == "number" else self.style.text_align
        last = first if last is None else last
        self.spans.append(Span(text, x0, x1, first, last, kind, group, align, **extra))


@dataclass(frozen=True)
class _Piece:
    row: int
    page: int
    top: float
    bottom: float
    lines: tuple[int, int] | None = None  # slice of a split row's lines


# ---------------------------------------------------------------- step 1: the grid


def _edges(x0: float, widths: list[float]) -> list[float]:
    edges = [x0]
    for w in widths:
        edges.append(edges[-1] + w)
    return edges


def _chars(n: float, style: Style) -> float:
    """Width of n CJK characters plus padding (and a hair, so exactly n characters fit)."""
    return n * style.font_size + 2 * style.pad_x + 0.5


def _is_variant(record: dict, style: Style) -> bool:
    if style.funding_variant == "auto":
        return record.get("key") in VARIANT_KEYS
    return style.funding_variant == "always"


def _title(g: _Grid, record: dict, left: float, right: float) -> None:
    s = g.style
    r = g.row("title", keep_with_next=True, table=False)
    g.cell(
        "财政项目支出绩效自评表",
        left,
        right,
        r,
        kind="title",
        group="title",
        align="center",
        border=False,
        size=s.title_size,
    )
    r = g.row("title", keep_with_next=True, table=False)
    g.cell(
        f"（{record['fiscal_year']}年度）",
        left,
        right,
        r,
        kind="title",
        group="title",
        align="center",
        border=False,
        size=s.font_size + 2,
    )


def _head(g: _Grid, record: dict, left: float, right: float) -> None:
    lab = _chars(4, g.style)
    name_label, dept_label, unit_label = variants.head_labels(g.style)
    r = g.row("head")
    g.cell(name_label, left, left + lab, r, kind="label", group="head")
    g.cell(record["project_name"], left + lab, right, r, kind="value", group="head")
    r = g.row("head")
    half = (right - left - 2 * lab) / 2
    x = _edges(left, [lab, half, lab, half])
    g.cell(dept_label, x[0], x[1], r, kind="label", group="head")
    g.cell(record["supervising_dept"], x[1], x[2], r, kind="value", group="head")
    g.cell(unit_label, x[2], x[3], r, kind="label", group="head")
    g.cell(record.get("implementing_unit") or "", x[3], x[4], r, kind="value", group="head")


def _funding_values(line: dict, style: Style, variant: bool) -> list[str]:
    decimals = not variant
    rate_percent = style.rate_percent or variant
    out = []
    for name in FUNDING_VALUE_FIELDS:
        value = line.get(name)
        if name in AMOUNT_FIELDS:
            value = variants.printed_amount(value, style)
        if value is None:
            # weight/score of the sub-lines are not scored: the forms print "-" there.
            out.append("-" if name in ("weight", "score") else "")
            continue
        text = format_number(value, decimals=decimals, thousands=style.thousands)
        out.append(text + "%" if name == "execution_rate_pct" and rate_percent else text)
    return out


def _funding(g: _Grid, record: dict, left: float, right: float, variant: bool) -> None:
    s = g.style
    lab, name_w = _chars(4, s), _chars(9, s)
    weight_head = "分值" if variant else "分数"
    rate_head = "执行率" if (variant or s.rate_percent) else "执行率(%)"
    headers = ["年初预算数", "全年预算数", "全年执行数", weight_head, rate_head, "得分"]
    headers = variants.with_extra_column(headers, 3, s.extra_column or "", s)
    n = len(headers)
    value_w = (right - left - lab - name_w) / n
    if s.number_chars is not None:  # narrow value columns: long amounts wrap in their cells
        value_w = _chars(s.number_chars, s)
        name_w = right - left - lab - n * value_w
    x = _edges(left, [lab, name_w] + [value_w] * n)
    r0 = g.row("funding")
    g.cell(variants.funding_label(s), x[0], x[1], r0, r0 + 4, kind="label", group="funding.label")
    g.cell("", x[1], x[2], r0, kind="header", group="funding.c0")
    for i, h in enumerate(headers):
        g.cell(h, x[i + 2], x[i + 3], r0, kind="header", group=f"funding.c{i + 1}")
    sub_indent = text_width("其中：", s.font_size) if s.text_align == "left" else 0.0
    for k, line in enumerate(record["funding"]):
        r = g.row("funding")
        g.cell(
            variants.funding_line_names(s)[k],
            x[1],
            x[2],
            r,
            kind="label",
            group="funding.c0",
            indent=sub_indent if k >= 2 else 0.0,
        )
        cells = variants.with_extra_column(_funding_values(line, s, variant), 3, variants.extra_cell(k), s)
        for i, v in enumerate(cells):
            g.cell(v, x[i + 2], x[i + 3], r, kind="number", group=f"funding.c{i + 1}")


def _goals(g: _Grid, record: dict, left: float, right: float) -> None:
    lab = _chars(2, g.style)
    mid = left + lab + (right - left - lab) / 2
    r0 = g.row("goals", keep_with_next=True)
    g.cell("年度总体目标", left, left + lab, r0, r0 + 1, kind="label", group="goals.label")
    g.cell("预期目标", left + lab, mid, r0, kind="header", group="goals.header")
    g.cell("实际完成情况", mid, right, r0, kind="header", group="goals.header")
    r1 = g.row("goals", splittable=True)
    # Paragraph texts read left-aligned in every producer we have seen.
    g.cell(record["goal_expected"], left + lab, mid, r1, kind="text", group="goals.expected", align="left")
    g.cell(record["goal_actual"], mid, right, r1, kind="text", group="goals.actual", align="left")


def _indicator_columns(left: float, right: float, style: Style, with_label: bool) -> list[float]:
    lab = _chars(3, style) if with_label else 0.0
    widest = max(text_width("100.00", style.font_size), text_width("分值", style.font_size))
    num = widest + 2 * style.pad_x + 1 if style.number_chars is None else _chars(style.number_chars, style)
    narrow = {"指标性质": _chars(2, style), "度量单位": _chars(2, style), "指标值": _chars(4, style)}
    width_of = {"一级指标": _chars(5, style), "二级指标": _chars(5, style), "分值": num, "得分": num}
    width_of |= {"偏差原因分析及改进措施": _chars(6, style), "三级指标": 0.0} | narrow
    headers = variants.indicator_headers(style)
    widths = [width_of.get(h, _chars(6.5, style)) for h in headers]
    fixed = lab + sum(widths)
    level3 = max(right - left - fixed, _chars(5, style))
    overflow = left + fixed + level3 - (PAGE_W - PAGE_MIN_MARGIN)
    if overflow > 0:  # large type: narrow the text columns so that the table keeps to the page
        text = [i for i, h in enumerate(headers) if h not in width_of or h == "偏差原因分析及改进措施"]
        squeeze = overflow / sum(widths[i] for i in text)
        widths = [w * (1 - squeeze) if i in text else w for i, w in enumerate(widths)]
    widths = [level3 if w == 0.0 else w for w in widths]
    return _edges(left, ([lab] if with_label else []) + widths)


def _runs(values: list[str], start: int, stop: int) -> list[tuple[int, int]]:
    """Maximal runs [i, j] of equal consecutive values within values[start:stop]."""
    runs, i = [], start
    while i < stop:
        j = i
        while j + 1 < stop and values[j + 1] == values[i]:
            j += 1
        runs.append((i, j))
        i = j + 1
    return runs


def _indicators(g: _Grid, record: dict, left: float, right: float, with_label: bool, variant: bool) -> None:
    inds = record["indicators"]
    # The variant form (jd-04) prints indicator numbers short too ("10", "5").
    fmt = {"decimals": not variant, "thousands": g.style.thousands}
    x = _indicator_columns(left, right, g.style, with_label)
    c0 = 1 if with_label else 0  # index of the 一级指标 column edge
    h = g.row("indicators", keep_with_next=True, repeatable_header=True)
    if with_label:
        g.cell("绩效指标", x[0], x[1], h, h + len(inds), kind="label", group="ind.label")
    for i, name in enumerate(variants.indicator_headers(g.style)):
        g.cell(name, x[c0 + i], x[c0 + i + 1], h, kind="header", group=f"ind.c{i}")
    rows = [g.row("indicators") for _ in inds]
    l1 = [ind["level1"] for ind in inds]
    l2 = [ind["level2"] for ind in inds]
    for a, b in _runs(l1, 0, len(inds)):
        g.cell(l1[a], x[c0], x[c0 + 1], rows[a], rows[b], kind="text", group="ind.c0")
        for p, q in _runs(l2, a, b + 1):  # level2 merges only within its level1 group
            g.cell(l2[p], x[c0 + 1], x[c0 + 2], rows[p], rows[q], kind="text", group="ind.c1")
    for n, (ind, r) in enumerate(zip(inds, rows, strict=True)):
        cols = [
            (ind["level3"], "text"),
            *((text, "text") for text in variants.target_cells(ind, n, g.style)),
            (format_number(ind["weight"], **fmt), "number"),
            (format_number(ind["score"], **fmt), "number"),
            (ind.get("deviation_note") or "", "text"),
        ]
        for k, (text, kind) in enumerate(cols, start=2):
            g.cell(text, x[c0 + k], x[c0 + k + 1], r, kind=kind, group=f"ind.c{k}")


def _totals(g: _Grid, record: dict, left: float, right: float, with_label: bool, variant: bool) -> None:
    s = g.style
    x = _indicator_columns(left, right, s, with_label)
    w = (1 if with_label else 0) + variants.indicator_headers(s).index("分值")  # 分值's column
    fmt = {"decimals": not variant, "thousands": s.thousands}
    r = g.row("totals", keep_with_next=s.grade_row)  # 总分 and 评分等级 stay together
    g.cell("总分", x[0], x[w], r, kind="label", group="totals.label")
    g.cell(format_number(record["total_weight"], **fmt), x[w], x[w + 1], r, kind="number", group="ind.c5")
    g.cell(format_number(record["total_score"], **fmt), x[w + 1], x[w + 2], r, kind="number", group="ind.c6")
    g.cell("", x[w + 2], x[w + 3], r, kind="text", group="ind.c7")
    if s.grade_row:
        r = g.row("totals")
        g.cell("评分等级", x[0], x[w], r, kind="label", group="totals.label")
        g.cell(record.get("grade") or "", x[w], x[w + 3], r, kind="value", group="totals.grade")
    if s.note:
        r = g.row("totals", table=False)
        g.cell(s.note, left, right, r, kind="text", group="totals.note", align="left", border=False)


def _build(record: dict, style: Style) -> _Grid:
    g = _Grid(style)
    left, right = style.margin_x, PAGE_W - style.margin_x
    variant = _is_variant(record, style)
    with_label = style.indicator_label or variant
    _title(g, record, left, right)
    _head(g, record, left, right)
    _funding(g, record, left, right, variant)
    _goals(g, record, left, right)
    _indicators(g, record, left, right, with_label, variant)
    _totals(g, record, left, right, with_label, variant)
    return g


# ---------------------------------------------------------------- step 2: pages


def _line_height(span: Span, style: Style) -> float:
    return (span.size or style.font_size) * style.leading


def _span_lines(span: Span, style: Style) -> list[str]:
    if not span.text:
        return []
    size = span.size or style.font_size
    return wrap(span.text, span.x1 - span.x0 - 2 * style.pad_x - span.indent, size)


def _row_heights(g: _Grid, lines: list[list[str]]) -> list[float]:
    s = g.style
    heights = [s.min_row_height if row.table else 0.0 for row in g.rows]
    for span, ls in zip(g.spans, lines, strict=True):
        if span.first == span.last:
            need = len(ls) * _line_height(span, s) + 2 * s.pad_y
            heights[span.first] = max(heights[span.first], need)
    for span, ls in zip(g.spans, lines, strict=True):
        if span.first != span.last:  # a merged cell taller than its rows stretches its last row
            need = len(ls) * _line_height(span, s) + 2 * s.pad_y
            have = sum(heights[span.first : span.last + 1])
            heights[span.last] += max(0.0, need - have)
    return heights


def _lines_per_row(g: _Grid, lines: list[list[str]], r: int) -> tuple[int, float]:
    """(max line count, line height) of the single-row spans of row r (a splittable row)."""
    n, lh = 0, g.style.font_size * g.style.leading
    for span, ls in zip(g.spans, lines, strict=True):
        if span.first == span.last == r:
            n, lh = max(n, len(ls)), _line_height(span, g.style)
    return n, lh


def _paginate(g: _Grid, lines: list[list[str]], heights: list[float]) -> list[_Piece]:
    s = g.style
    top, bottom = s.margin_top, PAGE_H - s.margin_bottom
    header = next((i for i, row in enumerate(g.rows) if row.repeatable_header), None)
    pieces: list[_Piece] = []
    page, y = 0, top

    def new_page(next_row: int) -> None:
        nonlocal page, y
        page, y = page + 1, top
        if (
            s.repeat_header
            and header is not None
            and g.rows[next_row].block == "indicators"
            and next_row > header
        ):
            pieces.append(_Piece(header, page, y, y + heights[header]))
            y += heights[header]

    def least(r: int) -> float:
        """Height that must fit on the current page: a splittable row needs only 3 lines."""
        if g.rows[r].splittable:
            return min(heights[r], 3 * s.font_size * s.leading + 2 * s.pad_y)
        return heights[r]

    for r, row in enumerate(g.rows):
        need = least(r)
        if row.keep_with_next and r + 1 < len(g.rows):
            need += least(r + 1)
        if y + need > bottom and y > top:
            new_page(r)
        if y + heights[r] <= bottom or not row.splittable:
            pieces.append(_Piece(r, page, y, y + heights[r]))
            y += heights[r]
            continue
        # A long goal text continues on the next page, cut between text lines (as word
        # processors do), so extractors meet a table row split over two pages.
        n, lh = _lines_per_row(g, lines, r)
        start = 0
        while start < n:
            fit = max(1, math.floor((bottom - y - 2 * s.pad_y) / lh))
            end = min(n, start + fit)
            h = (end - start) * lh + 2 * s.pad_y
            pieces.append(_Piece(r, page, y, y + h, (start, end)))
            y += h
            start = end
            if start < n:
                new_page(r)
    return pieces


# ---------------------------------------------------------------- step 3: cells


def _place_text(
    span: Span, ls: list[str], x0: float, x1: float, top: float, bottom: float, style: Style
) -> tuple[TextLine, ...]:
    size = span.size or style.font_size
    lh = _line_height(span, style)
    block = len(ls) * lh
    if style.valign == "top" and span.kind != "title":
        block_top = top + style.pad_y
    else:
        block_top = top + (bottom - top - block) / 2
    out = []
    for i, text in enumerate(ls):
        w = text_width(text, size)
        left, right = x0 + style.pad_x + span.indent, x1 - style.pad_x
        if span.align == "left":
            x = left
        elif span.align == "right":
            x = right - w
        else:
            x = left + (right - left - w) / 2
        baseline = block_top + i * lh + (lh - size * (ASCENT + DESCENT)) / 2 + size * ASCENT
        out.append(TextLine(round(x, 3), round(baseline, 3), text, size))
    return tuple(out)


def _fits(n_lines: int, span: Span, style: Style, height: float) -> bool:
    return n_lines * _line_height(span, style) + 2 * style.pad_y <= height + 0.01


def _parts(span: Span, pieces: list[_Piece]) -> list[list[_Piece]]:
    """The span's pieces grouped into one run per page (a repeated header gives its own run)."""
    parts: list[list[_Piece]] = []
    for p in pieces:
        if not span.first <= p.row <= span.last:
            continue
        if parts and parts[-1][-1].page == p.page and parts[-1][-1].bottom == p.top:
            parts[-1].append(p)
        else:
            parts.append([p])
    return parts


def _share_lines(ls: list[str], span: Span, style: Style, heights: list[float]) -> list[list[str]]:
    """The lines of a merged text broken over the parts of its cell: as many as fit in each part,
    the rest in the last."""
    shares, start = [], 0
    for i, h in enumerate(heights):
        n = len(ls) - start
        if i < len(heights) - 1:
            n = 0
            while start + n < len(ls) and _fits(n + 1, span, style, h):
                n += 1
        shares.append(ls[start : start + n])
        start += n
    return shares


def _materialize(g: _Grid, lines: list[list[str]], pieces: list[_Piece]) -> dict[int, list[DrawnCell]]:
    s = g.style
    cells: dict[int, list[DrawnCell]] = {}
    for span, ls in zip(g.spans, lines, strict=True):
        parts = _parts(span, pieces)
        heights = [part[-1].bottom - part[0].top for part in parts]
        # The merged text's "owner": the first part it fits in (else the tallest part).
        owner = next(
            (i for i, h in enumerate(heights) if _fits(len(ls), span, s, h)),
            max(range(len(parts)), key=lambda i: heights[i]),
        )
        # A merged text too long for every part of its cell is broken over the parts, as word
        # processors do (else it would run over the table's edge at the page break).
        shares = _share_lines(ls, span, s, heights) if not _fits(len(ls), span, s, heights[owner]) else None
        for i, part in enumerate(parts):
            top, bottom = part[0].top, part[-1].bottom
            shown = ls
            if span.first == span.last and part[0].lines is not None:
                a, b = part[0].lines
                shown = ls[a:b]
            elif span.first != span.last and shares is not None:
                shown = shares[i]
            elif span.first != span.last and i != owner:
                repeat = s.repeat_merged_text and _fits(len(ls), span, s, bottom - top)
                shown = ls if repeat else []
            text = _place_text(span, shown, span.x0, span.x1, top, bottom, s)
            cells.setdefault(part[0].page, []).append(
                DrawnCell(
                    span.x0,
                    top,
                    span.x1,
                    bottom,
                    text,
                    span.border,
                    span.kind,
                    span.group,
                    continued=span.first != span.last and i > 0,
                )
            )
    return cells


def layout_form(record: dict, style: Style, form: int = 0) -> list[Page]:
    """Lay out one form; it starts on a fresh page and may run over several."""
    g = _build(record, style)
    lines = [_span_lines(span, style) for span in g.spans]
    pieces = _paginate(g, lines, _row_heights(g, lines))
    by_page = _materialize(g, lines, pieces)
    # Reading order: top to bottom, then left to right.
    return [
        Page(form, tuple(sorted(by_page[p], key=lambda c: (round(c.top, 2), c.x0)))) for p in sorted(by_page)
    ]


def layout_forms(records: list[dict], style: Style) -> list[Page]:
    pages: list[Page] = []
    for i, record in enumerate(records):
        pages.extend(layout_form(record, style, i))
    return pages
