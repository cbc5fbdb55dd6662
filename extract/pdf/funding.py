"""The 项目资金 block: four funding lines under a header row whose columns may come in any order,
in the unit its label prints (项目资金（万元）, 项目资金（元）), stored in 万元. A column whose header
the vocabulary does not know keeps its own cells: its text is read into no line."""

from __future__ import annotations

from ..record import FUNDING_LINES, FUNDING_VALUE_FIELDS, FundingLine
from ..vocabulary import (
    FUNDING_HEADERS,
    FundingUnit,
    funding_line_pattern,
    funding_unit,
    funding_value_in_wan,
    starts_a_name,
)
from .columns import build_columns
from .layout import WORD_GAP_EM, split_fragments
from .table import (
    UNKNOWN,
    UNKNOWN_COLUMN,
    Form,
    Hit,
    Part,
    Pos,
    cell_text,
    columns_beside_unknown,
    header_spans,
    parse_cell,
    row_band,
    unknown_header_spans,
)

HEADER_SLACK = 0.5  # pt: header text may reach this far below the rule above the first line's row
LABEL_CELL_GAP = 0.5  # pt: the 项目资金 label cell ends at least this far left of the line names


def funding_fields() -> list[str]:
    """Paths of every value of the block: funding[0].budget_initial … funding[3].score."""
    return [f"funding[{i}].{f}" for i in range(len(FUNDING_LINES)) for f in FUNDING_VALUE_FIELDS]


def read_funding(form: Form, anchor: Hit, before: Pos | None = None) -> tuple[list[FundingLine], Pos]:
    """The 项目资金 block: its header row lies between the row above (anchor) and 年度资金总额; its
    lines are looked for before `before` (the next block). Returns the four lines (amounts in 万元)
    and the position of the last line found. A line the form does not print (one printed by
    source instead, 中央补助资金) has null values, all marked uncertain."""
    rows = []
    cursor = anchor.pos
    for i in range(len(FUNDING_LINES)):
        hit = _find_line_name(form, i, cursor, before)
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
    spans = header_spans(form, first.part, h_top, h_bottom + HEADER_SLACK, FUNDING_HEADERS)
    if not spans:
        form.uncertain.extend(funding_fields())
        return [FundingLine(name) for name in FUNDING_LINES], cursor
    spans += unknown_header_spans(part.page, h_top, h_bottom + HEADER_SLACK, spans)
    on_page = [h for h in rows if h and h.part == first.part]
    label_right = max(h.x1 for h in on_page)
    block_bottom = row_band(part, (on_page[-1].x0 + on_page[-1].x1) / 2, on_page[-1].line)[1]
    right = form.table_right(first.part)
    band = (h_top, block_bottom)
    columns = build_columns(part.page, spans, *band, label_right, right, numbers_after_labels=True)
    rows_x0 = min(h.x0 for h in on_page)
    unit = block_unit(part, h_top, h_bottom, block_bottom, rows_x0)
    # The 项目资金 label column, read for the unit: full-width rules may cut it ("项目资金" / "（万元）").
    label_x1 = rows_x0 - LABEL_CELL_GAP
    form.claim_label_box(first.part, form.table_left(first.part), label_x1, h_top, block_bottom)
    beside_unknown = columns_beside_unknown([c.name for c in columns])
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
            if col.name.startswith(UNKNOWN):  # a column no reader knows: its text is no value
                form.set_aside_box(hit.part, col.x0, col.x1, top, bottom, UNKNOWN_COLUMN)
                if text:
                    form.uncertain.extend(f"funding[{i}].{name}" for name in beside_unknown[col.name])
                continue
            path = f"funding[{i}].{col.name}"
            value = parse_cell(form, path, text, percent=col.name == "execution_rate_pct")
            value, certain = funding_value_in_wan(col.name, value, unit)
            if not certain:
                form.uncertain.append(path)
            setattr(line, col.name, value)
            if col.guessed:  # also when it reads empty: its text may sit across the guessed edge
                form.uncertain.append(path)
        lines.append(line)
    found = {c.name for c in columns}
    for name in FUNDING_HEADERS:
        if name not in found:
            form.uncertain.extend(f"funding[{i}].{name}" for i in range(len(FUNDING_LINES)))
    return lines, cursor


def _find_line_name(form: Form, i: int, after: Pos, before: Pos | None) -> Hit | None:
    """The first row label after `after` naming funding line i as a whole word in its cell."""
    hit = form.find(funding_line_pattern(i), after=after, before=before)
    while hit is not None and not starts_a_name(_cell_text_before(form, hit)):
        hit = form.find(funding_line_pattern(i), after=hit.pos, before=before)
    return hit


def _cell_text_before(form: Form, hit: Hit) -> str:
    """Text of the hit's line fragment (its cell) left of the hit, "" where a blank of more than
    WORD_GAP_EM font sizes separates them (the label column's text beside a line name)."""
    page = form.parts[hit.part].page
    for frag in split_fragments(hit.line, page.vrules):
        before = [g for g in frag.glyphs if g.x0 < hit.x0]
        if frag.x0 <= hit.x0 <= frag.x1 and before:
            gap = hit.x0 - before[-1].x1
            return "" if gap > WORD_GAP_EM * before[-1].size else "".join(g.text for g in before)
    return ""


def block_unit(part: Part, h_top: float, h_bottom: float, block_bottom: float, rows_x0: float) -> FundingUnit:
    """The block's unit from what it prints: the 项目资金 label cell left of the line names
    (项目资金（元）, wrapped as "项目资金（" / "元）"), the header cells (年初预算数（元）) and a
    单位：万元 line between the form's top and the block."""
    page = part.page
    label = cell_text(page, 0.0, rows_x0 - LABEL_CELL_GAP, h_top, block_bottom)
    header = [line.text for line in page.lines_in(h_top, h_bottom)]
    above = [line.text for line in page.lines_in(part.top, h_top)]
    return funding_unit([label or "", *header, *above])
