"""Where a form's pieces lie on its pages: the form's page regions, labels found in them, and the
text of a cell between given edges. Shared by the block readers (funding, goals, indicators)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..cells import join_cell_lines, parse_number, parse_percent
from .layout import Glyph, PageLayout, TextLine, group_lines, split_fragments

UNKNOWN = "unknown:"  # name prefix of a column whose header the vocabulary does not know


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
    for glyphs in header_cells(fragments):
        text = "".join(g.text for g in glyphs)
        for name, pattern in patterns.items():
            m = re.search(pattern, text) if name not in spans else None
            if m:
                matched = glyphs[m.start() : m.end()]
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


def parse_cell(form: Form, path: str, text: str | None, percent: bool = False) -> float | None:
    try:
        return parse_percent(text) if percent else parse_number(text)
    except ValueError:
        form.uncertain.append(path)
        return None


def value_right_of(form: Form, hit: Hit, stop_x: float | None = None) -> str | None:
    part = form.parts[hit.part]
    top, bottom = row_band(part, (hit.x0 + hit.x1) / 2, hit.line)
    right = stop_x if stop_x is not None else form.table_right(hit.part)
    return cell_text(part.page, hit.x1 + 0.1, right - 0.1, top, bottom)
