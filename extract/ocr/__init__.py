"""Scanned pages: the page image → straightened → ruling by morphology → recognised text boxes
with confidence → the same glyphs and rules (pt) the vector reader builds from a PDF's content
stream, so one geometry reader (extract/pdf) reads both. See `page.ocr_layout`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..pdf.painting import PaintedPage

# A glyph recognised with a lower probability than this makes the field it is read into
# uncertain (Record.uncertain_fields). On the 200 dpi scan of sample form jd-01, 11 of 905
# characters scored under it, among them the misreads (门 read as 内 at 0.34); misreads that
# score above it are left to the form's arithmetic checks.
CONFIDENCE_MIN = 0.9


def is_scan(painted: PaintedPage) -> bool:
    """Whether a painted page (pdf.painting.PaintedPage) is a scan: it paints an image and no
    visible text (every glyph it has, if any, is invisible: a scanner's OCR text layer)."""
    return painted.images > 0 and all(g.hidden == "invisible" for g in painted.glyphs)
