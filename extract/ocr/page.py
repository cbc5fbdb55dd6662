"""A scanned page as the geometry reader's input: a `PageLayout` of glyphs (one per recognised
character, with its confidence) and rules (from the image's ruling), in the page's points.

Two sources of glyphs over a scan:
- `ocr_layout`: the page has no text at all, only an image: its characters are recognised (OCR);
- `text_layer_layout`: a scanner's software has laid an invisible text layer (render mode 3) over
  the image: that layer is the page's content when it is trustworthy (`trusted_layer`), read with
  the rules found in the image. Otherwise the image is recognised as if the layer were not there.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from pdfplumber.page import Page

from ..pdf.layout import MIN_RULE_LENGTH, Glyph, PageLayout, Rule, merge_rules
from ..pdf.painting import UNMAPPED, PaintedGlyph, PaintedPage
from . import engine
from .image import (
    OCR_DPI,
    Box,
    ScanPage,
    Segment,
    binarise,
    erase,
    rule_masks,
    side_gaps,
    straighten,
    table_rules,
    text_boxes,
    text_height,
    unread_ink,
)

UNREAD = "\ufffd"  # the text of a glyph standing for ink the recogniser read no character from
OPENING, CLOSING = "(（", ")）"  # half-width, full-width: a scan shows the width only by spacing
FULL_WIDTH_SIDE_EM = 0.35  # an opening bracket this much further from the text before than after is （
HALF_WIDTH_SIDE_EM = 0.2  # ... one with blanks this close to even is (
SCAN_COVERAGE = 0.85  # an image over at least this share of the page is the page itself (a scan)
RED_INK = 60  # a pixel this much redder than green and blue is a seal's ink, not the form's
LAYER_RULE_CROSSINGS = 0.05  # a text layer with more of its glyphs crossing a rule is misplaced


def covered_by_image(page: Page) -> bool:
    """Whether one image of the pdfplumber page covers SCAN_COVERAGE of it (a scanned sheet)."""
    area = float(page.width * page.height) or 1.0
    for im in page.images:
        w = min(im["x1"], page.width) - max(im["x0"], 0)
        h = min(im["bottom"], page.height) - max(im["top"], 0)
        if w > 0 and h > 0 and w * h >= SCAN_COVERAGE * area:
            return True
    return False


def page_image(page: Page, dpi: int = OCR_DPI) -> ScanPage:
    """The pdfplumber page rasterised at `dpi` (pypdfium2, through pdfplumber), red seal ink
    whitened (a 盖章 seal stamped over the 实施单位 cell is no text of the form), greyscale,
    straightened. Sizes in pt are the page's display size."""
    rgb = np.asarray(page.to_image(resolution=dpi, antialias=True).original.convert("RGB"), dtype=np.int16)
    red = (rgb[..., 0] - np.maximum(rgb[..., 1], rgb[..., 2])) > RED_INK
    grey = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.uint8)
    grey[red] = 255
    return straighten(grey, float(page.width), float(page.height))


def _rules(scan: ScanPage) -> tuple[list[Segment], list[Segment], list[np.ndarray]]:
    """Horizontal and vertical rule segments (pos, start, end) in pt, and their masks (px)."""
    ppt = scan.px_per_pt
    h_px, v_px, masks = table_rules(*rule_masks(binarise(scan.image), ppt), ppt)
    h = [(a / ppt, b / ppt, c / ppt) for a, b, c in h_px]
    v = [(a / ppt, b / ppt, c / ppt) for a, b, c in v_px]
    return h, v, masks


def _layout(
    number: int, scan: ScanPage, glyphs: list[Glyph], h_raw: list[Segment], v_raw: list[Segment]
) -> PageLayout:
    return PageLayout(
        number=number,
        width=scan.width,
        height=scan.height,
        glyphs=sorted(glyphs, key=lambda g: (g.top, g.x0)),
        hrules=merge_rules(h_raw),
        vrules=merge_rules(v_raw),
        hsegments=[Rule(*s) for s in h_raw if s[2] - s[1] >= MIN_RULE_LENGTH],
        has_images=True,
        ocr=True,
    )


def ocr_layout(page: Page, number: int) -> PageLayout:
    """The scanned pdfplumber page read by OCR: the rules from the image's ruling, the glyphs
    from the characters recognised on the image with its ruling erased (a rule beside text
    would be read as 一, _ or 1 into its value), each with the recogniser's confidence. The
    engine reads text pieces (`image.text_boxes`: cut at blank rows, vertical rules and wide
    blanks), never a line across two cells, and never an empty cell; brackets get their width
    from the ink (`_brackets`). Raises ReadError("image_only") when no OCR engine is installed."""
    scan = page_image(page)
    h_raw, v_raw, masks = _rules(scan)
    ppt = scan.px_per_pt
    bare = erase(scan.image, masks, ppt)
    ink = binarise(bare)
    em = text_height(ink, ppt)
    pieces = text_boxes(ink, masks[1], em)
    chars = [
        c
        for box, line in zip(pieces, engine.recognise(bare, pieces, em), strict=True)
        for c in _brackets(line, ink, masks[1], box, em)
    ]
    if not chars:  # a picture, or a scan too poor to read: no text (the file's error says so)
        return _layout(number, scan, [], h_raw, v_raw)
    glyphs = [
        Glyph(c.text, c.x0 / ppt, c.x1 / ppt, c.top / ppt, c.bottom / ppt, confidence=c.confidence)
        for c in chars
    ]
    # Ink no recognised character covers is text the recogniser missed: it is kept as an
    # unreadable glyph (U+FFFD, confidence 0), so the field it lies in is uncertain, not short.
    read = [(c.x0, c.x1, c.top, c.bottom) for c in chars]
    for x0, x1, top, bottom in unread_ink(bare, read, ppt):
        glyphs.append(Glyph(UNREAD, x0 / ppt, x1 / ppt, top / ppt, bottom / ppt, confidence=0.0))
    return _layout(number, scan, glyphs, h_raw, v_raw)


def _brackets(
    line: list[engine.OcrChar], ink: np.ndarray, v_mask: np.ndarray, box: Box, em: float
) -> list[engine.OcrChar]:
    """A piece's characters with each bracket's width read from how its stroke sits in its
    advance, not from its shape (( and （ print alike; both occur in forms' names): an opening
    （ has a wide blank before its stroke and a narrow one after (FULL_WIDTH_SIDE_EM apart), a (
    about even ones (HALF_WIDTH_SIDE_EM); a closing bracket takes its opening one's width. A
    bracket whose width is not seen so carries no confidence (its field is uncertain)."""
    out, width = [], None
    for c in line:
        if len(c.text) > 1 and set(c.text) & set(OPENING + CLOSING):  # a word's box: not measured
            c = dataclasses.replace(c, confidence=0.0)
        elif c.text in OPENING or c.text in CLOSING:
            if c.text in OPENING:
                before, after = side_gaps(ink, v_mask, box, (c.x0 + c.x1) / 2, em)
                width = None
                if before is not None and after is not None:
                    if before - after >= FULL_WIDTH_SIDE_EM:
                        width = 1
                    elif abs(before - after) <= HALF_WIDTH_SIDE_EM:
                        width = 0
            pair = OPENING if c.text in OPENING else CLOSING
            text, confidence = (pair[width], c.confidence) if width is not None else (c.text, 0.0)
            c = dataclasses.replace(c, text=text, confidence=confidence)
        out.append(c)
    return out


def trusted_layer(glyphs: list[Glyph], layout: PageLayout) -> bool:
    """Whether an invisible text layer can stand for the scan under it: it has text, its fonts
    map every glyph to a character, and it lies where the image's cells are (few of its glyphs
    have a rule of the image running through them: a layer from another page or shifted off its
    image would)."""
    if not glyphs or any(UNMAPPED.fullmatch(g.text) or g.text == UNREAD for g in glyphs):
        return False
    from ..pdf.visibility import crosses_a_rule

    crossing = sum(crosses_a_rule(g, layout.hrules, layout.vrules) for g in glyphs)
    return crossing <= LAYER_RULE_CROSSINGS * len(glyphs)


def layer_layout(page: Page, painted: PaintedPage, number: int) -> PageLayout:
    """A scan under an invisible text layer as the layer's glyphs (display pt, moved with the
    image as it was straightened) and the rules found in the image."""
    scan = page_image(page)
    h_raw, v_raw, _ = _rules(scan)
    glyphs = [_turned(g, scan) for g in painted.glyphs if g.text.strip()]
    return _layout(number, scan, glyphs, h_raw, v_raw)


def text_layer_layout(page: Page, painted: PaintedPage, number: int) -> PageLayout:
    """A scan under an invisible text layer: `layer_layout` when `trusted_layer`, else the page
    read by OCR (`ocr_layout`). The layer carries no confidence of its own: its glyphs count as
    certain, and the form's checks and glyph accounting are what catch a misrecognised layer."""
    layout = layer_layout(page, painted, number)
    return layout if trusted_layer(layout.glyphs, layout) else ocr_layout(page, number)


def scan_layout(page: Page, painted: PaintedPage, number: int) -> PageLayout:
    """A scanned page (`is_scan`): from its invisible text layer when the page is one image under
    it, else by OCR."""
    if painted.glyphs and covered_by_image(page):
        return text_layer_layout(page, painted, number)
    return ocr_layout(page, number)


def _turned(g: PaintedGlyph, scan: ScanPage) -> Glyph:
    """A text layer's glyph moved with its image as `straighten` turned it (about the centre)."""
    angle = math.radians(-scan.skew)
    cx, cy = scan.width / 2, scan.height / 2
    gx, gy = (g.x0 + g.x1) / 2 - cx, (g.top + g.bottom) / 2 - cy
    dx = gx * math.cos(angle) - gy * math.sin(angle) + cx - (g.x0 + g.x1) / 2
    dy = gx * math.sin(angle) + gy * math.cos(angle) + cy - (g.top + g.bottom) / 2
    return Glyph(g.text, g.x0 + dx, g.x1 + dx, g.top + dy, g.bottom + dy)
