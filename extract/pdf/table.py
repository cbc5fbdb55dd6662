"""Where a form's pieces lie on its pages: the form's page regions, labels found in them, and the
text of a cell between given edges. Shared by the block readers (funding, goals, indicators)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..cells import join_cell_lines, parse_number, parse_percent
from .layout import (
    MIN_EM,
    NUDGE,
    SAME_EDGE,
    WORD_GAP_EM,
    Glyph,
    PageLayout,
    TextLine,
    glyphs_at,
    group_lines,
    split_fragments,
)

UNKNOWN = "unknown:"  # name prefix of a column whose header the vocabulary does not know
UNKNOWN_COLUMN = "unknown_column"  # set-aside reason of the glyphs in such a column

Cell = tuple[int, float, float, float, float]  # a cell of a form: part, x0, x1, top, bottom (pt)
Pos = tuple[int, float]  # a place in a form: part, y (pt); ordered as the form reads

# Tolerances: "lines" are line heights of the text concerned, the rest pt.
TABLE_MARGIN = 1.0  # the table's left and right ends lie this far beyond its outermost rules
LABEL_LINE_GAP = 0.8  # lines: a label cell's wrapped lines are closer than this
LABEL_SEARCH_LINES = 2  # lines: lines this near a label cell's edge are tested for being its wrap
WRAP_LOOKAHEAD_LINES = 3  # a label's wrapped tail is looked for in this many lines below it
ROW_PAD = 0.3  # lines: an unruled row reaches this far above and below its label's line
MAX_ROW_HEIGHT = 12  # lines: rules further apart than this bound the table, not the label's row
UNRULED_ROW_GAP = 1.5  # lines: text this close outside the outermost rule is an unruled row's
MAX_CELL_PAD = 6.0  # the most padding producers leave between a cell's border and its text
WRAP_TOLERANCE = 0.5  # rounding of glyph advances when a producer decides a line is full


@dataclass
class Part:
    """The slice of one page that belongs to the form."""

    page: PageLayout
    top: float
    bottom: float

    def lines(self) -> list[TextLine]:
        """The page's text lines whose vertical centre lies in the part."""
        return self.page.lines_in(self.top, self.bottom)


@dataclass
class Hit:
    """A label found in a form: the part it is on, the text line holding it and its x-span x0..x1
    (pt)."""

    part: int
    line: TextLine
    x0: float
    x1: float

    @property
    def pos(self) -> Pos:
        """(part, y of its line's centre): orders labels as the form reads."""
        return (self.part, self.line.yc)


@dataclass
class Form:
    """A form's page regions, the fields it has marked uncertain, and what it has read where:
    `fields` maps a cell (part, x0, x1, top, bottom) to the paths of the fields read from it,
    `labels` holds the ids of glyphs read as the form's own words (labels, headers, title).
    Both feed the glyph accounting (accounting.py)."""

    parts: list[Part]
    uncertain: list[str] = field(default_factory=list)
    fields: dict[Cell, set[str]] = field(default_factory=dict)
    labels: set[int] = field(default_factory=set)
    aside: dict[int, str] = field(default_factory=dict)  # glyph id → why a block reader left it unread

    def find(
        self, pattern: str | re.Pattern[str], after: Pos = (0, -1.0), before: Pos | None = None
    ) -> Hit | None:
        """The first label matching pattern after `after`, also when its cell wraps it over two
        lines ("其中：当年财政拨" / "款"). The label's cell text is claimed as a label."""
        for pi, part in enumerate(self.parts):
            lines = part.lines()
            for i, line in enumerate(lines):
                if (pi, line.yc) <= after or (before is not None and (pi, line.yc) >= before):
                    continue
                found = line.find(pattern)
                if found:
                    hit = Hit(pi, line, found[0][0], found[0][1])
                else:
                    below = lines[i + 1 : i + 1 + WRAP_LOOKAHEAD_LINES]
                    tails = (_wrapped_match(part.page, line, b, pattern) for b in below)
                    span = next(filter(None, tails), None)
                    if span is None:
                        continue
                    hit = Hit(pi, line, *span)
                self.labels.update(id(g) for g in label_cell(part.page, line, hit.x0, hit.x1))
                return hit
        return None

    def claim(self, pi: int, x0: float, x1: float, top: float, bottom: float, path: str) -> None:
        """Record that the field at `path` was read from the cell x0..x1, top..bottom of part pi."""
        self.fields.setdefault((pi, x0, x1, top, bottom), set()).add(path)

    def set_aside_box(self, pi: int, x0: float, x1: float, top: float, bottom: float, reason: str) -> None:
        """Record that the glyphs in a box are deliberately read into no field (e.g. the cells of a
        column no reader knows, `unknown_column`); the accounting counts them under `reason`."""
        for g in self.parts[pi].page.glyphs_in(x0, x1, top, bottom):
            self.aside.setdefault(id(g), reason)

    def claim_label_box(self, pi: int, x0: float, x1: float, top: float, bottom: float) -> None:
        """Record that the glyphs in a box (a header row, the title) are the form's own words."""
        self.labels.update(id(g) for g in self.parts[pi].page.glyphs_in(x0, x1, top, bottom))

    def part_index(self, page: PageLayout) -> int:
        """The index of the form's part on `page` (a form has one part per page)."""
        return next(i for i, p in enumerate(self.parts) if p.page is page)

    def table_left(self, pi: int) -> float:
        """Left end (pt) of the table on part pi: TABLE_MARGIN left of its horizontal rules."""
        page = self.parts[pi].page
        return min((r.start for r in page.hrules), default=0.0) - TABLE_MARGIN

    def table_right(self, pi: int) -> float:
        """Right end (pt) of the table on part pi: TABLE_MARGIN right of its horizontal rules (the
        page's right edge when it has none)."""
        page = self.parts[pi].page
        return max((r.end for r in page.hrules), default=page.width) + TABLE_MARGIN


def label_cell(page: PageLayout, line: TextLine, x0: float, x1: float) -> list[Glyph]:
    """The glyphs of the label cell whose text matched on `line` between x0 and x1: the matched
    line fragments and the lines its cell wraps onto above and below ("项目资金" / "（万元）"),
    up to a rule or a wider gap. A fragment ends at the match where a blank wider than a word gap
    follows it: what comes after ("其中：当年财政拨款 7.00", a value set close to its label) is
    the next cell's, never the label's."""
    frags = [_label_part(f, x1) for f in split_fragments(line, page.vrules) if f.x0 < x1 and x0 < f.x1]
    if not frags:
        return []
    glyphs = [g for f in frags for g in f.glyphs]
    lo, hi = min(f.x0 for f in frags), max(f.x1 for f in frags)
    height = max(g.size for g in glyphs)
    for downwards in (False, True):
        edge = max(g.bottom for g in glyphs) if downwards else min(g.top for g in glyphs)
        while True:
            near = [
                f
                for ln in page.lines
                if ln is not line
                and ln.top < edge + LABEL_SEARCH_LINES * height
                and ln.bottom > edge - LABEL_SEARCH_LINES * height
                for f in split_fragments(ln, page.vrules)
                if f.x0 < hi
                and lo < f.x1
                and -LABEL_LINE_GAP / 2
                < ((f.top - edge) if downwards else (edge - f.bottom)) / height
                < LABEL_LINE_GAP
                and not any(g in glyphs for g in f.glyphs)
                and not _rule_between(page, (f.x0 + f.x1) / 2, edge, f.yc)
            ]
            if not near:
                break
            glyphs.extend(g for f in near for g in f.glyphs)
            edge = max(f.bottom for f in near) if downwards else min(f.top for f in near)
    return glyphs


def _label_part(frag: TextLine, x1: float) -> TextLine:
    """The fragment's glyphs up to a match ending at x1 (pt) and on while they are set as one word
    with it (a "（万元）" run on to the name); the rest is a value beside the label."""
    end = next((i for i, g in enumerate(frag.glyphs) if g.x0 >= x1 - NUDGE), len(frag.glyphs))
    while 0 < end < len(frag.glyphs):
        prev, g = frag.glyphs[end - 1], frag.glyphs[end]
        if g.x0 - prev.x1 > WORD_GAP_EM * max(prev.size, g.size, MIN_EM):
            break
        end += 1
    return frag if end == len(frag.glyphs) else TextLine(frag.glyphs[:end])


def _rule_between(page: PageLayout, x: float, y0: float, y1: float) -> bool:
    lo, hi = min(y0, y1), max(y0, y1)
    return any(lo < y < hi for y in page.hrules_at(x))


def _wrapped_match(
    page: PageLayout, line: TextLine, below: TextLine, pattern: str | re.Pattern[str]
) -> tuple[float, float] | None:
    """x-span on `line` of a match that runs on into the fragment right below it in the same cell."""
    height = line.bottom - line.top
    if below.top - line.bottom > LABEL_LINE_GAP * height:
        return None
    tails = split_fragments(below, page.vrules)
    for frag in split_fragments(line, page.vrules):
        for tail in tails:
            if tail.x0 < frag.x1 and frag.x0 < tail.x1:
                m = re.search(pattern, frag.text + tail.text)
                if m and m.start() < len(frag.text) < m.end():
                    return glyphs_at(frag.glyphs, m.start(), m.end())[0].x0, frag.x1
    return None


def row_band(part: Part, x: float, line: TextLine) -> tuple[float, float]:
    """The vertical extent of the cell holding a label: its rules, else the label's own line."""
    band = part.page.band_at(x, line.yc)
    pad = (line.bottom - line.top) * ROW_PAD
    if band is None or band[1] - band[0] > MAX_ROW_HEIGHT * (line.bottom - line.top):
        return line.top - pad, line.bottom + pad
    return band


def cell_lines(page: PageLayout, x0: float, x1: float, top: float, bottom: float) -> list[TextLine]:
    """The text lines of the glyphs centred in the box x0..x1, top..bottom (pt)."""
    return group_lines(page.glyphs_in(x0, x1, top, bottom))


class CellText(str):
    """A cell's text (its wrapped lines joined) that remembers where it was read — the page, the
    box (x0, x1, top, bottom in pt) and the lines — so that the field it is parsed into
    (`parse_cell`) can claim the cell and check that it holds one number."""

    page: PageLayout
    box: tuple[float, float, float, float]
    lines: list[TextLine]

    def __new__(
        cls, text: str, page: PageLayout, box: tuple[float, float, float, float], lines: list[TextLine]
    ) -> CellText:
        obj = super().__new__(cls, text)
        obj.page, obj.box, obj.lines = page, box, lines
        return obj


def cell_text(page: PageLayout, x0: float, x1: float, top: float, bottom: float) -> CellText | None:
    """The text of the box x0..x1, top..bottom (pt): its lines joined with no separator, as a
    CellText that remembers the box; None when the box holds no glyph."""
    lines = cell_lines(page, x0, x1, top, bottom)
    text = join_cell_lines([ln.text for ln in lines])
    return None if text is None else CellText(text, page, (x0, x1, top, bottom), lines)


def header_spans(
    form: Form, pi: int, top: float, bottom: float, patterns: dict[str, str]
) -> list[tuple[str, float, float]]:
    """(name, x0, x1) of each header found in the band: first on single lines, then in header cells
    whose text wraps over several lines ("年初预" / "算数")."""
    page = form.parts[pi].page
    form.claim_label_box(pi, 0.0, page.width, top, bottom)
    spans: dict[str, tuple[str, float, float]] = {}
    fragments = [f for line in page.lines_in(top, bottom) for f in split_fragments(line, page.vrules)]
    for frag in fragments:  # within one cell's line: a match across two cells would mislead
        for name, pattern in patterns.items():
            found = frag.find(pattern) if name not in spans else None
            if found:
                spans[name] = (name, found[0][0], found[0][1])
    for glyphs in header_cells(fragments):
        text = "".join(g.text for g in glyphs)
        for name, pattern in patterns.items():
            m = re.search(pattern, text) if name not in spans else None
            if m:
                matched = glyphs_at(glyphs, m.start(), m.end())
                spans[name] = (name, min(g.x0 for g in matched), max(g.x1 for g in matched))
    return list(spans.values())


def unknown_header_spans(
    page: PageLayout, top: float, bottom: float, known: list[tuple[str, float, float]]
) -> list[tuple[str, float, float]]:
    """(name, x0, x1) of header cells in the band top..bottom that hold no known header word, right
    of the leftmost known one (a row-label column lies left of it): e.g. ("unknown:备注", x0, x1).
    Such a column keeps its own cells, so its text is never read into a neighbour."""
    left = min(x0 for _, x0, _ in known)
    fragments = [f for line in page.lines_in(top, bottom) for f in split_fragments(line, page.vrules)]
    spans = []
    for glyphs in header_cells(fragments):
        x0, x1 = min(g.x0 for g in glyphs), max(g.x1 for g in glyphs)
        if x1 > left and not any(a < x1 and x0 < b for _, a, b in known):
            spans.append((UNKNOWN + "".join(g.text for g in glyphs), x0, x1))
    return spans


def columns_beside_unknown(names: list[str]) -> dict[str, list[str]]:
    """For each unknown column in `names` (left to right), the known columns on either side."""
    out = {}
    for i, name in enumerate(names):
        if name.startswith(UNKNOWN):
            out[name] = [
                names[j] for j in (i - 1, i + 1) if 0 <= j < len(names) and not names[j].startswith(UNKNOWN)
            ]
    return out


def header_cells(fragments: list[TextLine]) -> list[list[Glyph]]:
    """Glyphs of a band's line fragments grouped into cells: fragments that overlap in x."""
    cells: list[tuple[float, float, list[Glyph]]] = []
    for frag in fragments:
        overlapping = [c for c in cells if frag.x0 < c[1] and c[0] < frag.x1]
        merged = [g for c in overlapping for g in c[2]] + frag.glyphs
        cells = [c for c in cells if not any(c is o for o in overlapping)]
        cells.append((min(g.x0 for g in merged), max(g.x1 for g in merged), merged))
    return [sorted(c[2], key=lambda g: (round(g.top), g.x0)) for c in cells]


def wrapped(lines: list[TextLine], x0: float, x1: float) -> bool:
    """Whether a cell's lines are one text wrapped at the cell's width (x0..x1, pt) rather than
    several values stacked: every line but the last reaches the cell's padding on one side, and
    the next line's first glyph would not have fitted beside it."""
    for line, below in zip(lines, lines[1:], strict=False):
        left, right = line.x0 - x0, x1 - line.x1
        pad = min(left, right)
        first = below.glyphs[0]
        room = first.x1 - first.x0
        reaches_edge = pad <= MAX_CELL_PAD + room / 2
        full = (line.x1 - line.x0) + room > (x1 - x0) - 2 * pad - WRAP_TOLERANCE
        if not (reaches_edge and full):
            return False
    return True


def parse_cell(form: Form, path: str, text: str | None, percent: bool = False) -> float | None:
    """A numeric cell's value; unreadable text, or a cell holding several stacked numbers rather
    than one number wrapped at its width, marks `path` uncertain. Text read by `cell_text` claims
    its cell for `path`."""
    if isinstance(text, CellText):
        x0, x1, top, bottom = text.box
        form.claim(form.part_index(text.page), x0, x1, top, bottom, path)
        if not wrapped(text.lines, x0, x1):
            form.uncertain.append(path)
    try:
        return parse_percent(text) if percent else parse_number(text)
    except ValueError:
        form.uncertain.append(path)
        return None


def text_right_of(form: Form, hit: Hit, stop_x: float | None = None) -> tuple[str | None, Cell]:
    """The text right of a label in its row, up to `stop_x` or the table's right edge, and its box
    (part, x0, x1, top, bottom in pt), claimed for no field yet."""
    part = form.parts[hit.part]
    top, bottom = row_band(part, (hit.x0 + hit.x1) / 2, hit.line)
    left, right = hit.x1 + NUDGE, (stop_x if stop_x is not None else form.table_right(hit.part)) - NUDGE
    text = join_cell_lines([ln.text for ln in cell_lines(part.page, left, right, top, bottom)])
    return text, (hit.part, left, right, top, bottom)


def value_right_of(form: Form, hit: Hit, path: str, stop_x: float | None = None) -> str | None:
    """The text right of a label in its row (`text_right_of`), read as the field at `path`."""
    text, box = text_right_of(form, hit, stop_x)
    form.claim(*box, path)
    return text


def ruled_top(part: Part) -> float:
    """Where the table starts on a continuation page: its first rule, unless text sits just above
    it (an unruled top row); a running header far above is left out."""
    ys = [r.pos for r in part.page.hrules if part.top - SAME_EDGE <= r.pos < part.bottom]
    if not ys:
        return part.top
    above = [ln for ln in part.lines() if ln.bottom <= min(ys)]
    near = [ln for ln in above if min(ys) - ln.bottom < UNRULED_ROW_GAP * (ln.bottom - ln.top)]
    return part.top if near else min(ys)


def ruled_bottom(part: Part) -> float:
    """Where the table ends on a page it runs off: its last rule, unless text sits just below it
    (an unruled last row); a page footer far below is left out."""
    ys = [r.pos for r in part.page.hrules if part.top < r.pos <= part.bottom + SAME_EDGE]
    if not ys:
        return part.bottom
    below = [ln for ln in part.lines() if ln.top >= max(ys)]
    near = [ln for ln in below if ln.top - max(ys) < UNRULED_ROW_GAP * (ln.bottom - ln.top)]
    return part.bottom if near else max(ys)
