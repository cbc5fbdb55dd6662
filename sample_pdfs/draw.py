"""Draw laid-out pages with a reportlab canvas."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from reportlab.pdfgen import canvas

from .conditions import draw_page_text, end_page, start_page
from .layout import PAGE_H, PAGE_W, DrawnCell, layout_forms
from .order import text_order
from .style import Style
from .text import ensure_font

LINE_WIDTH = 0.5


def _segments(
    cell: DrawnCell, style: Style, width: tuple[float, float]
) -> list[tuple[float, float, float, float]]:
    """Border segments (x0, top, x1, bottom) of one cell, in top-down coordinates; `width` is the
    table's x extent on the page, for rules drawn across the whole table."""
    if not cell.border:
        return []
    x0, x1 = width if style.rules == "rows" else (cell.x0, cell.x1)
    top = (x0, cell.top, x1, cell.top)
    bottom = (x0, cell.bottom, x1, cell.bottom)
    if style.rules in ("hrules", "rows"):
        return [top, bottom]
    left = (cell.x0, cell.top, cell.x0, cell.bottom)
    right = (cell.x1, cell.top, cell.x1, cell.bottom)
    return [top, right, bottom, left]


def _draw_page(c: canvas.Canvas, cells: tuple[DrawnCell, ...], style: Style, page_no: int, font: str) -> None:
    start_page(c, style.conditions)
    c.setLineWidth(LINE_WIDTH)
    half = LINE_WIDTH / 2
    bordered = [cell for cell in cells if cell.border]
    width = (min((c.x0 for c in bordered), default=0.0), max((c.x1 for c in bordered), default=0.0))
    for cell in cells:
        for x0, y0, x1, y1 in _segments(cell, style, width):
            if style.rule_shape == "rect":
                c.rect(
                    x0 - half,
                    PAGE_H - y1 - half,
                    x1 - x0 + LINE_WIDTH,
                    y1 - y0 + LINE_WIDTH,
                    stroke=0,
                    fill=1,
                )
            else:
                c.line(x0, PAGE_H - y0, x1, PAGE_H - y1)
    draw_page_text(c, cells, text_order(cells, style, page_no), style, font, page_no)


def render_pdf(records: list[dict], path: str | Path | BinaryIO, style: Style, *, encrypt=None) -> None:
    """Render records as forms (each starting on a new page) in the given producer style.

    Output is byte-for-byte reproducible (invariant=1 fixes dates and the document id).
    `path` may be a binary file object; `encrypt` is passed to reportlab (bad-input samples).
    """
    ensure_font()
    target = str(path) if isinstance(path, str | Path) else path
    c = canvas.Canvas(target, pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1, encrypt=encrypt)
    c.setProducer(style.producer)
    c.setCreator(style.producer)
    c.setTitle("财政项目支出绩效自评表")
    pages = layout_forms(records, style)
    font = style.conditions.font([line.text for page in pages for cell in page.cells for line in cell.lines])
    for page_no, page in enumerate(pages):
        _draw_page(c, page.cells, style, page_no, font)
        c.showPage()
        end_page(c, style.conditions)
    c.save()
