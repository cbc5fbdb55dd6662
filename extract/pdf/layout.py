"""Page geometry: glyphs, text lines and ruling segments, independent of content-stream order.

Everything here is pure: a `PageLayout` is built from plain tuples so it can outlive the pdfplumber
page it came from (pages are released as soon as they are read).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from functools import cached_property

# Tolerances of the geometry, in pt unless said otherwise ("em": the glyph's size, `Glyph.size`).
RULE_SNAP = 1.5  # ruling endpoints closer than this are the same line
MIN_RULE_LENGTH = 4.0  # shorter strokes are decoration, not cell borders
SAME_EDGE = 1.0  # edges closer than this are one edge: producers round coordinates differently
NUDGE = 0.1  # a step past an edge, so that a box beginning at a line or label leaves it out
MIN_EM = 1.0  # the least em size tolerances scale with: a zero-height glyph box must not zero them
TALLEST_GLYPH = 50.0  # no glyph box is taller: a search by `top` starts this far above a box
LINE_OVERLAP_EM = 0.45  # glyph centres this close vertically (em) are on one visual line
FRAGMENT_GAP_EM = 0.6  # a blank this wide (em) between glyphs of a line separates two cells' text
WORD_GAP_EM = 0.25  # glyphs of one word (a label, a name) are set closer than this (em)


@dataclass(frozen=True, slots=True)
class Glyph:
    """A visible glyph: its text (one character, or "(cid:N)" when its font has no Unicode for
    it), its box (pt) and `turn`, the clockwise degrees (0, 90, 180, 270) its text is turned on
    the page, as in a 一级指标 name printed sideways in its merged cell. `confidence` (0..1) is
    the OCR engine's probability for a glyph recognised on a scanned page; printed text is 1."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    turn: int = 0
    confidence: float = 1.0
    # The centre and the em size (the box's extent across the reading direction), kept: the
    # readers ask for them millions of times.
    xc: float = field(init=False, compare=False, repr=False)
    yc: float = field(init=False, compare=False, repr=False)
    size: float = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "xc", (self.x0 + self.x1) / 2)
        object.__setattr__(self, "yc", (self.top + self.bottom) / 2)
        size = self.bottom - self.top if self.turn in (0, 180) else self.x1 - self.x0
        object.__setattr__(self, "size", size)


@dataclass(frozen=True)
class Rule:
    """A horizontal (y fixed, x0..x1) or vertical (x fixed, y0..y1 as x0..x1) ruling segment."""

    pos: float
    start: float
    end: float

    def covers(self, v: float, tol: float = RULE_SNAP) -> bool:
        """Whether position `v` along the rule lies on it, `tol` (pt) beyond either end allowed."""
        return self.start - tol <= v <= self.end + tol


@dataclass
class TextLine:
    """One visual line of glyphs in its reading order (left to right when upright), whitespace
    dropped. Its text and extent (pt) are computed once: a line's glyphs never change."""

    glyphs: list[Glyph]

    # A line's glyphs never change once it is built: its text and extent are computed once.
    @cached_property
    def text(self) -> str:
        """The line's text: its glyphs' texts joined."""
        return "".join(g.text for g in self.glyphs)

    @cached_property
    def x0(self) -> float:
        """Left edge of the line's glyphs (pt)."""
        return min(g.x0 for g in self.glyphs)

    @cached_property
    def x1(self) -> float:
        """Right edge of the line's glyphs (pt)."""
        return max(g.x1 for g in self.glyphs)

    @cached_property
    def top(self) -> float:
        """Top of the line's highest glyph (pt from the page's top)."""
        return min(g.top for g in self.glyphs)

    @cached_property
    def bottom(self) -> float:
        """Bottom of the line's lowest glyph (pt from the page's top)."""
        return max(g.bottom for g in self.glyphs)

    @cached_property
    def yc(self) -> float:
        """The line's vertical centre (pt)."""
        return (self.top + self.bottom) / 2

    def find(self, pattern: str | re.Pattern[str]) -> list[tuple[float, float, re.Match[str]]]:
        """x-spans of regex matches in the line's text (whitespace already dropped)."""
        out: list[tuple[float, float, re.Match[str]]] = []
        for m in re.finditer(pattern, self.text):
            matched = glyphs_at(self.glyphs, m.start(), m.end())
            out.append((matched[0].x0, matched[-1].x1, m))
        return out


def glyphs_at(glyphs: list[Glyph], start: int, end: int) -> list[Glyph]:
    """The glyphs whose text makes up characters start..end of their joined text (a glyph may
    stand for several characters: "(cid:26)", a ligature)."""
    if all(len(g.text) == 1 for g in glyphs):
        return glyphs[start:end]
    out, offset = [], 0
    for g in glyphs:
        if offset < end and offset + len(g.text) > start:
            out.append(g)
        offset += len(g.text)
    return out


@dataclass
class PageLayout:
    """One page as the form reader sees it, in extract.pdf's coordinates (pt, origin top-left).

    Its size, the visible glyphs and their text lines, the horizontal and vertical rules
    (collinear strokes merged), the horizontal strokes as drawn (cell borders), whether it holds
    images, and the painted glyphs set aside with their reason (SET_ASIDE_REASONS), with the
    clipping box of each clipped one."""

    number: int  # 1-based
    width: float
    height: float
    glyphs: list[Glyph]  # sorted by (top, x0)
    hrules: list[Rule]  # horizontal, merged, sorted by pos
    vrules: list[Rule]  # vertical, merged, sorted by pos
    hsegments: list[Rule] = field(default_factory=list)  # horizontal strokes as drawn (cell borders)
    has_images: bool = False
    ocr: bool = False  # glyphs recognised on a scanned image, or a scanner's text layer over it
    lines: list[TextLine] = field(default_factory=list)
    # Painted glyphs a person does not see as the form's text, with the reason (SET_ASIDE_REASONS).
    aside: list[tuple[Glyph, str]] = field(default_factory=list)
    # id of a clipped glyph in `aside` → the clipping box (x0, x1, top, bottom) that cut it
    clips: dict[int, tuple[float, float, float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.lines:
            self.lines = group_lines(self.glyphs)
        self._tops = [g.top for g in self.glyphs]

    def set_aside(self, glyphs: list[Glyph], reason: str) -> None:
        """Take glyphs out of the page's text (page furniture found once the page breaks are known)."""
        gone = {id(g) for g in glyphs}
        self.glyphs = [g for g in self.glyphs if id(g) not in gone]
        self.aside.extend((g, reason) for g in glyphs)
        self.lines = group_lines(self.glyphs)
        self._tops = [g.top for g in self.glyphs]

    def glyphs_in(self, x0: float, x1: float, top: float, bottom: float) -> list[Glyph]:
        """Glyphs whose centre lies inside the box."""
        lo = bisect_left(self._tops, top - TALLEST_GLYPH)
        hi = bisect_right(self._tops, bottom)
        return [g for g in self.glyphs[lo:hi] if x0 <= g.xc < x1 and top <= g.yc < bottom]

    def lines_in(self, top: float, bottom: float) -> list[TextLine]:
        """The text lines whose vertical centre lies in top..bottom (pt)."""
        return [ln for ln in self.lines if top <= ln.yc < bottom]

    def hrules_at(self, x: float) -> list[float]:
        """y of every horizontal rule crossing column position x, top to bottom."""
        return [r.pos for r in self.hrules if r.covers(x)]

    def rules_around(
        self, x: float, y: float, top: float = float("-inf"), bottom: float = float("inf")
    ) -> tuple[float | None, float | None]:
        """The nearest rules crossing column position x above and below y, within top..bottom."""
        ys = [v for v in self.hrules_at(x) if top <= v <= bottom]
        return max((v for v in ys if v <= y), default=None), min((v for v in ys if v > y), default=None)

    def band_at(self, x: float, y: float) -> tuple[float, float] | None:
        """The cell's vertical extent around (x, y) from the rules crossing x, if ruled above and below."""
        above, below = self.rules_around(x, y)
        return None if above is None or below is None else (above, below)


def group_lines(glyphs: list[Glyph]) -> list[TextLine]:
    """Cluster glyphs into visual lines, each in its own reading direction: upright text into
    rows read left to right, text turned 90° into columns read downwards (the first line on the
    right), and so on. Upright lines come first, top to bottom.

    Whitespace glyphs are dropped: the forms never need spaces and producers put them anywhere.
    """
    if all(g.turn == 0 for g in glyphs):
        return _upright_lines(glyphs)
    lines = _upright_lines([g for g in glyphs if g.turn == 0])
    for turn in (90, 180, 270):
        turned = [g for g in glyphs if g.turn == turn]
        if turned:
            upright = [_to_reading_frame(g) for g in turned]
            back = {id(u): g for u, g in zip(upright, turned, strict=True)}
            lines.extend(TextLine([back[id(u)] for u in line.glyphs]) for line in _upright_lines(upright))
    return lines


def _to_reading_frame(g: Glyph) -> Glyph:
    """The glyph in coordinates where its text reads upright (its page box turned back)."""
    if g.turn == 90:
        return Glyph(g.text, g.top, g.bottom, -g.x1, -g.x0)
    if g.turn == 180:
        return Glyph(g.text, -g.x1, -g.x0, -g.bottom, -g.top)
    return Glyph(g.text, -g.bottom, -g.top, g.x0, g.x1)


def _upright_lines(glyphs: list[Glyph]) -> list[TextLine]:
    """Cluster upright glyphs into lines by vertical overlap, each sorted left to right."""
    rows: list[list[Glyph]] = []
    row_mid: list[float] = []
    for g in sorted(glyphs, key=lambda g: g.yc):
        if not g.text.strip():
            continue
        if rows and abs(g.yc - row_mid[-1]) <= max(g.size, MIN_EM) * LINE_OVERLAP_EM:
            rows[-1].append(g)
            n = len(rows[-1])
            row_mid[-1] += (g.yc - row_mid[-1]) / n
        else:
            rows.append([g])
            row_mid.append(g.yc)
    for row in rows:
        row.sort(key=lambda g: g.x0)
    return [TextLine(row) for row in rows]


def merge_rules(segments: list[tuple[float, float, float]]) -> list[Rule]:
    """Merge collinear, touching segments (pos, start, end) into rules sorted by position."""
    segments = sorted(segments)
    merged: list[list[float]] = []
    for pos, start, end in segments:
        target = None
        for m in reversed(merged):
            if pos - m[0] > RULE_SNAP:
                break
            if start <= m[2] + RULE_SNAP and end >= m[1] - RULE_SNAP:
                target = m
                break
        if target is None:
            merged.append([pos, start, end])
        else:
            target[1], target[2] = min(target[1], start), max(target[2], end)
    return sorted(
        (Rule(pos, start, end) for pos, start, end in merged if end - start >= MIN_RULE_LENGTH),
        key=lambda r: (r.pos, r.start),
    )


def split_fragments(line: TextLine, vrules: list[Rule], gap_ratio: float = FRAGMENT_GAP_EM) -> list[TextLine]:
    """Split a line where glyphs are far apart or a vertical rule runs between them."""
    # Rules (sorted by position) that reach the line's height; the test per glyph is then a bisect.
    near = [r for r in vrules if r.start - RULE_SNAP <= line.bottom and line.top <= r.end + RULE_SNAP]
    positions = [r.pos for r in near]
    parts = [[line.glyphs[0]]]
    for g in line.glyphs[1:]:
        prev = parts[-1][-1]
        gap = g.x0 - prev.x1
        between = near[bisect_right(positions, prev.xc) : bisect_left(positions, g.xc)]
        crosses = any(r.covers(g.yc) for r in between)
        if crosses or gap > gap_ratio * max(prev.size, g.size, MIN_EM):
            parts.append([g])
        else:
            parts[-1].append(g)
    return [TextLine(p) for p in parts]
