"""The sample forms as the Excel and Word originals departments fill in and post.

`write_xlsx` lays each record out as a worksheet form (openpyxl): title and year rows, the head
labels, the 项目资金 block under its header, the two goal texts, the 绩效指标 table with its 一级/二级
指标 cells merged down over the rows they group, 总分 and 评分等级. `write_docx` builds the same form
as a Word table (python-docx: gridSpan across, vMerge down), one table per form after its title.
`OfficeStyle` gives the habits that vary between departments, never the values, so a test knows
what a reader must return. `to_legacy` turns either into .xls/.doc with LibreOffice.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from extract.record import FUNDING_VALUE_FIELDS

from .office import FUNDING_HEADER, _spans
from .variants import INDICATOR_HEADERS, STANDARD_LINES, UNIT_TO_WAN

COLUMNS = 9  # A..I: label, two label/level columns, six value columns


@dataclass(frozen=True)
class OfficeStyle:
    """How a department fills the form in; every knob keeps the values the record holds."""

    sheet_per_form: bool = False  # workbooks: one sheet per form, else all forms down one sheet
    funding_unit: str = "万元"  # 万元 or 元: the label says so and the amounts are in that unit
    blank_rows: int = 0  # blank rows left between the form's parts and between forms
    numbers_as_text: bool = False  # amounts and scores typed as text ("1,614.00", "-")
    rate_as_percent: bool = True  # workbooks: the 执行率 stored as a fraction shown as 0.00%
    merge_levels: bool = True  # 一级/二级指标 merged down; else the name on every row


STYLES = {
    "plain": OfficeStyle(),
    "sheets_yuan_text": OfficeStyle(sheet_per_form=True, funding_unit="元", numbers_as_text=True),
    "blank_rows": OfficeStyle(blank_rows=2, rate_as_percent=False),
    "unmerged": OfficeStyle(merge_levels=False, sheet_per_form=True),
}


def _amount(value: float | None, style: OfficeStyle) -> float | None:
    return None if value is None else round(value / UNIT_TO_WAN[style.funding_unit], 2)


def _form_rows(record: dict, style: OfficeStyle) -> list[list[tuple[int, int, int, object, str]]]:
    """The form as rows of cells (col, colspan, rowspan, value, number format), 0-based columns;
    a value is str, a number or None, shown under the number format given."""

    def number(value, fmt: str = "0.00"):
        if style.numbers_as_text:
            return ("-" if value is None else f"{value:,.2f}"), "@"
        return value, fmt

    rows: list[list] = []
    blank = [[] for _ in range(style.blank_rows)]
    rows.append([(0, COLUMNS, 1, "财政项目支出绩效自评表", "@")])
    rows.append([(0, COLUMNS, 1, f"（{record['fiscal_year']}年度）", "@")])
    rows.append([(0, 2, 1, "项目名称", "@"), (2, 7, 1, record["project_name"], "@")])
    rows.append(
        [
            (0, 2, 1, "主管部门", "@"),
            (2, 3, 1, record["supervising_dept"], "@"),
            (5, 2, 1, "实施单位", "@"),
            (7, 2, 1, record["implementing_unit"], "@"),
        ]
    )
    rows += blank
    funding = [(0, 1, 5, f"项目资金（{style.funding_unit}）", "@"), (1, 2, 1, None, "@")]
    rows.append(funding + [(3 + k, 1, 1, h, "@") for k, h in enumerate(FUNDING_HEADER)])
    for line, name in zip(record["funding"], STANDARD_LINES, strict=True):
        cells = [(1, 2, 1, name, "@")]
        for k, f in enumerate(FUNDING_VALUE_FIELDS):
            value = line[f]
            if f in ("budget_initial", "budget_full_year", "executed"):
                value = _amount(value, style)
            if f == "execution_rate_pct" and style.rate_as_percent and not style.numbers_as_text:
                cells.append((3 + k, 1, 1, None if value is None else value / 100, "0.00%"))
            else:
                cells.append((3 + k, 1, 1, *number(value)))
        rows.append(cells)
    rows += blank
    rows.append([(0, 1, 2, "年度总体目标", "@"), (1, 4, 1, "预期目标", "@"), (5, 4, 1, "实际完成情况", "@")])
    rows.append([(1, 4, 1, record["goal_expected"], "@"), (5, 4, 1, record["goal_actual"], "@")])
    inds = record["indicators"]
    rows.append(
        [(0, 1, len(inds) + 1, "绩效指标", "@")]
        + [(1 + k, 1, 1, h, "@") for k, h in enumerate(INDICATOR_HEADERS)]
    )
    for i, ind in enumerate(inds):
        cells = []
        for col, (name, keys) in enumerate(
            (("level1", ("level1",)), ("level2", ("level1", "level2"))), start=1
        ):
            span = _spans(inds, i, keys) if style.merge_levels else 1
            if span:
                cells.append((col, 1, span, ind[name], "@"))
        cells += [(3 + k, 1, 1, ind[name], "@") for k, name in enumerate(("level3", "target", "actual"))]
        cells += [(6, 1, 1, *number(ind["weight"])), (7, 1, 1, *number(ind["score"]))]
        cells.append((8, 1, 1, ind["deviation_note"], "@"))
        rows.append(cells)
    rows.append(
        [
            (0, 6, 1, "总分", "@"),
            (6, 1, 1, *number(record["total_weight"])),
            (7, 1, 1, *number(record["total_score"])),
        ]
    )
    rows.append([(0, 6, 1, "评分等级", "@"), (6, 3, 1, record["grade"], "@")])
    return rows


def write_xlsx(records: list[dict], path: Path, style: OfficeStyle = STYLES["plain"]) -> Path:
    """The forms as an .xlsx at `path`: down one sheet (blank rows between) or a sheet each."""
    import openpyxl
    from openpyxl.styles import Alignment

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "自评表" if not style.sheet_per_form else records[0]["key"]
    top = 1
    for n, record in enumerate(records):
        if style.sheet_per_form and n:
            ws, top = wb.create_sheet(record["key"]), 1
        for r, cells in enumerate(_form_rows(record, style), start=top):
            for col, colspan, rowspan, value, fmt in cells:
                cell = ws.cell(r, col + 1, value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # typed as text ('=120.00(人)), not a formula
                cell.number_format = "General" if fmt == "@" and not isinstance(value, str) else fmt
                cell.alignment = Alignment(wrap_text=True, vertical="center")
                if colspan > 1 or rowspan > 1:
                    ws.merge_cells(
                        start_row=r, start_column=col + 1, end_row=r + rowspan - 1, end_column=col + colspan
                    )
            top = r + 1
        top += 1 + style.blank_rows
    wb.save(path)
    return path


def write_docx(records: list[dict], path: Path, style: OfficeStyle = STYLES["plain"]) -> Path:
    """The forms as a .docx at `path`: per form its title paragraphs and one table."""
    import docx

    document = docx.Document()
    for n, record in enumerate(records):
        if n:
            document.add_page_break()
        rows = _form_rows(record, style)
        for text in (rows[0][0][3], rows[1][0][3]):
            document.add_paragraph(text)
        body = rows[2:]
        table = document.add_table(rows=len(body), cols=COLUMNS)
        table.style = "Table Grid"
        # Every cell fetched once before merging (table.cell() walks the whole table): merged
        # ranges do not overlap, so a range's corner cells are still in the table when it merges.
        grid = [row.cells for row in table.rows]
        for r, cells in enumerate(body):
            for col, colspan, rowspan, value, fmt in cells:
                cell = grid[r][col]
                if colspan > 1 or rowspan > 1:
                    cell = cell.merge(grid[r + rowspan - 1][col + colspan - 1])
                text = _docx_text(value, fmt)
                lines = text.split("\n")
                cell.paragraphs[0].text = lines[0]
                for line in lines[1:]:
                    cell.add_paragraph(line)
        document.add_paragraph()  # as Word does: a paragraph ends the table (LibreOffice's .doc needs it)
    document.save(path)
    return path


def _docx_text(value, fmt: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if fmt == "0.00%":
        return f"{value * 100:.2f}%"
    return f"{value:.2f}"


def to_legacy(path: Path, out: Path) -> Path:
    """An .xlsx as .xls or a .docx as .doc (by `out`'s suffix), converted by LibreOffice."""
    from extract.office.reader import convert

    with tempfile.TemporaryDirectory() as tmp:
        converted = convert(path, out.suffix[1:], Path(tmp))
        shutil.move(converted, out)
    return out
