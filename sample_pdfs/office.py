"""A second, independent producer: the forms as an HTML table, printed to PDF by LibreOffice.

LibreOffice lays the table out itself (column widths, wrapping, fonts) and, unlike an office
spreadsheet export, breaks rows and merged cells across pages, text included. Extraction is tested
on it because nothing of our own renderer's geometry carries over.
"""

from __future__ import annotations

import html
import shutil
import subprocess
import tempfile
from pathlib import Path

from extract.office.reader import run_libreoffice, soffice
from extract.record import FUNDING_VALUE_FIELDS

from .variants import INDICATOR_HEADERS

FUNDING_HEADER = ("年初预算数", "全年预算数", "全年执行数", "分数", "执行率(%)", "得分")
DEFAULT_FONT = "WenQuanYi Micro Hei"
# LibreOffice takes the font from each element's own style (not inherited from the table).
STYLE = "table{{border-collapse:collapse;width:100%;font-size:9pt}}td,p,h3{{font-family:'{font}'}}"
CELL_STYLE = {
    True: "td{border:1px solid black;padding:2px;text-align:center}",
    False: "td{text-align:center}",
}


def installed_font(family: str) -> bool:
    """Whether fontconfig knows the font family (else LibreOffice would print with a substitute)."""
    if shutil.which("fc-list") is None:
        return False
    listed = subprocess.run(["fc-list", f":family={family}", "family"], capture_output=True, text=True)
    return bool(listed.stdout.strip())


def _number(value) -> str:
    return "-" if value is None else f"{value:,.2f}"


def _td(text="", colspan: int = 1, rowspan: int = 1, align: str = "") -> str:
    attrs = (f' colspan="{colspan}"' if colspan > 1 else "") + (
        f' rowspan="{rowspan}"' if rowspan > 1 else ""
    )
    attrs += f' style="text-align:{align}"' if align else ""
    return f"<td{attrs}>{html.escape(str(text or ''))}</td>"


def _spans(indicators: list[dict], i: int, keys: tuple[str, ...]) -> int:
    """Rows from i on sharing the values of keys: the rowspan of a merged level cell (0 inside one)."""
    same = lambda j: all(indicators[j][k] == indicators[i][k] for k in keys)  # noqa: E731
    if i > 0 and same(i - 1):
        return 0
    n = 1
    while i + n < len(indicators) and same(i + n):
        n += 1
    return n


def _row(*cells: str) -> str:
    return "<tr>" + "".join(cells) + "</tr>"


def form_html(r: dict, borders: bool = True) -> str:
    rows = [
        '<h3 style="text-align:center">财政项目支出绩效自评表</h3>',
        f'<p style="text-align:center">（{r["fiscal_year"]}年度）</p>',
        '<table border="1" cellspacing="0" cellpadding="2">' if borders else "<table>",
        _row(_td("项目名称", 2), _td(r["project_name"], 7)),
        _row(
            _td("主管部门", 2),
            _td(r["supervising_dept"], 3),
            _td("实施单位", 2),
            _td(r["implementing_unit"], 2),
        ),
        _row(_td("项目资金（万元）", rowspan=5), _td("", 2), *map(_td, FUNDING_HEADER)),
    ]
    for line in r["funding"]:
        label = "其中：当年财政拨款" if line["line"] == "当年财政拨款" else line["line"]
        rows.append(_row(_td(label, 2), *(_td(_number(line[c])) for c in FUNDING_VALUE_FIELDS)))
    goals = [
        "<br>".join(map(html.escape, (r[k] or "").split("\n"))) for k in ("goal_expected", "goal_actual")
    ]
    left = '<td colspan="4" style="text-align:left">'
    rows += [
        _row(_td("年度总体目标", rowspan=2), _td("预期目标", 4), _td("实际完成情况", 4)),
        _row(*(f"{left}{text}</td>" for text in goals)),
        _row(_td("绩效指标", rowspan=len(r["indicators"]) + 1), *map(_td, INDICATOR_HEADERS)),
    ]
    inds = r["indicators"]
    for i, ind in enumerate(inds):
        cells = [
            _td(ind[name], rowspan=span)
            for name, keys in (("level1", ("level1",)), ("level2", ("level1", "level2")))
            if (span := _spans(inds, i, keys))
        ]
        cells += [_td(ind[k]) for k in ("level3", "target", "actual")]
        cells += [_td(_number(ind[k])) for k in ("weight", "score")] + [_td(ind["deviation_note"])]
        rows.append(_row(*cells))
    rows += [
        _row(_td("总分", 6), _td(_number(r["total_weight"])), _td(_number(r["total_score"])), _td()),
        _row(_td("评分等级", 6), _td(r["grade"], 3)),
        "</table>",
    ]
    return "\n".join(rows)


def render_office_pdf(
    records: list[dict], path: Path, borders: bool = True, font: str = DEFAULT_FONT, timeout: float = 300
) -> None:
    """Print the forms through LibreOffice (each form after the previous one, as a word processor
    flows them) in the font family `font` (fontconfig substitutes one when it is not installed:
    see `installed_font`); without borders the table has no ruling at all. Raises
    FileNotFoundError when LibreOffice is not installed."""
    exe = soffice()
    if exe is None:
        raise FileNotFoundError("LibreOffice (soffice) is not installed")
    body = "".join(form_html(r, borders) + '<p style="page-break-after:always"></p>' for r in records)
    head = f'<head><meta charset="utf-8"><style>{STYLE.format(font=font)}{CELL_STYLE[borders]}</style></head>'
    document = f"<html>{head}<body>{body}</body></html>"
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / f"{Path(path).stem}.html"
        source.write_text(document, encoding="utf-8")
        run_libreoffice(exe, source, "pdf:writer_web_pdf_Export", Path(tmp), timeout)
        shutil.move(Path(tmp) / f"{Path(path).stem}.pdf", path)
