"""What a person sees on a page: the painted glyphs sorted into the page's text and the glyphs set
aside, each with its reason (record.SET_ASIDE_REASONS).

- `invisible`: render mode 3/7 or a fully transparent fill — nothing is painted.
- `clipped`: the glyph's centre lies outside the clipping path (long cell text clipped to its cell)
  or outside the page's crop box.
- `watermark`: text turned at an angle that is not a multiple of 90° (a diagonal stamp); faint
  (light or translucent) text on a page printed in dark ink, or much larger than the body text;
  solid text far larger than the body text, or with a table rule running through it (`stamps`).
- `overprint`: the same glyph painted again a fraction of an em away (fake bold); one copy is kept.
- `page_furniture`: page numbers in the margins, and running headers and footers: margin text
  the next page prints at the same place (`set_aside_furniture`).

A page whose text is mostly turned (an upright form on a page with /Rotate, or a form printed
sideways) is turned back first, so the form reads upright and a glyph's `turn` is relative to it.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace
from statistics import median

from ..vocabulary import PAGE_NUMBER
from .layout import Glyph, PageLayout, Rule, TextLine
from .painting import PaintedGlyph, PaintedPage

SQUARE_ANGLE_TOLERANCE = 1.0  # degrees: text this close to a multiple of 90° reads square, not diagonal
WATERMARK_SIZE_RATIO = 1.8  # faint text this many times the body text's em size is a watermark
DARK_INK_SHARE = 0.2  # a page with at least this share of its text in dark ink is printed dark
STAMP_SIZE_RATIO = 3.0  # any text this many times the body text's size is a stamp (titles stay below)
OVERPRINT_EM = 0.3  # the same glyph painted again within this fraction of an em is fake bold
RULE_CROSSING_EM = 0.25  # a rule this far (em) inside a glyph's box on both sides runs through the glyph
FURNITURE_GAP_LINES = 1.5  # on an unruled page, margin text this many line heights clear of the body
RUNNING_POSITION_TOLERANCE = 2.0  # pt: a running header or footer is printed at the same place

Frame = tuple[float, float, float, float]  # x0, x1, top, bottom (pt)


def square_turn(angle: float) -> int | None:
    """The angle as 0/90/180/270 if it is one (within SQUARE_ANGLE_TOLERANCE), else None."""
    nearest = round(angle / 90.0) * 90
    if abs(angle - nearest) > SQUARE_ANGLE_TOLERANCE:
        return None
    return int(nearest) % 360


def _turn_box(box: Frame, turn: int, width: float, height: float) -> Frame:
    """A display box turned back by `turn` degrees (counter-clockwise), so that text turned by
    `turn` reads upright; the page's own width and height are given."""
    x0, x1, top, bottom = box
    if turn == 90:
        return (top, bottom, width - x1, width - x0)
    if turn == 180:
        return (width - x1, width - x0, height - bottom, height - top)
    if turn == 270:
        return (height - bottom, height - top, x0, x1)
    return box


class SortedPage:
    """The painted page as the form's reader sees it: width and height (pt) in the form's upright
    frame, visible glyphs, glyphs set aside with their reason, lines and rectangles."""

    def __init__(self, painted: PaintedPage):
        turns = [square_turn(g.angle) for g in painted.glyphs]
        seen = zip(painted.glyphs, turns, strict=True)
        counts = Counter(t for g, t in seen if t is not None and not g.hidden)
        page_turn = counts.most_common(1)[0][0] if counts else 0
        w, h = painted.width, painted.height
        self.width, self.height = (h, w) if page_turn in (90, 270) else (w, h)
        self.images = painted.images
        self.lines = [_turn_box(box, page_turn, w, h) for box in painted.lines]
        self.rects = [(*_turn_box(r[:4], page_turn, w, h), r[4]) for r in painted.rects]
        self.aside: list[tuple[Glyph, str]] = []
        self.clips: dict[int, Frame] = {}  # id of a clipped glyph → the clipping box that cut it
        candidates: list[tuple[Glyph, PaintedGlyph]] = []
        for g, turn in zip(painted.glyphs, turns, strict=True):
            if not g.text.strip():
                continue
            box = _turn_box((g.x0, g.x1, g.top, g.bottom), page_turn, w, h)
            glyph = Glyph(g.text, *box, (turn - page_turn) % 360 if turn is not None else 0)
            if g.hidden:
                self.aside.append((glyph, g.hidden))
                if g.clip is not None:
                    self.clips[id(glyph)] = _turn_box(g.clip, page_turn, w, h)
            elif turn is None:
                self.aside.append((glyph, "watermark"))
            else:
                on_dark = g.faint and any(
                    b[0] <= glyph.xc <= b[1] and b[2] <= glyph.yc <= b[3]
                    for b in (_turn_box(f, page_turn, w, h) for f in painted.dark_fills)
                )
                candidates.append((glyph, replace(g, faint=False) if on_dark else g))
        body = [g.size for g, p in candidates if not p.faint]
        big = WATERMARK_SIZE_RATIO * median(body) if body else float("inf")
        # Faint text on a page printed in dark ink is a watermark (also one tiled in body-sized
        # text); on a page printed faint throughout, only text far larger than the rest is.
        faint_is_mark = len(body) >= DARK_INK_SHARE * len(candidates)
        kept = []
        for glyph, p in candidates:
            if p.faint and (faint_is_mark or p.size >= big):
                self.aside.append((glyph, "watermark"))
            else:
                kept.append(glyph)
        self.glyphs = self._drop_overprint(kept)

    def _drop_overprint(self, glyphs: list[Glyph]) -> list[Glyph]:
        """One glyph of each fake-bold stack; the copies are set aside as `overprint`."""
        seen: dict[str, list[Glyph]] = {}
        kept = []
        for g in sorted(glyphs, key=lambda g: (g.top, g.x0)):
            tol = max(g.size, 1.0) * OVERPRINT_EM
            same = seen.setdefault(g.text, [])
            if any(
                abs(g.x0 - o.x0) < tol
                and abs(g.top - o.top) < tol
                and abs(g.size - o.size) < tol
                and g.turn == o.turn
                for o in same
            ):
                self.aside.append((g, "overprint"))
                continue
            same.append(g)
            kept.append(g)
        return kept


def crosses_a_rule(g: Glyph, hrules: list[Rule], vrules: list[Rule]) -> bool:
    """Whether a rule runs through the glyph's box (RULE_CROSSING_EM inside it on both sides):
    text inside a cell never does; a stamp drawn over the table does."""
    inset = RULE_CROSSING_EM * g.size
    return any(g.top + inset < r.pos < g.bottom - inset and r.covers(g.xc, 0.0) for r in hrules) or any(
        g.x0 + inset < r.pos < g.x1 - inset and r.covers(g.yc, 0.0) for r in vrules
    )


def stamps(glyphs: list[Glyph], hrules: list[Rule], vrules: list[Rule]) -> list[Glyph]:
    """Glyphs of a stamp or watermark drawn over the table in solid ink (faint ones are found by
    SortedPage): much larger than the page's body text with a table rule running through them, or
    larger still than any title."""
    if not glyphs:
        return []
    body = median(g.size for g in glyphs)
    return [
        g
        for g in glyphs
        if g.size >= STAMP_SIZE_RATIO * body
        or (g.size >= WATERMARK_SIZE_RATIO * body and crosses_a_rule(g, hrules, vrules))
    ]


@dataclass
class Margins:
    """A page's margin lines (where page furniture goes) and the top of its first form (its
    title block is never furniture), None when no form starts on the page."""

    page: PageLayout
    lines: list[TextLine]
    form_start: float | None

    def in_title_block(self, line: TextLine) -> bool:
        """Whether the line is in the form's title block, between the form's start and the table's
        first rule: never page furniture."""
        first_rule = min((r.pos for r in self.page.hrules), default=math.inf)
        return self.form_start is not None and line.top >= self.form_start and line.bottom <= first_rule


def margins_of(page: PageLayout, form_start: float | None) -> Margins:
    """Upright lines in the page's margins: above the table's first rule or below its last. A
    page without rules has only its first and last line there, and only when
    FURNITURE_GAP_LINES line heights clear of the rest."""
    upright = sorted((ln for ln in page.lines if ln.glyphs[0].turn == 0), key=lambda ln: ln.yc)
    ys = [r.pos for r in page.hrules] + [y for r in page.vrules for y in (r.start, r.end)]
    if ys:
        return Margins(page, [ln for ln in upright if ln.bottom <= min(ys) or ln.top >= max(ys)], form_start)
    out = []
    for i, line in enumerate(upright):
        gap = FURNITURE_GAP_LINES * (line.bottom - line.top)
        first = i == 0 and (len(upright) == 1 or upright[1].top - line.bottom >= gap)
        last = i == len(upright) - 1 and (i == 0 or line.top - upright[i - 1].bottom >= gap)
        if first or last:
            out.append(line)
    return Margins(page, out, form_start)


def _masked(text: str) -> str:
    return re.sub(r"\d+", "#", text)


def set_aside_furniture(current: Margins, previous: Margins | None) -> None:
    """Set aside the page furniture among a page's margin lines: page numbers, and text that the
    previous page prints at the same place (a running header or footer, page numbers masked),
    which is then set aside on the previous page too."""
    repeated, matched = [], []
    for line in current.lines:
        for other in previous.lines if previous else []:
            if (
                _masked(line.text) == _masked(other.text)
                and abs(line.yc - other.yc) <= RUNNING_POSITION_TOLERANCE
                and abs((line.x0 + line.x1) - (other.x0 + other.x1)) / 2 <= RUNNING_POSITION_TOLERANCE
            ):
                repeated.append(line)
                matched.append(other)
    _set_aside_lines(current, [ln for ln in current.lines if PAGE_NUMBER.match(ln.text)] + repeated)
    if previous is not None:
        _set_aside_lines(previous, matched)


def _set_aside_lines(margins: Margins, lines: list[TextLine]) -> None:
    page = margins.page
    still = {id(g) for g in page.glyphs}
    glyphs = {id(g): g for ln in lines if not margins.in_title_block(ln) for g in ln.glyphs if id(g) in still}
    if glyphs:
        page.set_aside(list(glyphs.values()), "page_furniture")
