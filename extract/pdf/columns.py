"""Finding column edges in a table band from whatever the producer drew.

Evidence in order of trust: vertical rules; the ends of per-cell horizontal rule segments; a
vertical gutter that no glyph crosses; the midpoint between two headers (recorded as a guess).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from .layout import RULE_SNAP, PageLayout, split_fragments

# Tolerances, in pt.
MIN_GUTTER = 0.8  # blank space that can separate two cells
MIN_RULE_RUN = 8.0  # a vertical rule separates columns where it runs this far through the band (or half)
BAND_EDGE = 2.0  # a cell border this close to the band's top or bottom is a neighbouring block's
GLYPH_REACH = 200.0  # no glyph is wider than twice this: glyphs centred this far outside may reach in
FLUSH = 0.5  # text ending (starting) this close to a gutter is flush against it
NUMBER = re.compile(r"[-+]?[\d,.]+%?")  # a cell's text that is one number (amount, score, rate)

Align = Literal["left", "right"]


@dataclass(frozen=True)
class Column:
    """A table column: its header's name (a FundingLine or Indicator field, or "unknown:" + the
    header printed), its left and right edges x0, x1 (pt), and how sure the edges are."""

    name: str
    x0: float
    x1: float
    guessed: bool = False  # an edge came from the midpoint fallback
    drawn: bool = False  # both edges are drawn lines (rules or cell borders), not blank gutters

    @property
    def xc(self) -> float:
        """The column's centre x (pt)."""
        return (self.x0 + self.x1) / 2


def _rule_separators(page: PageLayout, top: float, bottom: float) -> list[float]:
    need = min(MIN_RULE_RUN, (bottom - top) / 2)
    return [r.pos for r in page.vrules if min(r.end, bottom) - max(r.start, top) >= need]


def _segment_ends(page: PageLayout, top: float, bottom: float) -> list[float]:
    """Ends of cell borders drawn one cell at a time, inside the band only: a rule on the band's
    edge may belong to a neighbouring block with other columns."""
    ends = sorted(
        x for r in page.hsegments if top + BAND_EDGE < r.pos < bottom - BAND_EDGE for x in (r.start, r.end)
    )
    # An edge drawn by two or more borders is a column edge; a lone end may be a dash.
    return [
        x
        for i, x in enumerate(ends)
        if (i > 0 and x - ends[i - 1] <= RULE_SNAP) or (i + 1 < len(ends) and ends[i + 1] - x <= RULE_SNAP)
    ]


def _gaps(page: PageLayout, a: float, b: float, top: float, bottom: float) -> list[tuple[float, float]]:
    """Blank x-intervals inside (a, b) that no glyph in the band covers."""
    spans = sorted(
        (max(g.x0, a), min(g.x1, b))
        for g in page.glyphs_in(a - GLYPH_REACH, b + GLYPH_REACH, top, bottom)
        if g.x1 > a and g.x0 < b
    )
    gaps, cursor = [], a
    for x0, x1 in spans:
        if x0 - cursor >= MIN_GUTTER:
            gaps.append((cursor, x0))
        cursor = max(cursor, x1)
    if b - cursor >= MIN_GUTTER:
        gaps.append((cursor, b))
    return gaps


def _flush_gap(
    page: PageLayout, gaps: list[tuple[float, float]], top: float, bottom: float, aligned: Align | None
) -> tuple[tuple[float, float] | None, bool]:
    """The gutter that several rows' text is flush against: right-aligned cells end just before
    their column's right edge, left-aligned ones start just after its left edge. Also whether the
    edge stays a guess.

    Text of one width (7.00, 0.00) is flush on both sides at once: with two gutters beside it,
    one is its column's edge, the other only where it happens to end. Which one `aligned` (the
    band's numbers' alignment, where known) tells; without it the edge is a guess."""
    frags = [f for line in page.lines_in(top, bottom) for f in split_fragments(line, page.vrules)]

    def starting(gap: tuple[float, float]) -> set[int]:
        return {i for i, f in enumerate(frags) if abs(f.x0 - gap[1]) < FLUSH}

    def ending(gap: tuple[float, float]) -> set[int]:
        return {i for i, f in enumerate(frags) if abs(f.x1 - gap[0]) < FLUSH}

    def flush(gap: tuple[float, float]) -> int:
        return max(len(starting(gap)), len(ending(gap)))

    ranked = sorted(gaps, key=flush, reverse=True)
    best = flush(ranked[0])
    runner_up = flush(ranked[1]) if len(ranked) > 1 else 0
    if best < 2:
        return None, False
    if best > runner_up:
        return ranked[0], False
    before, after = sorted(ranked[:2])
    if not (len(starting(before)) == best and starting(before) == ending(after)):
        return None, False  # text of several widths: the widest gutter
    if aligned == "left":
        return before, False
    if aligned == "right":
        return after, False
    return None, True


def _separating_gap(
    page: PageLayout, gaps: list[tuple[float, float]], top: float, bottom: float
) -> tuple[float, float] | None:
    """The gutter that alone lies between two neighbouring pieces of text on the most lines of the
    band: the edge between two cells' text, where the widest gutter may be only the blank after
    a short text (a short 实际完成情况 set 3 pt after its right-aligned header's column)."""
    votes = [0] * len(gaps)
    for line in page.lines_in(top, bottom):
        frags = split_fragments(line, page.vrules)
        for left, right in zip(frags, frags[1:], strict=False):
            between = [
                i for i, (lo, hi) in enumerate(gaps) if left.x1 <= lo + FLUSH and hi - FLUSH <= right.x0
            ]
            if len(between) == 1:
                votes[between[0]] += 1
    best = max(votes, default=0)
    return gaps[votes.index(best)] if best > 0 and votes.count(best) == 1 else None


def number_alignment(page: PageLayout, x0: float, x1: float, top: float, bottom: float) -> Align | None:
    """How the numbers in the box x0..x1, top..bottom (pt) are aligned in their cells: "left" when
    their starts share fewer x than their ends, "right" the other way round, else None."""
    lines = page.lines_in(top, bottom)
    numbers = [f for ln in lines for f in split_fragments(ln, page.vrules) if NUMBER.fullmatch(f.text)]
    numbers = [f for f in numbers if x0 <= f.x0 and f.x1 <= x1]
    starts, ends = len({round(f.x0) for f in numbers}), len({round(f.x1) for f in numbers})
    return "left" if starts < ends else "right" if ends < starts else None


def separator(
    page: PageLayout,
    a: float,
    b: float,
    top: float,
    bottom: float,
    prefer: str = "middle",
    aligned: Align | None = None,
) -> tuple[float, bool, bool]:
    """An x between a and b where one cell ends and the next begins; (x, guessed, drawn): drawn
    when the edge is a rule or a cell border's end, not a blank gutter.

    `prefer` says which candidate wins when several qualify: the one nearest the middle, or nearest
    the "left"/"right" end of the interval (edges next to a header). `aligned`: the band's numbers'
    alignment in their cells, where known (`_flush_gap`).
    """
    if b <= a:
        return (a + b) / 2, True, False

    def pick(candidates: list[float]) -> float:
        if prefer == "right":
            return max(candidates)
        if prefer == "left":
            return min(candidates)
        mid = (a + b) / 2
        return min(candidates, key=lambda x: abs(x - mid))

    for found in (_rule_separators(page, top, bottom), _segment_ends(page, top, bottom)):
        inside = [x for x in found if a < x < b]
        if inside:
            return pick(inside), False, True
    gaps = _gaps(page, a, b, top, bottom)
    if gaps:
        if prefer == "middle":
            flush, tied = _flush_gap(page, gaps, top, bottom, aligned)
            widest = max(gaps, key=lambda g: g[1] - g[0])
            # A tie of text of one width: neighbouring cells on every line, so no gutter separates
            # better; the widest is kept, as a guess.
            separating = None if tied else _separating_gap(page, gaps, top, bottom)
            lo, hi = flush or separating or widest
            return (lo + hi) / 2, tied, False
        lo, hi = gaps[-1] if prefer == "right" else gaps[0]
        return (lo + hi) / 2, False, False
    return (a + b) / 2, True, False


def build_columns(
    page: PageLayout,
    headers: list[tuple[str, float, float]],
    top: float,
    bottom: float,
    left_limit: float,
    right_limit: float,
    numbers_after_labels: bool = False,
) -> list[Column]:
    """Columns for named header spans (name, x0, x1) sorted left to right, over the band top..bottom.

    The first column's left edge is looked for between `left_limit` and its header: nearest the
    header, as a label column's text lies left of it. With `numbers_after_labels` (row labels end
    at `left_limit` and the cells right of them hold numbers, as in the 项目资金 block) it is the
    gutter nearest `left_limit`: numbers set close after right-aligned labels leave a second
    gutter before a header centred above them; and the numbers' alignment settles gutters that
    numbers of one width are flush against on both sides.
    """
    headers = sorted(headers, key=lambda h: h[1])
    first_prefer = "left" if numbers_after_labels else "right"
    aligned = number_alignment(page, left_limit, right_limit, top, bottom) if numbers_after_labels else None
    first = separator(page, left_limit, headers[0][1], top, bottom, first_prefer)
    edges: list[tuple[float, bool, bool]] = [first]
    for (_, _, a), (_, b, _) in zip(headers, headers[1:], strict=False):
        edges.append(separator(page, a, b, top, bottom, aligned=aligned))
    edges.append(separator(page, headers[-1][2], right_limit, top, bottom, "left"))
    return [
        Column(
            name,
            edges[i][0],
            edges[i + 1][0],
            edges[i][1] or edges[i + 1][1],
            edges[i][2] and edges[i + 1][2],
        )
        for i, (name, _, _) in enumerate(headers)
    ]
