"""The 项目资金 block: four funding lines under a header row whose columns may come in any order."""

from __future__ import annotations

from ..record import FUNDING_LINES, FUNDING_VALUE_FIELDS, FundingLine
from .columns import build_columns
from .table import Form, Hit, cell_text, header_spans, parse_cell, row_band

FUNDING_ROWS = (r"年度资金总额|资金总额", r"财政拨款", r"上年结转", r"其他资金")
FUNDING_HEADERS = {
    "budget_initial": r"年初预算|年初数",
    "budget_full_year": r"全年预算|调整后预算",
    "executed": r"全年执行|执行数|实际执行",
    "weight": r"分值|分数|权重",
    "execution_rate_pct": r"执行率",
    "score": r"得分",
}


def funding_fields() -> list[str]:
    return [f"funding[{i}].{f}" for i in range(len(FUNDING_LINES)) for f in FUNDING_VALUE_FIELDS]


def read_funding(form: Form, anchor: Hit) -> tuple[list[FundingLine], tuple[int, float]]:
    """The 项目资金 block: its header row lies between the row above (anchor) and 年度资金总额."""
    rows = []
    cursor = anchor.pos
    for pattern in FUNDING_ROWS:
        hit = form.find(pattern, after=cursor)
        rows.append(hit)
        if hit:
            cursor = hit.pos
    first = rows[0]
    if first is None:
        form.uncertain.extend(funding_fields())
        return [FundingLine(name) for name in FUNDING_LINES], cursor
    part = form.parts[first.part]
    h_top = (
        row_band(part, (anchor.x0 + anchor.x1) / 2, anchor.line)[1] if anchor.part == first.part else part.top
    )
    h_bottom = row_band(part, (first.x0 + first.x1) / 2, first.line)[0]
    spans = header_spans(form, first.part, h_top, h_bottom + 0.5, FUNDING_HEADERS)
    if not spans:
        form.uncertain.extend(funding_fields())
        return [FundingLine(name) for name in FUNDING_LINES], cursor
    on_page = [h for h in rows if h and h.part == first.part]
    label_right = max(h.x1 for h in on_page)
    block_bottom = row_band(part, (on_page[-1].x0 + on_page[-1].x1) / 2, on_page[-1].line)[1]
    columns = build_columns(part.page, spans, h_top, block_bottom, label_right, form.table_right(first.part))
    lines = []
    for i, (name, hit) in enumerate(zip(FUNDING_LINES, rows, strict=True)):
        line = FundingLine(name)
        if hit is None:
            form.uncertain.extend(f"funding[{i}].{f}" for f in FUNDING_VALUE_FIELDS)
            lines.append(line)
            continue
        row_part = form.parts[hit.part]
        top, bottom = row_band(row_part, (hit.x0 + hit.x1) / 2, hit.line)
        for col in columns:
            text = cell_text(row_part.page, col.x0, col.x1, top, bottom)
            path = f"funding[{i}].{col.name}"
            setattr(line, col.name, parse_cell(form, path, text, percent=col.name == "execution_rate_pct"))
            if col.guessed and text:
                form.uncertain.append(path)
        lines.append(line)
    found = {c.name for c in columns}
    for name in FUNDING_HEADERS:
        if name not in found:
            form.uncertain.extend(f"funding[{i}].{name}" for i in range(4))
    return lines, cursor
