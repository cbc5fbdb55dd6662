"""Conditions of published PDFs, drawn over an ordinary form: what a person sees on the page differs
from what the content stream holds, or the page is turned, or the font cannot say what its glyphs
are. Each is off by default (`Conditions()`); a Style carries one `Conditions` (`style.conditions`).

- a watermark: large text across every page, at an angle, light or translucent;
- page furniture: a page number and a running header or footer in the margins of every page;
- long cell text drawn on one line and clipped to its cell (glyphs outside the clipping path);
- invisible text (render mode 3) in the indicator rows' value cells;
- 一级指标 names printed turned 90° or 270° in their merged cells;
- every page with a /Rotate, the form upright in its content;
- a font whose ToUnicode map leaves out some characters (they extract as "(cid:N)");
- a MediaBox whose origin is not (0, 0);
- a note in the 总分 row's blank cell, text the form has no field for.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.cidfonts import CIDFontInfo, UnicodeCIDFont, structToPDF
from reportlab.pdfgen import canvas

from .text import FONT, ensure_font, text_width, wrap

if TYPE_CHECKING:
    from .layout import DrawnCell, TextLine
    from .style import Style

HIDDEN_TEXT_GROUPS = ("ind.c3", "ind.c4")  # 年度指标值 and 实际完成值 cells get the invisible text


@dataclass(frozen=True)
class Conditions:
    """The conditions drawn over a form (all off by default); sizes and offsets in pt."""

    watermark: str = ""  # text drawn across every page, centred
    watermark_angle: float = 35.0  # degrees counter-clockwise
    watermark_gray: float = 0.8  # fill gray (0 black .. 1 white)
    watermark_alpha: float = 1.0  # fill opacity (/ca)
    watermark_size: float = 42.0  # pt
    page_number: str = ""  # format of a page number, e.g. "- {n} -" or "第{n}页"
    page_number_at: Literal["top", "bottom"] = "bottom"
    running_header: str = ""  # text in the top margin of every page
    running_footer: str = ""  # text in the bottom margin of every page
    clip_groups: tuple[str, ...] = ()  # cell groups (e.g. "ind.c2") whose wrapped text is one clipped line
    hidden_text: str = ""  # drawn with render mode 3 after the text of HIDDEN_TEXT_GROUPS cells
    level1_turn: Literal[0, 90, 270] = 0  # 一级指标 names turned clockwise by this many degrees
    page_rotation: Literal[0, 90, 180, 270] = 0  # the /Rotate of every page
    unmapped: str = ""  # characters the font's ToUnicode map leaves out
    media_origin: float = 0.0  # y (pt) of the MediaBox's lower-left corner, the form shifted with it
    total_note: str = ""  # text in the 总分 row's blank last cell, where the form has no field

    def font(self, texts: list[str]) -> str:
        """The font to draw with: the built-in CID font, or, when characters are to be unmapped,
        the same font with a ToUnicode map covering the characters of `texts` but those."""
        if not self.unmapped:
            return ensure_font()
        mapped = frozenset("".join(texts)) - frozenset(self.unmapped)
        digest = hashlib.sha1("".join(sorted(mapped)).encode()).hexdigest()[:12]
        name = f"{FONT}-partial-{digest}"
        if name not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(PartlyMappedFont(name, mapped))
        return name


def start_page(c: canvas.Canvas, cond: Conditions) -> None:
    """Before a page is drawn: its /Rotate, and the shift that puts the form inside a MediaBox
    whose origin is not (0, 0)."""
    from .layout import PAGE_H, PAGE_W

    if cond.page_rotation:
        c.setPageRotation(cond.page_rotation)
        if cond.page_rotation in (90, 270):  # reportlab swaps the MediaBox of a page turned so
            c.setPageSize((PAGE_H, PAGE_W))
    if cond.media_origin:
        c.translate(0, cond.media_origin)


def end_page(c: canvas.Canvas, cond: Conditions) -> None:
    """After a page is shown: its MediaBox moved to start at (0, media_origin)."""
    from .layout import PAGE_H, PAGE_W

    if cond.media_origin:
        page = c._doc.Pages.pages[-1]  # reportlab writes the box when the document is saved
        page.MediaBox = pdfdoc.PDFArray([0, cond.media_origin, PAGE_W, PAGE_H + cond.media_origin])


MARGIN_TEXT_SIZE = 9.0  # pt, page numbers and running headers
MARGIN_OFFSET = 18.0  # pt from the page edge to the margin text's baseline


def draw_page_text(
    c: canvas.Canvas,
    cells: tuple[DrawnCell, ...],
    lines: list[TextLine],
    style: Style,
    font: str,
    page_no: int,
) -> None:
    """Draw the page's text lines (in the producer's order) and the conditions over them."""
    from .layout import PAGE_H, PAGE_W

    cond = style.conditions
    cell_of = {id(line): cell for cell in cells for line in cell.lines}
    done: set[int] = set()
    for line in lines:
        cell = cell_of.get(id(line))
        if cell is not None and cond.level1_turn and cell.group == "ind.c0" and cell.kind == "text":
            if id(cell) not in done:
                _draw_turned(c, cell, style, font, cond.level1_turn, PAGE_H)
                done.add(id(cell))
            continue
        if cell is not None and cell.group in cond.clip_groups and len(cell.lines) > 1:
            if id(cell) not in done:
                _draw_clipped(c, cell, font, PAGE_H)
                done.add(id(cell))
            continue
        c.setFont(font, line.size)
        c.drawString(line.x, PAGE_H - line.baseline, line.text)
        if (
            cond.hidden_text
            and cell is not None
            and cell.group in HIDDEN_TEXT_GROUPS
            and cell.kind != "header"
        ):
            c.saveState()  # the render mode is part of the graphics state: restored after
            text = c.beginText(line.x + text_width(line.text, line.size), PAGE_H - line.baseline)
            text.setFont(font, line.size)
            text.setTextRenderMode(3)
            text.textOut(cond.hidden_text)
            c.drawText(text)
            c.restoreState()
    if cond.total_note:
        _draw_total_note(c, cells, cond.total_note, font, style.font_size, PAGE_H)
    _draw_margins(c, cond, font, page_no, PAGE_W, PAGE_H)
    if cond.watermark:
        c.saveState()
        c.setFillGray(cond.watermark_gray)
        if cond.watermark_alpha < 1.0:
            c.setFillAlpha(cond.watermark_alpha)
        c.translate(PAGE_W / 2, PAGE_H / 2)
        c.rotate(cond.watermark_angle)
        c.setFont(font, cond.watermark_size)
        c.drawCentredString(0, -cond.watermark_size / 3, cond.watermark)
        c.restoreState()


def _draw_margins(c: canvas.Canvas, cond: Conditions, font: str, page_no: int, w: float, h: float) -> None:
    if cond.page_number or cond.running_header or cond.running_footer:
        c.setFont(font, MARGIN_TEXT_SIZE)
    if cond.page_number:
        y = MARGIN_OFFSET if cond.page_number_at == "bottom" else h - MARGIN_OFFSET
        c.drawCentredString(w / 2, y, cond.page_number.format(n=page_no + 1))
    if cond.running_header:
        y = h - MARGIN_OFFSET - (MARGIN_TEXT_SIZE * 1.5 if cond.page_number_at == "top" else 0)
        c.drawCentredString(w / 2, y, cond.running_header)
    if cond.running_footer:
        y = MARGIN_OFFSET + (MARGIN_TEXT_SIZE * 1.5 if cond.page_number_at == "bottom" else 0)
        c.drawCentredString(w / 2, y, cond.running_footer)


def _draw_total_note(
    c: canvas.Canvas, cells: tuple[DrawnCell, ...], note: str, font: str, size: float, page_h: float
) -> None:
    total = next(
        (x for x in cells if x.group == "totals.label" and x.lines and x.lines[0].text == "总分"), None
    )
    if total is None:
        return
    last = max((x for x in cells if abs(x.top - total.top) < 0.01), key=lambda x: x.x1)
    c.setFont(font, size)
    c.drawCentredString((last.x0 + last.x1) / 2, page_h - (last.top + last.bottom) / 2 - size / 3, note)


def _draw_clipped(c: canvas.Canvas, cell: DrawnCell, font: str, page_h: float) -> None:
    """The cell's wrapped text drawn as one line from its first line's start, clipped to the cell
    (as spreadsheet exports print text too long for its cell)."""
    first = cell.lines[0]
    c.saveState()
    path = c.beginPath()
    path.rect(cell.x0, page_h - cell.bottom, cell.x1 - cell.x0, cell.bottom - cell.top)
    c.clipPath(path, stroke=0, fill=0)
    c.setFont(font, first.size)
    c.drawString(first.x, page_h - first.baseline, "".join(line.text for line in cell.lines))
    c.restoreState()


def _draw_turned(
    c: canvas.Canvas, cell: DrawnCell, style: Style, font: str, turn: int, page_h: float
) -> None:
    """The cell's text turned clockwise by `turn` degrees, wrapped at the cell's height into
    columns that are centred in the cell."""
    if not cell.lines:
        return
    size = cell.lines[0].size
    text = "".join(line.text for line in cell.lines)
    columns = wrap(text, cell.bottom - cell.top - 2 * style.pad_y, size)
    pitch = size * style.leading
    xc, yc = (cell.x0 + cell.x1) / 2, page_h - (cell.top + cell.bottom) / 2
    c.saveState()
    c.translate(xc, yc)
    c.rotate(-turn)  # reportlab turns counter-clockwise
    c.setFont(font, size)
    for i, column in enumerate(columns):
        # Across the reading direction, columns stack downwards in the text's own frame.
        offset = (len(columns) - 1) / 2 * pitch - i * pitch
        c.drawCentredString(0, offset - size * 0.35, column)
    c.restoreState()


class PartlyMappedFont(UnicodeCIDFont):
    """The built-in CID font written with Identity-H codes (code = CID) and a ToUnicode map that
    covers only `mapped` characters: what an embedded subset font without a full ToUnicode map
    gives a reader (the others extract as "(cid:N)")."""

    def __init__(self, name: str, mapped: frozenset[str]):
        super().__init__(FONT)
        self.name = self.fontName = name
        from pdfminer.cmapdb import CMapDB

        self._ucs2 = CMapDB.get_cmap("UniGB-UCS2-H")
        self._mapped = mapped

    def _cids(self, text: str) -> list[int]:
        return list(self._ucs2.decode(text.encode("utf-16-be")))

    def formatForPdf(self, text) -> str:
        if isinstance(text, bytes):
            text = text.decode("utf8")
        return pdfdoc.escapePDF(b"".join(cid.to_bytes(2, "big") for cid in self._cids(text)))

    def addObjects(self, doc) -> None:
        internal = "F" + repr(len(doc.fontMapping) + 1)
        spec = copy.deepcopy(CIDFontInfo[self.face.name])
        spec["Name"] = "/" + internal
        spec["Encoding"] = "/Identity-H"
        font = structToPDF(spec)
        font.dict["ToUnicode"] = doc.Reference(pdfdoc.PDFStream(content=self._to_unicode()))
        doc.idToObject["BasicFonts"].dict[internal] = doc.Reference(font, internal)
        doc.fontMapping[self.name] = "/" + internal

    def _to_unicode(self) -> str:
        pairs = sorted((cid, ch) for ch in self._mapped for cid in self._cids(ch)[:1])
        blocks = [pairs[i : i + 100] for i in range(0, len(pairs), 100)]
        body = "".join(
            f"{len(block)} beginbfchar\n"
            + "".join(f"<{cid:04X}> <{ord(ch):04X}>\n" for cid, ch in block)
            + "endbfchar\n"
            for block in blocks
        )
        return (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Partial-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{body}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
        )
