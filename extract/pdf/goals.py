"""The 年度总体目标 block: the expected and the actual goal texts, side by side or stacked."""

from __future__ import annotations

from ..cells import clean_text
from ..vocabulary import GOAL_ACTUAL, GOAL_EXPECTED, GOALS_BLOCK
from .columns import build_columns
from .layout import TextLine
from .table import Form, Hit, Pos, cell_lines, row_band, ruled_bottom, ruled_top, value_right_of

PARAGRAPH_END_EM = 1.5  # em: a line ending this far short of its column's right edge ends a paragraph


def paragraphs(lines: list[TextLine], right: float) -> list[str]:
    """Wrapped lines joined; a line ending well short of the column's right edge ends a paragraph."""
    paras: list[str] = []
    current = ""
    for line in lines:
        current += line.text
        size = line.bottom - line.top
        if line.x1 < right - PARAGRAPH_END_EM * size:
            paras.append(current)
            current = ""
    if current:
        paras.append(current)
    return [clean_text(p) for p in paras if clean_text(p)]


def read_goals(form: Form, after: Pos, before: Pos | None) -> tuple[str | None, str | None]:
    """年度总体目标 between `after` and `before` (the indicator header): the 预期目标 and 实际完成情况
    texts, paragraphs joined by "\\n", from columns under their headers or from the cell right of
    each label. Both None, and uncertain, when either label is missing."""
    exp = form.find(GOAL_EXPECTED, after=after, before=before)
    act = form.find(GOAL_ACTUAL, after=after, before=before)
    if exp is None or act is None:
        form.uncertain.extend(["goal_expected", "goal_actual"])
        return None, None
    part = form.parts[exp.part]
    if exp.part == act.part and abs(exp.line.yc - act.line.yc) < exp.line.bottom - exp.line.top:
        h_top, h_bottom = row_band(part, (exp.x0 + exp.x1) / 2, exp.line)
        form.claim_label_box(exp.part, 0.0, part.page.width, h_top, h_bottom)  # the header row
        label = form.find(GOALS_BLOCK, after=after, before=before)
        return _goal_columns(form, exp, act, h_bottom, before, label if label and label.x1 < exp.x0 else None)
    # Stacked layout: each label heads its own row with the text to its right.
    return value_right_of(form, exp, "goal_expected"), value_right_of(form, act, "goal_actual")


def _goal_columns(
    form: Form, exp: Hit, act: Hit, h_bottom: float, before: Pos | None, label: Hit | None
) -> tuple[str | None, str | None]:
    """The two goal columns under their headers, over as many pages as they run; the 年度总体目标
    label column, where found, bounds them on the left even when no rule separates it."""
    texts: dict[str, list[TextLine]] = {"expected": [], "actual": []}
    rights: dict[str, float] = {}
    for pi in range(exp.part, len(form.parts)):
        part = form.parts[pi]
        top = h_bottom if pi == exp.part else ruled_top(part)
        bottom = ruled_bottom(part)
        if before is not None and pi > before[0]:
            break
        if before is not None and pi == before[0]:
            bottom = _band_top_of(form, before)
        spans = [("expected", exp.x0, exp.x1), ("actual", act.x0, act.x1)]
        left = label.x1 if label and label.part == pi else form.table_left(pi)
        cols = build_columns(part.page, spans, top, bottom, left, form.table_right(pi))
        form.claim_label_box(pi, form.table_left(pi), cols[0].x0, top, bottom)  # the 年度总体目标 column
        for col in cols:
            form.claim(pi, col.x0, col.x1, top, bottom, f"goal_{col.name}")
            lines = cell_lines(part.page, col.x0, col.x1, top, bottom)
            texts[col.name].extend(lines)
            rights[col.name] = max([rights.get(col.name, 0.0)] + [ln.x1 for ln in lines])
            if col.guessed and lines:
                form.uncertain.append(f"goal_{col.name}")
    out = []
    for name in ("expected", "actual"):
        paras = paragraphs(texts[name], rights.get(name, 0.0))
        out.append("\n".join(paras) if paras else None)
    return out[0], out[1]


def _band_top_of(form: Form, pos: Pos) -> float:
    """Top of the row holding a label at pos (the indicator header), to stop text above it."""
    part = form.parts[pos[0]]
    line = min(part.lines(), key=lambda ln: abs(ln.yc - pos[1]))
    return row_band(part, (line.x0 + line.x1) / 2, line)[0]
