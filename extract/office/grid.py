"""Office originals as grids of cells: a worksheet (openpyxl) or a document's tables (python-docx).

A form filled in Excel or Word has no geometry to guess: its cells, their merged ranges and their
text are in the file. `Grid` holds them row by row, a merged range as one `Cell` present in every
row it covers, so the form reader (`form.py`) asks "which cell is in this row under that header"
and nothing else. Blank cells are left out; a blank merged range is kept (it is an empty value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..record import ReadError

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.oxml.xmlchemy import BaseOxmlElement

# Excel's display formats the forms use for numbers: 0.00, #,##0.00, 0.00%. Only the decimals,
# the thousands separator and the percent sign change what the cell shows.
_DECIMALS = re.compile(r"0\.(0+)")


@dataclass(eq=False)
class Cell:
    """One cell of a grid; a merged range (Excel merge, Word gridSpan/vMerge) is one cell.

    row/col are 0-based grid positions of its top-left; `text` is what the cell shows (numbers in
    their display format, wrapped paragraphs joined by "\\n"). `unsure` says why the text may not
    be what the form shows (a formula whose value the file does not store), else None.
    """

    row: int
    col: int
    rowspan: int = 1
    colspan: int = 1
    text: str = ""
    table: int | None = None  # documents: 1-based index of the table; None for a paragraph
    unsure: str | None = None

    @property
    def last_row(self) -> int:
        """The last grid row the cell covers (0-based)."""
        return self.row + self.rowspan - 1

    @property
    def last_col(self) -> int:
        """The last grid column the cell covers (0-based)."""
        return self.col + self.colspan - 1

    def overlaps(self, col: int, last_col: int) -> bool:
        """Whether the cell covers any grid column of col..last_col."""
        return self.col <= last_col and col <= self.last_col


@dataclass
class Grid:
    """A sheet or a document as rows of cells. `rows[r]` lists, left to right, the cells present
    in grid row r: those whose top-left is in it and merged ones covering it from above."""

    rows: list[list[Cell]] = field(default_factory=list)
    sheet: str | None = None  # worksheets: the sheet's name; grid row r, col c is Excel's (r+1, c+1)
    hidden: bool = False  # a worksheet its workbook hides (not published: its forms are not read)

    def anchored(self, r: int) -> list[Cell]:
        """The cells whose top-left lies in row r."""
        return [c for c in self.rows[r] if c.row == r]

    def texts(self, r: int) -> list[Cell]:
        """The cells of row r that show text and start in it."""
        return [c for c in self.anchored(r) if c.text.strip()]


# ---------------------------------------------------------------- worksheets


def _number_text(value: float | int, number_format: str) -> str:
    """A number as Excel shows it under the common formats (General, 0.00, #,##0.00, 0.00%);
    a percent format shows value × 100 with a "%"."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    fmt = number_format or "General"
    percent = "%" in fmt
    if percent:
        number *= 100
    decimals = _DECIMALS.search(fmt)
    if decimals:
        text = f"{number:{',' if '#,##' in fmt else ''}.{len(decimals.group(1))}f}"
    elif fmt != "General" and "0" in fmt:
        text = f"{number:{',' if '#,##' in fmt else ''}.0f}"
    else:
        text = format(number.normalize(), "f")  # shortest form, never "1E+2"
    return text + ("%" if percent else "")


def _value_text(value: object, number_format: str) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return _number_text(value, number_format)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def workbook_grids(path: Path) -> list[Grid]:
    """One Grid per worksheet of an .xlsx, cells as shown (the values Excel stored for formulas). A
    formula cell whose value the file does not store (written by a program that does not calculate)
    is kept empty and `unsure`. A hidden sheet's grid is marked `hidden`.

    Raises ReadError("corrupt_office") when openpyxl cannot open the file.
    """
    import openpyxl

    try:
        values = openpyxl.load_workbook(path, data_only=True)
        formulas = openpyxl.load_workbook(path, data_only=False)
    except Exception as exc:  # noqa: BLE001 - zipfile, lxml and openpyxl each raise their own kinds
        raise ReadError(
            "corrupt_office", f"not a readable Excel workbook ({type(exc).__name__}: {exc})"
        ) from exc
    grids = []
    for ws in values.worksheets:
        grid = _sheet_grid(ws, formulas[ws.title])
        grid.hidden = ws.sheet_state != "visible"
        grids.append(grid)
    return grids


def _sheet_grid(ws: Any, ws_formulas: Any) -> Grid:  # openpyxl Worksheets (untyped)
    merged = {(m.min_row, m.min_col): (m.max_row, m.max_col) for m in ws.merged_cells.ranges}
    covered = {
        (r, c)
        for (r0, c0), (r1, c1) in merged.items()
        for r in range(r0, r1 + 1)
        for c in range(c0, c1 + 1)
        if (r, c) != (r0, c0)
    }
    grid = Grid([[] for _ in range(ws.max_row)], sheet=ws.title)
    for row in ws.iter_rows():
        for xl in row:
            at = (xl.row, xl.column)
            if at in covered:
                continue
            text = _value_text(xl.value, xl.number_format)
            unsure = None
            if xl.value is None and ws_formulas.cell(*at).data_type == "f":
                unsure = "formula with no stored value"
            if not text.strip() and at not in merged and unsure is None:
                continue
            r1, c1 = merged.get(at, at)
            cell = Cell(xl.row - 1, xl.column - 1, r1 - xl.row + 1, c1 - xl.column + 1, text, unsure=unsure)
            for r in range(cell.row, cell.last_row + 1):
                grid.rows[r].append(cell)
    for cells in grid.rows:
        cells.sort(key=lambda c: c.col)
    return grid


# ---------------------------------------------------------------- documents


def document_grid(path: Path) -> Grid:
    """A .docx as one Grid: its body's tables row by row (a cell's columns from w:gridSpan and
    w:gridBefore, vertical merges from w:vMerge) and, between them, each non-blank paragraph as a
    one-cell row (titles and years printed above a table).

    Raises ReadError("corrupt_office") when python-docx cannot open the file.
    """
    import docx
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # noqa: BLE001 - zipfile, lxml and python-docx each raise their own kinds
        raise ReadError(
            "corrupt_office", f"not a readable Word document ({type(exc).__name__}: {exc})"
        ) from exc
    grid = Grid()
    table_no = 0
    for child in document.element.body.iterchildren():
        if child.tag == qn("w:p"):
            text = Paragraph(child, document).text
            if text.strip():
                grid.rows.append([Cell(len(grid.rows), 0, text=text)])
        elif child.tag == qn("w:tbl"):
            table_no += 1
            _table_rows(grid, child, table_no, document)
    return grid


def _table_rows(grid: Grid, tbl: BaseOxmlElement, table_no: int, document: DocxDocument) -> None:
    from docx.oxml.ns import qn
    from docx.text.paragraph import Paragraph

    open_cells: dict[int, Cell] = {}  # grid column → the vertically merged cell started above
    for tr in tbl.iterchildren(qn("w:tr")):
        r = len(grid.rows)
        row: list[Cell] = []
        before = tr.find(f"{qn('w:trPr')}/{qn('w:gridBefore')}")
        col = int(before.get(qn("w:val"))) if before is not None else 0
        for tc in tr.iterchildren(qn("w:tc")):
            span = tc.grid_span
            merge = tc.vMerge  # "restart", "continue" or None
            if merge == "continue" and col in open_cells:
                cell = open_cells[col]
                cell.rowspan = r - cell.row + 1
                row.append(cell)
            else:
                text = "\n".join(Paragraph(p, document).text for p in tc.iterchildren(qn("w:p")))
                cell = Cell(r, col, 1, span, text, table=table_no)
                if merge == "restart":
                    open_cells[col] = cell
                else:
                    open_cells.pop(col, None)
                if text.strip() or merge == "restart":
                    row.append(cell)
            col += span
        grid.rows.append(row)
