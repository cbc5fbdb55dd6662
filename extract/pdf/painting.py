"""What a page paints: every glyph and ruling stroke of its content stream, with what decides
whether a person sees a glyph — the clipping path, the text render mode, the fill opacity, the
direction the glyph is turned — which pdfminer's own layout device does not keep.

pdfminer's interpreter runs the content stream (fonts, text positioning, form XObjects); this
module adds a graphics state that also tracks the clip box and the fill alpha, and a lean device
that records glyphs and strokes as plain tuples (no layout objects: it is the hot loop of reading).

Coordinates of a `PaintedPage` are display points (pt) from the top-left corner of the page as a
viewer shows it (after /Rotate), like pdfplumber's. Clip boxes are axis-aligned bounding boxes of
the clipping paths (a clip that is not a rectangle is taken as its bounding box).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from pdfminer.pdfcolor import PDFColorSpace
from pdfminer.pdfdevice import PDFTextDevice, PDFTextSeq
from pdfminer.pdffont import PDFFont, PDFUnicodeNotDefined
from pdfminer.pdfinterp import (
    Color,
    PDFGraphicState,
    PDFPageInterpreter,
    PDFResourceManager,
    PDFStackT,
    PDFTextState,
)
from pdfminer.pdfpage import PDFPage
from pdfminer.pdftypes import PDFStream, dict_value, resolve1
from pdfminer.psparser import literal_name
from pdfminer.utils import Matrix, PathSegment, Point, apply_matrix_pt, apply_matrix_rect
from pdfplumber.page import Page

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in pdfminer's device space (y upwards)

# Text render modes (Tr) that paint nothing: 3 = neither fill nor stroke, 7 = add to clip only.
INVISIBLE_RENDER_MODES = frozenset({3, 7})
UNMAPPED = re.compile(r"\(cid:\d+\)")  # the text pdfminer gives a glyph its font maps to no character


class _State(PDFGraphicState):
    """pdfminer's graphics state plus the clip box, the fill alpha (/ca) and the render mode."""

    def __init__(self) -> None:
        super().__init__()
        self.clip: Box | None = None
        self.fill_alpha = 1.0
        self.render = 0

    def copy(self) -> _State:
        obj = _State.__new__(_State)
        obj.__dict__.update(self.__dict__)
        return obj


def _intersect(a: Box | None, b: Box) -> Box:
    if a is None:
        return b
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


class _Interpreter(PDFPageInterpreter):
    """Tracks the clip box (W, W*) and the fill alpha (gs /ca) in the graphics state, and hands the
    state on to form XObjects (pdfminer starts them from a blank state)."""

    inherited: _State | None = None
    graphicstate: _State  # init_state and subinterp put a _State where pdfminer has its own

    def init_state(self, ctm: Matrix) -> None:
        super().init_state(ctm)
        if self.inherited is not None:
            self.graphicstate = self.inherited.copy()
        else:
            self.graphicstate = _State()
            self.graphicstate.clip = getattr(self.device, "visible", None)

    def subinterp(self) -> PDFPageInterpreter:
        interp = super().subinterp()
        assert isinstance(interp, _Interpreter)
        interp.inherited = self.graphicstate.copy()
        return interp

    def _clip(self) -> None:
        points = [
            apply_matrix_pt(self.ctm, (float(seg[i]), float(seg[i + 1])))
            for seg in self.curpath
            for i in range(1, len(seg) - 1, 2)
        ]
        if points:
            xs, ys = [p[0] for p in points], [p[1] for p in points]
            state = self.graphicstate
            state.clip = _intersect(state.clip, (min(xs), min(ys), max(xs), max(ys)))

    def do_W(self) -> None:
        self._clip()

    def do_W_a(self) -> None:
        self._clip()

    def do_gs(self, name: PDFStackT) -> None:
        try:
            states = dict_value(self.resources.get("ExtGState"))
            params = dict_value(states[literal_name(name)])
            alpha = resolve1(params.get("ca"))
        except Exception:  # noqa: BLE001 - a broken ExtGState changes nothing visible we track
            return
        if isinstance(alpha, int | float):
            self.graphicstate.fill_alpha = float(alpha)


@dataclass(frozen=True, slots=True)
class PaintedGlyph:
    """One glyph as painted: its text, box (display pt), reading direction and visibility.

    `angle` is the reading direction in degrees clockwise on the display (0 = upright, 90 = turned
    to read downwards); `size` the em size (pt); `hidden` is "invisible" (render mode 3/7 or fully
    transparent) or "clipped" (centre outside the clipping path or the page's crop box), else None;
    `faint` says the fill is light or translucent (what watermarks use); `clip` is the clipping
    box (x0, x1, top, bottom, display pt) a clipped glyph was cut by."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    angle: float
    size: float
    hidden: str | None
    faint: bool
    clip: tuple[float, float, float, float] | None = None


@dataclass
class PaintedPage:
    """What one page paints: its display size (pt), every glyph, and its straight strokes."""

    width: float
    height: float
    glyphs: list[PaintedGlyph] = field(default_factory=list)
    # Straight strokes as (x0, x1, top, bottom, outlined): lines, and rectangles (outlined when
    # stroked, so their four sides are rules; filled thin ones are rules themselves).
    lines: list[tuple[float, float, float, float]] = field(default_factory=list)
    rects: list[tuple[float, float, float, float, bool]] = field(default_factory=list)
    images: int = 0
    # Boxes (x0, x1, top, bottom) filled in dark ink: light text on them is seen, not faint.
    dark_fills: list[tuple[float, float, float, float]] = field(default_factory=list)


FAINT_ALPHA = 0.6  # fill opacity (/ca) below which text reads as a watermark's, not the form's
FAINT_LIGHTNESS = 0.6  # fill lightness (0 black .. 1 white) above which text is a light tint
DARK_FILL_LIGHTNESS = 0.5  # a filled box darker than this is a background light text shows on
LUMA = (0.299, 0.587, 0.114)  # weights of red, green and blue in a colour's lightness (ITU-R BT.601)


def _lightness(color: Color) -> float:
    """Lightness 0..1 of a fill colour in DeviceGray, DeviceRGB or DeviceCMYK (else 0: dark)."""
    values = color if isinstance(color, tuple | list) else (color,)
    v = [float(c) for c in values if isinstance(c, int | float)]
    if len(v) < len(values):  # a pattern (its name, or a base colour with its name)
        return 0.0
    if len(v) == 1:
        return v[0]
    if len(v) == 3:
        return LUMA[0] * v[0] + LUMA[1] * v[1] + LUMA[2] * v[2]
    if len(v) == 4:
        return (
            (1 - min(1.0, v[0] + v[3])) * LUMA[0]
            + (1 - min(1.0, v[1] + v[3])) * LUMA[1]
            + (1 - min(1.0, v[2] + v[3])) * LUMA[2]
        )
    return 0.0


class _Device(PDFTextDevice):
    """Records glyphs and strokes in device space; `finish` turns them into a PaintedPage."""

    def __init__(self, rsrcmgr: PDFResourceManager, visible: Box, height: float) -> None:
        super().__init__(rsrcmgr)
        self.visible = visible
        self.height = height
        self.glyphs: list[PaintedGlyph] = []
        self.lines: list[tuple[float, float, float, float]] = []
        self.rects: list[tuple[float, float, float, float, bool]] = []
        self.dark_fills: list[tuple[float, float, float, float]] = []
        self.images = 0

    def render_string(
        self, textstate: PDFTextState, seq: PDFTextSeq, ncs: PDFColorSpace, graphicstate: PDFGraphicState
    ) -> None:
        # The interpreter hands the device a copy of its own graphics state (a _State), made for
        # this string alone.
        cast(_State, graphicstate).render = textstate.render
        super().render_string(textstate, seq, ncs, graphicstate)

    def render_char(
        self,
        matrix: Matrix,
        font: PDFFont,
        fontsize: float,
        scaling: float,
        rise: float,
        cid: int,
        ncs: PDFColorSpace,
        graphicstate: PDFGraphicState,
    ) -> float:
        try:
            text = font.to_unichr(cid)
        except PDFUnicodeNotDefined:
            text = f"(cid:{cid})"  # as pdfminer writes it (UNMAPPED)
        adv = font.char_width(cid) * fontsize * scaling
        # The glyph box as pdfminer's LTChar computes it.
        if font.is_vertical():
            disp = font.char_disp(cid)
            assert isinstance(disp, tuple)  # a vertical font's displacement is a pair, as in LTChar
            vx, vy = disp
            vx = fontsize * 0.5 if vx is None else vx * fontsize * 0.001
            vy = (1000 - vy) * fontsize * 0.001
            bbox = (-vx, vy + rise + adv, -vx + fontsize, vy + rise)
        else:
            descent = font.get_descent() * fontsize
            bbox = (0, descent + rise, adv, descent + rise + fontsize)
        x0, y0, x1, y1 = apply_matrix_rect(matrix, bbox)
        x0, x1 = min(x0, x1), max(x0, x1)
        y0, y1 = min(y0, y1), max(y0, y1)
        a, b, c, d = matrix[:4]
        state = cast(_State, graphicstate)  # as in render_string
        hidden, cut = None, None
        if state.render in INVISIBLE_RENDER_MODES or state.fill_alpha <= 0.0:
            hidden = "invisible"
        elif state.clip is not None:
            cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
            clip = state.clip
            if not (clip[0] <= cx <= clip[2] and clip[1] <= cy <= clip[3]):
                hidden, cut = "clipped", (clip[0], clip[2], self.height - clip[3], self.height - clip[1])
        faint = state.fill_alpha < FAINT_ALPHA or _lightness(state.ncolor) > FAINT_LIGHTNESS
        self.glyphs.append(
            PaintedGlyph(
                text,
                x0,
                x1,
                self.height - y1,
                self.height - y0,
                math.degrees(math.atan2(-b, a)) % 360.0,
                fontsize * math.hypot(c, d),
                hidden,
                faint,
                cut,
            )
        )
        return adv

    def render_image(self, name: str, stream: PDFStream) -> None:
        self.images += 1

    def paint_path(
        self,
        gstate: PDFGraphicState,
        stroke: bool,
        fill: bool,
        evenodd: bool,
        path: Sequence[PathSegment],
    ) -> None:
        """Straight segments and rectangles, as pdfminer's layout device classifies them."""
        shape = "".join(seg[0] for seg in path)
        if shape.count("m") > 1:
            for m in re.finditer(r"m[^m]+", shape):
                self.paint_path(gstate, stroke, fill, evenodd, path[m.start() : m.end()])
            return
        if not shape.startswith("m"):
            return
        assert self.ctm is not None  # set by begin_page, as pdfminer's own devices assume
        pts = [apply_matrix_pt(self.ctm, _last_point(path[0] if seg[0] == "h" else seg)) for seg in path]
        if len(shape) > 3 and shape[-2:] == "lh" and pts[-2] == pts[0]:
            shape, pts = shape[:-2] + "h", pts[:-1]
        h = self.height
        if shape in ("ml", "mlh"):
            (xa, ya), (xb, yb) = pts[0], pts[1]
            self.lines.append((min(xa, xb), max(xa, xb), h - max(ya, yb), h - min(ya, yb)))
        elif shape in ("mlllh", "mllll"):
            (xa, ya), (xb, yb), (xc, yc), (xd, yd), _ = pts
            closed = pts[0] == pts[4]
            square = (xa == xb and yb == yc and xc == xd and yd == ya) or (
                ya == yb and xb == xc and yc == yd and xd == xa
            )
            if closed and square:
                box = (min(xa, xc), max(xa, xc), h - max(ya, yc), h - min(ya, yc))
                self.rects.append((*box, bool(stroke)))
                if fill and _lightness(gstate.ncolor) < DARK_FILL_LIGHTNESS:
                    self.dark_fills.append(box)


def _last_point(seg: PathSegment) -> Point:
    """A path segment's last point (x, y): pdfminer's segments are (operator, x1, y1, …, x, y); "h"
    (close the path) has none — its caller takes the path's start instead."""
    if len(seg) < 3:
        raise ValueError(f"path segment {seg[0]!r} has no point")
    return float(seg[-2]), float(seg[-1])


def paint_page(page: Page) -> PaintedPage:
    """Run one pdfplumber page's content stream; raises what pdfminer raises on a broken page."""
    page_obj = page.page_obj
    ctm = _page_ctm(page_obj)
    x0, y0, x1, y1 = apply_matrix_rect(ctm, page_obj.mediabox)
    width, height = x1 - x0, y1 - y0
    visible = apply_matrix_rect(ctm, page_obj.cropbox)  # what a viewer shows of the page
    device = _Device(page.pdf.rsrcmgr, visible, height)
    _Interpreter(page.pdf.rsrcmgr, device).process_page(page_obj)
    return PaintedPage(
        width, height, device.glyphs, device.lines, device.rects, device.images, device.dark_fills
    )


def _page_ctm(page_obj: PDFPage) -> Matrix:
    """The matrix pdfminer's process_page starts from: mediabox origin to (0, 0), then /Rotate."""
    x0, y0, x1, y1 = page_obj.mediabox
    rotate = page_obj.rotate % 360
    if rotate == 90:
        return (0, -1, 1, 0, -y0, x1)
    if rotate == 180:
        return (-1, 0, 0, -1, x1, y1)
    if rotate == 270:
        return (0, 1, -1, 0, y1, -x0)
    return (1, 0, 0, 1, -x0, -y0)
