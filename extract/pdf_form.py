"""Read one form, laid out over one or more page regions, into a canonical Record by geometry.

Labels (项目名称, 年初预算数, 一级指标, …) are found by pattern in geometric text lines; column edges
come from rules, cell-border ends or blank gutters (see columns.py); row bands from horizontal rules
crossing a column that is never merged. Nothing here depends on the order of the content stream.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .cells import clean_text, join_cell_lines, parse_number, parse_percent
from .columns import Column, build_columns
from .layout import Glyph, PageLayout, TextLine, group_lines, split_fragments
from .record import FUNDING_LINES, FundingLine, Indicator, ReadError, Record, Source

YEAR = re.compile(r"(\d{4})年度?")
FUNDING_ROWS = (r"年度资金总额|资金总额", r"财政拨款", r"上年结转", r"其他资金")
FUNDING_HEADERS = {
    "budget_initial": r"年初预算|年初数",
    "budget_full_year": r"全年预算|调整后预算",
    "executed": r"全年执行|执行数|实际执行",
    "weight": r"分值|分数|权重",
    "execution_rate_pct": r"执行率",
    "score": r"得分",
}
INDICATOR_HEADERS = {
    "level1": r"一级",
    "level2": r"二级",
    "level3": r"三级",
    "target": r"指标值|目标值",
    "actual": r"完成值|实际完成|实际值",
    "weight": r"分值|权重|分数",
    "score": r"得分",
    "deviation_note": r"偏差|原因|改进",
}
FUNDING_VALUE_FIELDS = tuple(FUNDING_HEADERS)
INDICATOR_FIELDS = tuple(INDICATOR_HEADERS)
HEADER_ANCHOR_MIN_HITS = 3  # a line with this many indicator header words is the header row
TOTAL_LABEL = re.compile(r"^(总分|合计|总计)")
GRADE_LABEL = re.compile(r"评分等级|评价等级|等级")


@dataclass
class Part:
    """The slice of one page that belongs to the form."""

    page: PageLayout
    top: float
    bottom: float

    def lines(self) -> list[TextLine]:
        return self.page.lines_in(self.top, self.bottom)


@dataclass
class Hit:
    part: int
    line: TextLine
    x0: float
    x1: float

    @property
    def pos(self) -> tuple[int, float]:
        return (self.part, self.line.yc)


@dataclass
class Form:
    parts: list[Part]
    uncertain: list[str] = field(default_factory=list)

    def find(self, pattern, after: tuple[int, float] = (0, -1.0), before=None) -> Hit | None:
        """The first label matching pattern after `after`, also when its cell wraps it over two
        lines ("其中：当年财政拨" / "款")."""
        for pi, part in enumerate(self.parts):
            lines = part.lines()
            for i, line in enumerate(lines):
                if (pi, line.yc) <= after or (before is not None and (pi, line.yc) >= before):
                    continue
                found = line.find(pattern)
                if found:
                    return Hit(pi, line, found[0][0], found[0][1])
                for below in lines[i + 1 : i + 4]:
                    hit = _wrapped_match(part.page, line, below, pattern)
                    if hit:
                        return Hit(pi, line, *hit)
        return None

    def table_left(self, pi: int) -> float:
        page = self.parts[pi].page
        return min((r.start for r in page.hrules), default=0.0) - 1

    def table_right(self, pi: int) -> float:
        page = self.parts[pi].page
        return max((r.end for r in page.hrules), default=page.width) + 1


def _wrapped_match(page: PageLayout, line: TextLine, below: TextLine, pattern) -> tuple[float, float] | None:
    """x-span on `line` of a match that runs on into the fragment right below it in the same cell."""
    height = line.bottom - line.top
    if below.top - line.bottom > 0.8 * height:
        return None
    tails = split_fragments(below, page.vrules)
    for frag in split_fragments(line, page.vrules):
        for tail in tails:
            if tail.x0 < frag.x1 and frag.x0 < tail.x1:
                m = re.search(pattern, frag.text + tail.text)
                if m and m.start() < len(frag.glyphs) < m.end():
                    return frag.glyphs[m.start()].x0, frag.x1
    return None


def row_band(part: Part, x: float, line: TextLine) -> tuple[float, float]:
    """The vertical extent of the cell holding a label: its rules, else the label's own line."""
    band = part.page.band_at(x, line.yc)
    pad = (line.bottom - line.top) * 0.3
    if band is None or band[1] - band[0] > 12 * (line.bottom - line.top):
        return line.top - pad, line.bottom + pad
    return band


def cell_lines(page: PageLayout, x0: float, x1: float, top: float, bottom: float) -> list[TextLine]:
    return group_lines(page.glyphs_in(x0, x1, top, bottom))


def cell_text(page: PageLayout, x0: float, x1: float, top: float, bottom: float) -> str | None:
    return join_cell_lines([ln.text for ln in cell_lines(page, x0, x1, top, bottom)])


def header_spans(form: Form, pi: int, top: float, bottom: float, patterns: dict[str, str]):
    """(name, x0, x1) of each header found in the band: first on single lines, then in header cells
    whose text wraps over several lines ("年初预" / "算数")."""
    page = form.parts[pi].page
    spans = {}
    fragments = [f for line in page.lines_in(top, bottom) for f in split_fragments(line, page.vrules)]
    for frag in fragments:  # within one cell's line: a match across two cells would mislead
        for name, pattern in patterns.items():
            found = frag.find(pattern) if name not in spans else None
            if found:
                spans[name] = (name, found[0][0], found[0][1])
    for glyphs in _header_cells(page, top, bottom):
        text = "".join(g.text for g in glyphs)
        for name, pattern in patterns.items():
            m = re.search(pattern, text) if name not in spans else None
            if m:
                matched = glyphs[m.start() : m.end()]
                spans[name] = (name, min(g.x0 for g in matched), max(g.x1 for g in matched))
    return list(spans.values())


def _header_cells(page: PageLayout, top: float, bottom: float) -> list[list[Glyph]]:
    """Glyphs of the band grouped into cells: fragments of different lines that overlap in x."""
    cells: list[tuple[float, float, list[Glyph]]] = []
    for line in page.lines_in(top, bottom):
        for frag in split_fragments(line, page.vrules):
            overlapping = [c for c in cells if frag.x0 < c[1] and c[0] < frag.x1]
            merged = [g for c in overlapping for g in c[2]] + frag.glyphs
            cells = [c for c in cells if not any(c is o for o in overlapping)]
            cells.append((min(g.x0 for g in merged), max(g.x1 for g in merged), merged))
    return [sorted(c[2], key=lambda g: (round(g.top), g.x0)) for c in cells]


def parse_cell(form: Form, path: str, text: str | None, percent: bool = False) -> float | None:
    try:
        return parse_percent(text) if percent else parse_number(text)
    except ValueError:
        form.uncertain.append(path)
        return None


# --- header block -------------------------------------------------------------------------------


def read_year(form: Form, name_hit: Hit) -> int | None:
    for part in form.parts[: name_hit.part + 1]:
        for line in part.lines():
            if (form.parts.index(part), line.yc) > name_hit.pos:
                break
            m = YEAR.search(line.text)
            if m and 1990 <= int(m.group(1)) <= 2100:
                return int(m.group(1))
    return None


def value_right_of(form: Form, hit: Hit, stop_x: float | None = None) -> str | None:
    part = form.parts[hit.part]
    top, bottom = row_band(part, (hit.x0 + hit.x1) / 2, hit.line)
    right = stop_x if stop_x is not None else form.table_right(hit.part)
    return cell_text(part.page, hit.x1 + 0.1, right - 0.1, top, bottom)


# --- funding block ------------------------------------------------------------------------------


def read_funding(form: Form, anchor: Hit) -> tuple[list[FundingLine], tuple[int, float]]:
    """The 项目资金 block: its header row lies between the row above (anchor) and 年度资金总额."""
    rows = []
    cursor = anchor.pos
    for pattern in FUNDING_ROWS:
        hit = form.find(pattern, after=cursor)
        rows.append(hit)
        if hit:
            cursor = hit.pos
    first = rows[0]
    if first is None:
        form.uncertain.extend(_funding_fields())
        return [FundingLine(name) for name in FUNDING_LINES], cursor
    part = form.parts[first.part]
    h_top = (
        row_band(part, (anchor.x0 + anchor.x1) / 2, anchor.line)[1] if anchor.part == first.part else part.top
    )
    h_bottom = row_band(part, (first.x0 + first.x1) / 2, first.line)[0]
    spans = header_spans(form, first.part, h_top, h_bottom + 0.5, FUNDING_HEADERS)
    if not spans:
        form.uncertain.extend(_funding_fields())
        return [FundingLine(name) for name in FUNDING_LINES], cursor
    on_page = [h for h in rows if h and h.part == first.part]
    label_right = max(h.x1 for h in on_page)
    block_bottom = row_band(part, (on_page[-1].x0 + on_page[-1].x1) / 2, on_page[-1].line)[1]
    columns = build_columns(part.page, spans, h_top, block_bottom, label_right, form.table_right(first.part))
    lines = []
    for i, (name, hit) in enumerate(zip(FUNDING_LINES, rows, strict=True)):
        line = FundingLine(name)
        if hit is None:
            form.uncertain.extend(f"funding[{i}].{f}" for f in FUNDING_VALUE_FIELDS)
            lines.append(line)
            continue
        row_part = form.parts[hit.part]
        top, bottom = row_band(row_part, (hit.x0 + hit.x1) / 2, hit.line)
        for col in columns:
            text = cell_text(row_part.page, col.x0, col.x1, top, bottom)
            path = f"funding[{i}].{col.name}"
            setattr(line, col.name, parse_cell(form, path, text, percent=col.name == "execution_rate_pct"))
            if col.guessed and text:
                form.uncertain.append(path)
        lines.append(line)
    found = {c.name for c in columns}
    for name in FUNDING_HEADERS:
        if name not in found:
            form.uncertain.extend(f"funding[{i}].{name}" for i in range(4))
    return lines, cursor


# --- goals --------------------------------------------------------------------------------------


def paragraphs(lines: list[TextLine], right: float) -> list[str]:
    """Wrapped lines joined; a line ending well short of the column's right edge ends a paragraph."""
    paras: list[str] = []
    current = ""
    for line in lines:
        current += line.text
        size = line.bottom - line.top
        if line.x1 < right - 1.5 * size:
            paras.append(current)
            current = ""
    if current:
        paras.append(current)
    return [clean_text(p) for p in paras if clean_text(p)]


def read_goals(form: Form, after, before) -> tuple[str | None, str | None]:
    exp = form.find(r"预期目标", after=after, before=before)
    act = form.find(r"实际完成情况|实际完成(?!值)", after=after, before=before)
    if exp is None or act is None:
        form.uncertain.extend(["goal_expected", "goal_actual"])
        return None, None
    part = form.parts[exp.part]
    if exp.part == act.part and abs(exp.line.yc - act.line.yc) < exp.line.bottom - exp.line.top:
        _, h_bottom = row_band(part, (exp.x0 + exp.x1) / 2, exp.line)
        return _goal_columns(form, exp, act, h_bottom, before)
    # Stacked layout: each label heads its own row with the text to its right.
    return value_right_of(form, exp), value_right_of(form, act)


def _goal_columns(form: Form, exp: Hit, act: Hit, h_bottom: float, before) -> tuple[str | None, str | None]:
    texts: dict[str, list[TextLine]] = {"expected": [], "actual": []}
    rights: dict[str, float] = {}
    for pi in range(exp.part, len(form.parts)):
        part = form.parts[pi]
        top = h_bottom if pi == exp.part else part.top
        bottom = part.bottom
        if before is not None and pi > before[0]:
            break
        if before is not None and pi == before[0]:
            bottom = _band_top_of(form, before)
        spans = [("expected", exp.x0, exp.x1), ("actual", act.x0, act.x1)]
        cols = build_columns(part.page, spans, top, bottom, form.table_left(pi), form.table_right(pi))
        for col in cols:
            lines = cell_lines(part.page, col.x0, col.x1, top, bottom)
            texts[col.name].extend(lines)
            rights[col.name] = max([rights.get(col.name, 0.0)] + [ln.x1 for ln in lines])
            if col.guessed and lines:
                form.uncertain.append(f"goal_{col.name}")
    out = []
    for name in ("expected", "actual"):
        paras = paragraphs(texts[name], rights.get(name, 0.0))
        out.append("\n".join(paras) if paras else None)
    return out[0], out[1]


def _band_top_of(form: Form, pos: tuple[int, float]) -> float:
    """Top of the row holding a label at pos (the indicator header), to stop text above it."""
    part = form.parts[pos[0]]
    line = min(part.lines(), key=lambda ln: abs(ln.yc - pos[1]))
    return row_band(part, (line.x0 + line.x1) / 2, line)[0]


# --- indicators ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class LevelCell:
    """Where a row's 一级/二级指标 cell lies: its (possibly merged) extent, the row's own band, and
    the extent of the text found in it."""

    top: float
    bottom: float
    at_top: bool  # touches the top of the table body on its page
    at_bottom: bool
    row_top: float
    row_bottom: float
    text_top: float | None = None
    text_bottom: float | None = None
    text_size: float = 0.0

    @property
    def span(self) -> tuple[float, float]:
        return (self.top, self.bottom)


@dataclass
class Row:
    part: int
    values: dict[str, str | None]
    level_cells: dict[str, LevelCell]
    guessed: set[str] = field(default_factory=set)  # columns whose edges are a midpoint guess
    gaps: tuple[float, float] | None = None  # blank above and below the 分值 text in its row


def read_indicators(form: Form, after) -> tuple[list[Indicator], Hit | None, dict[str, Column]]:
    header = find_indicator_header(form, after)
    if header is None:
        form.uncertain.append("indicators")
        return [], None, {}
    part = form.parts[header.part]
    h_top, h_bottom = row_band(part, (header.x0 + header.x1) / 2, header.line)
    spans = header_spans(form, header.part, h_top, h_bottom, INDICATOR_HEADERS)
    names = {s[0] for s in spans}
    if not {"level3", "weight", "score"} <= names:
        raise ReadError("form_unreadable", f"indicator header lacks columns: {sorted(names)}")
    total = form.find(TOTAL_LABEL, after=header.pos)
    rows: list[Row] = []
    columns: dict[str, Column] = {}
    for pi in range(header.part, len(form.parts)):
        part = form.parts[pi]
        top = h_bottom if pi == header.part else _skip_repeated_header(form, pi, _ruled_top(part))
        bottom = _ruled_bottom(part)
        if total and total.part == pi:
            bottom = row_band(part, (total.x0 + total.x1) / 2, total.line)[0]
        if bottom - top > 1:
            cols = build_columns(part.page, spans, top, bottom, form.table_left(pi), form.table_right(pi))
            rows.extend(_rows_on_part(form, pi, cols, top, bottom))
            columns = {c.name: c for c in cols}
        if total and total.part == pi:
            break
    rows = _join_rows_split_by_page_breaks(rows)
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
    _fill_merged(form, rows, indicators)
    return indicators, total, columns


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
        if not any(values.values()):
            continue
        guessed = {c.name for c in cols if c.guessed}
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
    ys = [v for v in page.hrules_at(x) if top - 1.5 <= v <= bottom + 1.5]
    above = [v for v in ys if v <= y]
    below = [v for v in ys if v > y]
    return max(above, default=top), min(below, default=bottom)


def _split_by_anchors(page: PageLayout, weight: Column, a: float, b: float) -> list[tuple[float, float]]:
    """A band holding several weight values lacks its row rules: split it between the values."""
    anchors = [ln for ln in cell_lines(page, weight.x0, weight.x1, a, b) if re.search(r"\d", ln.text)]
    if len(anchors) <= 1:
        return [(a, b)]
    cuts = [a] + [(p.bottom + n.top) / 2 for p, n in zip(anchors, anchors[1:], strict=False)] + [b]
    return list(zip(cuts, cuts[1:], strict=False))


def _join_rows_split_by_page_breaks(rows: list[Row]) -> list[Row]:
    """Some producers let a row break across pages: the piece without 分值 and 得分, on either side
    of the break, belongs to the row across it. A level name cut by the same break is joined, and
    the rows below that share the cut cell get the joined name too."""
    out: list[Row] = []
    renamed: dict[tuple, tuple[str, str]] = {}  # (part, level, cell) -> (tail text, joined name)
    for row in rows:
        for name in ("level1", "level2"):
            cell = row.level_cells.get(name)
            old_new = renamed.get((row.part, name, cell.span if cell else None))
            if old_new and row.values.get(name) == old_new[0]:
                row.values[name] = old_new[1]
        prev = out[-1] if out else None
        if prev and row.part > prev.part and not (_has_numbers(row) and _has_numbers(prev)):
            for name in ("level3", "target", "actual", "deviation_note"):
                head, tail = prev.values.get(name), row.values.get(name)
                prev.values[name] = (head or "") + (tail or "") or None
            for name in ("weight", "score"):
                prev.values[name] = prev.values.get(name) or row.values.get(name)
            for name in ("level1", "level2"):
                head, tail = prev.values.get(name), row.values.get(name)
                joined = _split_name(head, tail)
                cell = row.level_cells.get(name)
                if joined:
                    renamed[(row.part, name, cell.span if cell else None)] = (tail, joined)
                prev.values[name] = joined or head or tail
            prev.guessed |= row.guessed
            continue
        out.append(row)
    return out


def _has_numbers(row: Row) -> bool:
    return bool(row.values.get("weight") or row.values.get("score"))


def _split_name(head: str | None, tail: str | None) -> str | None:
    """The level name a page break cut in two ("产出指" + "标"), if head and tail are that."""
    if head and tail and not head.endswith("指标") and (head + tail).endswith("指标"):
        return head + tail
    return None


def _join_text_split_by_page_breaks(rows: list[Row], values: list[str | None], name: str) -> None:
    """A producer that breaks a merged cell across pages may break its text too ("产出指" / "标").
    Level names end in 指标, so only a head that does not is joined to its tail; repeated text
    (head == tail) and a new cell at the top of the page are left alone."""
    for i in range(1, len(rows)):
        if rows[i].part == rows[i - 1].part or name not in rows[i].level_cells:
            continue
        head, tail = values[i - 1], values[i]
        joined = _split_name(head, tail)
        if joined is None:
            continue
        for j, row in enumerate(rows):
            spans = {r.level_cells[name].span for r in (rows[i - 1], rows[i]) if name in r.level_cells}
            same_cell = name in row.level_cells and row.level_cells[name].span in spans
            if row.part in (rows[i - 1].part, rows[i].part) and same_cell and values[j] in (head, tail):
                values[j] = joined


def _valign(rows: list[Row]) -> str | None:
    """How the producer places text vertically in cells, from 分值 cells with room to spare:
    "top", "middle", or None when the rows do not tell."""
    votes = []
    for row in rows:
        if row.gaps and max(row.gaps) > 6:
            above, below = row.gaps
            votes.append("top" if above < below / 3 else "middle" if abs(above - below) < 2 else "other")
    if len(votes) < 2 or len(set(votes)) > 1 or votes[0] == "other":
        return None
    return votes[0]


def _cut_cell_text(
    rows: list[Row], values: list[str | None], name: str, first_part: int, cut_parts: set[int]
) -> set[int]:
    """Rows of merged level cells that the producer's full-width rules cut into one cell per row:
    the text sits in one row, and the cell it belongs to is inferred from how the producer aligns
    text (top-aligned: the text's row and those below it; centred: the rows it is centred on).
    Returns the rows so filled; rows the geometry cannot settle are left empty. Parts whose level
    cells are cut row by row are added to cut_parts."""
    filled: set[int] = set()
    # Only a producer that cuts merged cells leaves an empty level cell away from a page edge.
    if not any(
        not values[i] and not c.at_top and not c.at_bottom
        for i, r in enumerate(rows)
        if (c := r.level_cells.get(name))
    ):
        return filled
    for part in sorted({r.part for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.part == part and name in r.level_cells]
        cells = [rows[i].level_cells[name] for i in idx]
        cut = all(abs(c.top - c.row_top) < 1 and abs(c.bottom - c.row_bottom) < 1 for c in cells)
        if not cells or not cut or all(values[i] for i in idx):
            continue  # real merged cells, or nothing to fill
        cut_parts.add(part)
        blocks = _text_blocks(idx, cells, values)
        for first, last, text, _ in blocks:  # a text a rule cuts in two is one cell's, for certain
            for k in range(first, last + 1):
                values[idx[k]] = text
        align = _valign([rows[i] for i in idx])
        if not blocks or align is None or (blocks[0][0] > 0 and part != first_part):
            continue  # the first cell may continue from the previous page: its start is unknown
        start = 0
        for n, (first, last, text, centre) in enumerate(blocks):
            end_limit = blocks[n + 1][0] - 1 if n + 1 < len(blocks) else len(idx) - 1
            if align == "top":
                if first != start:
                    break
                end = end_limit
            else:
                end = min(
                    range(last, end_limit + 1),
                    key=lambda e: abs((cells[start].row_top + cells[e].row_bottom) / 2 - centre),
                )
                if abs((cells[start].row_top + cells[end].row_bottom) / 2 - centre) > 3:
                    break
            for k in range(start, end + 1):
                values[idx[k]] = text
                filled.add(idx[k])
            start = end + 1
    return filled


def _text_blocks(idx: list[int], cells: list[LevelCell], values: list[str | None]):
    """(first, last, text, centre y) of each run of texts; a text that a rule cuts between two
    rows ("服务对象满" / "意度指标") is one run."""
    blocks = []
    k = 0
    while k < len(idx):
        if not values[idx[k]]:
            k += 1
            continue
        first, text, top = k, values[idx[k]], cells[k].text_top
        while (
            k + 1 < len(idx)
            and values[idx[k + 1]]
            and cells[k + 1].text_top - cells[k].text_bottom < 0.6 * max(cells[k].text_size, 1.0)
        ):
            k += 1
            text += values[idx[k]]
        blocks.append((first, k, text, (top + cells[k].text_bottom) / 2))
        k += 1
    return blocks


def _fill_merged(form: Form, rows: list[Row], indicators: list[Indicator]) -> None:
    """Give every row the text of the merged level cell it sits in.

    A merged cell cut by a page break may print its text on either side of the break, or on both:
    an empty cell at the top of a page takes the text of the previous page's last row, one at the
    bottom the text of the next page's first row. An empty cell elsewhere is filled from a
    neighbour and marked uncertain.
    """
    n = len(indicators)
    for name in ("level1", "level2"):
        values = [getattr(ind, name) for ind in indicators]
        _join_text_split_by_page_breaks(rows, values, name)
        cut_parts: set[int] = set()
        inferred = _cut_cell_text(rows, values, name, rows[0].part if rows else 0, cut_parts)
        for i in range(n):
            if values[i] or name not in rows[i].level_cells or i in inferred:
                setattr(indicators[i], name, values[i])
                continue
            at_top, at_bottom = rows[i].level_cells[name].at_top, rows[i].level_cells[name].at_bottom
            before = [j for j in range(i) if rows[j].part < rows[i].part]
            after = [j for j in range(i + 1, n) if rows[j].part > rows[i].part]
            cut = rows[i].part in cut_parts  # a cut cell at a page edge may as well start a new one
            if at_top and before and values[before[-1]] and not cut:
                values[i] = values[before[-1]]
            elif at_bottom and after and values[after[0]] and not cut:
                values[i] = values[after[0]]
            else:
                values[i] = (
                    values[i - 1]
                    if i > 0 and values[i - 1]
                    else next((v for v in values[i + 1 :] if v), None)
                )
                if values[i]:
                    form.uncertain.append(f"indicators[{i}].{name}")
            setattr(indicators[i], name, values[i])


# --- totals -------------------------------------------------------------------------------------


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


def read_grade(form: Form, after) -> str | None:
    hit = form.find(GRADE_LABEL, after=after)
    if hit is None:
        form.uncertain.append("grade")
        return None
    return value_right_of(form, hit)


# --- the form -----------------------------------------------------------------------------------


def _funding_fields() -> list[str]:
    return [f"funding[{i}].{f}" for i in range(len(FUNDING_LINES)) for f in FUNDING_VALUE_FIELDS]


def _table_fields(indicators: list[Indicator]) -> list[str]:
    """Paths of every value read from a table cell."""
    paths = ["project_name", "supervising_dept", "implementing_unit", "goal_expected", "goal_actual"]
    paths += ["total_weight", "total_score", "grade"]
    paths += _funding_fields()
    paths += [f"indicators[{i}].{f}" for i in range(len(indicators)) for f in INDICATOR_FIELDS]
    return paths


def read_form(parts: list[Part], source: Source) -> Record:
    form = Form(parts)
    name_hit = form.find(r"^项目名称")
    if name_hit is None:
        raise ReadError("form_unreadable", "no 项目名称 label")
    dept = form.find(r"主管部门", after=(name_hit.part, name_hit.line.top - 0.1))
    unit = form.find(r"实施单位", after=(name_hit.part, name_hit.line.top - 0.1))
    stop = dept.x0 if dept and dept.line is name_hit.line else None
    project_name = value_right_of(form, name_hit, stop)
    supervising = (
        value_right_of(form, dept, unit.x0 if unit and unit.line is dept.line else None) if dept else None
    )
    implementing = value_right_of(form, unit) if unit else None
    anchor = max((h for h in (name_hit, dept, unit) if h), key=lambda h: h.pos)
    funding, after_funding = read_funding(form, anchor)
    ind_header = find_indicator_header(form, after_funding)
    goal_expected, goal_actual = read_goals(form, after_funding, ind_header.pos if ind_header else None)
    indicators, total, columns = read_indicators(form, after_funding)
    total_weight, total_score = read_totals(form, total, columns)
    grade = read_grade(form, total.pos if total else after_funding)
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
