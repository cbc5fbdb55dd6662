"""Page geometry: glyphs, text lines and ruling segments, independent of content-stream order.

Everything here is pure: a `PageLayout` is built from plain tuples so it can outlive the pdfplumber
page it came from (pages are released as soon as they are read).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

RULE_SNAP = 1.5  # ruling endpoints closer than this (pt) are the same line
MIN_RULE_LENGTH = 4.0  # shorter strokes are decoration, not cell borders


@dataclass(frozen=True)
class Glyph:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float

    @property
    def xc(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def yc(self) -> float:
        return (self.top + self.bottom) / 2

    @property
    def size(self) -> float:
        return self.bottom - self.top


@dataclass(frozen=True)
class Rule:
    """A horizontal (y fixed, x0..x1) or vertical (x fixed, y0..y1 as x0..x1) ruling segment."""

    pos: float
    start: float
    end: float

    def covers(self, v: float, tol: float = RULE_SNAP) -> bool:
        return self.start - tol <= v <= self.end + tol


@dataclass
class TextLine:
    glyphs: list[Glyph]

    @property
    def text(self) -> str:
        return "".join(g.text for g in self.glyphs)

    @property
    def x0(self) -> float:
        return self.glyphs[0].x0

    @property
    def x1(self) -> float:
        return max(g.x1 for g in self.glyphs)

    @property
    def top(self) -> float:
        return min(g.top for g in self.glyphs)

    @property
    def bottom(self) -> float:
        return max(g.bottom for g in self.glyphs)

    @property
    def yc(self) -> float:
        return (self.top + self.bottom) / 2

    def find(self, pattern: str | re.Pattern) -> list[tuple[float, float, re.Match]]:
        """x-spans of regex matches in the line's text (whitespace already dropped)."""
        text = self.text
        return [
            (self.glyphs[m.start()].x0, self.glyphs[m.end() - 1].x1, m) for m in re.finditer(pattern, text)
        ]


@dataclass
class PageLayout:
    number: int  # 1-based
    width: float
    height: float
    glyphs: list[Glyph]  # sorted by (top, x0)
    hrules: list[Rule]  # horizontal, merged, sorted by pos
    vrules: list[Rule]  # vertical, merged, sorted by pos
    hsegments: list[Rule] = field(default_factory=list)  # horizontal strokes as drawn (cell borders)
    has_images: bool = False
    lines: list[TextLine] = field(default_factory=list)

    def __post_init__(self):
        if not self.lines:
            self.lines = group_lines(self.glyphs)
        self._tops = [g.top for g in self.glyphs]

    def glyphs_in(self, x0: float, x1: float, top: float, bottom: float) -> list[Glyph]:
        """Glyphs whose centre lies inside the box."""
        lo = bisect_left(self._tops, top - 50)
        hi = bisect_right(self._tops, bottom)
        return [g for g in self.glyphs[lo:hi] if x0 <= g.xc < x1 and top <= g.yc < bottom]

    def lines_in(self, top: float, bottom: float) -> list[TextLine]:
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
    """Cluster glyphs into visual lines by vertical overlap, each sorted left to right.

    Duplicate glyphs (fake bold drawn twice) are dropped; whitespace glyphs are dropped because the
    forms never need spaces and producers put them anywhere.
    """
    rows: list[list[Glyph]] = []
    row_mid: list[float] = []
    for g in sorted(glyphs, key=lambda g: g.yc):
        if not g.text.strip():
            continue
        if rows and abs(g.yc - row_mid[-1]) <= max(g.size, 1.0) * 0.45:
            rows[-1].append(g)
            n = len(rows[-1])
            row_mid[-1] += (g.yc - row_mid[-1]) / n
        else:
            rows.append([g])
            row_mid.append(g.yc)
    lines = []
    for row in rows:
        row.sort(key=lambda g: g.x0)
        kept = [row[0]]
        for g in row[1:]:
            prev = kept[-1]
            if g.text == prev.text and abs(g.x0 - prev.x0) < max(prev.size, 1.0) * 0.3:
                continue
            kept.append(g)
        lines.append(TextLine(kept))
    return lines


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


def split_fragments(line: TextLine, vrules: list[Rule], gap_ratio: float = 0.6) -> list[TextLine]:
    """Split a line where glyphs are far apart or a vertical rule runs between them."""
    parts = [[line.glyphs[0]]]
    for g in line.glyphs[1:]:
        prev = parts[-1][-1]
        gap = g.x0 - prev.x1
        crosses = any(prev.xc < r.pos < g.xc and r.covers(g.yc) for r in vrules)
        if crosses or gap > gap_ratio * max(prev.size, g.size, 1.0):
            parts.append([g])
        else:
            parts[-1].append(g)
    return [TextLine(p) for p in parts]
