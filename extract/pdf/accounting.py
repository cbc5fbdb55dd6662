"""The safety net of the PDF reader: every visible glyph inside a form's region ends in exactly one
field (or in a label, header or title of the form), or is set aside with a reason.

Conditions nobody has listed keep coming; this turns them into flags instead of silent errors.
After a form is read, its glyphs are checked against what the block readers claimed (`Form.fields`,
`Form.labels`):

- a visible glyph in the form's table that no field and no label claimed (it "ends nowhere")
  makes the nearest field uncertain;
- a glyph read into two cells makes every field read from those cells uncertain;
- a field whose glyphs lie on both sides of a rule (a value built from two ruled cells), with a
  glyph a rule runs through, or with glyphs of very different sizes, is uncertain;
- a field holding glyphs its font maps to no character ("(cid:N)") is uncertain, and the record
  lists those glyphs;
- a field whose text runs on into glyphs its cell's clipping path hides is uncertain (what is
  shown is cut short).
- a field holding a glyph recognised on a scan (OCR) with a confidence under
  `ocr.CONFIDENCE_MIN` is uncertain.

The form's region on each of its pages is its table: from the form's start (its title) or the
table's first rule down to its last rule (text just outside a rule belongs to an unruled row, as
the indicator reader takes it), between the table's left and right ends. Visible glyphs outside it
are set aside as `outside_table`.
"""

from __future__ import annotations

import math
from collections import Counter

from ..ocr import CONFIDENCE_MIN
from ..record import GlyphReport
from .layout import RULE_SNAP, Glyph, PageLayout
from .painting import UNMAPPED
from .table import Cell, Form, ruled_bottom, ruled_top
from .visibility import crosses_a_rule


def account(form: Form) -> GlyphReport:
    """Check the form's glyphs against what was read; marks fields uncertain (`form.uncertain`)
    and returns the report that goes on the Record."""
    report = GlyphReport()
    set_aside: Counter[str] = Counter()
    cells_of: dict[int, list[Cell]] = {}
    glyphs_of: dict[Cell, list[Glyph]] = {}
    for cell in form.fields:
        pi, x0, x1, top, bottom = cell
        glyphs_of[cell] = form.parts[pi].page.glyphs_in(x0, x1, top, bottom)
        for g in glyphs_of[cell]:
            cells_of.setdefault(id(g), []).append(cell)
    flagged: set[str] = set()
    for pi, part in enumerate(form.parts):
        page = part.page
        for g, reason in page.aside:
            if part.top <= g.yc < part.bottom:
                set_aside[reason] += 1
                if reason == "clipped":  # the text runs on beyond what its cell shows
                    flagged.update(_field_cut_short(form, pi, g, cells_of))
        x0, x1, top, bottom = _region(form, pi)
        for g in page.glyphs_in(-math.inf, math.inf, part.top, part.bottom):
            if not (x0 <= g.xc <= x1 and top <= g.yc <= bottom):
                set_aside["outside_table"] += 1
                continue
            cells = cells_of.get(id(g), [])
            if len(cells) > 1:
                report.reused += 1
                flagged.update(path for cell in cells for path in form.fields[cell])
            elif not cells and id(g) in form.aside:
                set_aside[form.aside[id(g)]] += 1
                continue
            elif not cells and id(g) not in form.labels:
                report.unplaced += 1
                flagged.update(_nearest_field(form, pi, g))
                continue
            report.read += 1
    for cell, glyphs in glyphs_of.items():
        page = form.parts[cell[0]].page
        if _straddles_a_rule(page, glyphs) or _odd_glyphs(page, glyphs):
            flagged.update(form.fields[cell])
        if any(g.confidence < CONFIDENCE_MIN for g in glyphs):
            flagged.update(form.fields[cell])
        unmapped = [g.text for g in glyphs if UNMAPPED.fullmatch(g.text)]
        if unmapped:
            for path in form.fields[cell]:
                report.unmapped.setdefault(path, []).extend(unmapped)
            flagged.update(form.fields[cell])
    report.set_aside = {reason: n for reason, n in sorted(set_aside.items())}
    report.unmapped = {path: codes for path, codes in sorted(report.unmapped.items())}
    form.uncertain.extend(flagged)
    return report


def flag_unmapped_values(form: Form, report: GlyphReport, texts: dict[str, str | None]) -> None:
    """Mark uncertain, and list in the report, every text field whose final value holds unmapped
    glyphs — also a value carried into a row from a merged cell rather than read from its cell."""
    for path, text in texts.items():
        codes = UNMAPPED.findall(text or "")
        if codes:
            form.uncertain.append(path)
            report.unmapped.setdefault(path, codes)
    report.unmapped = dict(sorted(report.unmapped.items()))


def _region(form: Form, pi: int) -> tuple[float, float, float, float]:
    """x0, x1, top, bottom (pt) of the form's table on part pi (the whole part when unruled)."""
    part = form.parts[pi]
    top = part.top if pi == 0 else ruled_top(part)
    if not part.page.hrules:
        return -math.inf, math.inf, top, part.bottom
    return form.table_left(pi), form.table_right(pi), top, ruled_bottom(part)


def _field_cut_short(form: Form, pi: int, g: Glyph, cells_of: dict[int, list[Cell]]) -> set[str]:
    """The fields whose text a clipped glyph continues: those read from the glyphs shown in its
    clipping box (none when they are a label's), else the field nearest to the glyph."""
    page = form.parts[pi].page
    clip = page.clips.get(id(g))
    if clip is not None:
        shown = page.glyphs_in(*clip)
        paths = {path for o in shown for cell in cells_of.get(id(o), []) for path in form.fields[cell]}
        if paths or any(id(o) in form.labels for o in shown):
            return paths
    return _nearest_field(form, pi, g)


def _nearest_field(form: Form, pi: int, g: Glyph) -> set[str]:
    """The paths read from the cell of part pi nearest to the glyph (none when the part has none)."""
    best, paths = math.inf, set()
    for (cpi, x0, x1, top, bottom), cell_paths in form.fields.items():
        if cpi != pi:
            continue
        d = math.hypot(max(x0 - g.xc, 0.0, g.xc - x1), max(top - g.yc, 0.0, g.yc - bottom))
        if d < best:
            best, paths = d, set(cell_paths)
        elif d == best:
            paths |= cell_paths
    return paths


MIXED_SIZE_RATIO = 1.8  # glyphs of one value differing in size this much are not one text


def _odd_glyphs(page: PageLayout, glyphs: list[Glyph]) -> bool:
    """Whether a value holds a glyph a rule runs through, or glyphs of very different sizes."""
    if any(crosses_a_rule(g, page.hrules, page.vrules) for g in glyphs):
        return True
    sizes = [g.size for g in glyphs]
    return bool(sizes) and max(sizes) > MIXED_SIZE_RATIO * min(sizes)


def _under_two_borders(page: PageLayout, glyphs: list[Glyph]) -> bool:
    """Whether the glyphs of one value lie under two cells' own top borders (a producer that
    draws each cell's border separately, and no vertical rules): the nearest border segments
    above them are two, with glyphs under each."""
    top = min(g.top for g in glyphs)
    x0, x1 = min(g.xc for g in glyphs), max(g.xc for g in glyphs)
    above = [s for s in page.hsegments if s.pos <= top + RULE_SNAP and s.start <= x1 and s.end >= x0]
    above = [s for s in above if any(s.covers(g.xc, 0.0) for g in glyphs)]
    if not above:
        return False
    nearest = max(s.pos for s in above)
    borders = sorted({(s.start, s.end) for s in above if abs(s.pos - nearest) <= RULE_SNAP})
    if len(borders) < 2:
        return False
    owners = {next((b for b in borders if b[0] <= g.xc <= b[1]), None) for g in glyphs}
    return len(owners - {None}) > 1


def _straddles_a_rule(page: PageLayout, glyphs: list[Glyph]) -> bool:
    """Whether a rule runs between the glyphs of one value: a vertical rule with glyphs left and
    right of it at heights it spans, a horizontal one with glyphs above and below it, or the ends
    of two cells' own borders."""
    if len(glyphs) < 2:
        return False
    if _under_two_borders(page, glyphs):
        return True
    x0, x1 = min(g.xc for g in glyphs), max(g.xc for g in glyphs)
    top, bottom = min(g.yc for g in glyphs), max(g.yc for g in glyphs)
    for r in page.vrules:
        if x0 < r.pos < x1:
            spanned = [g for g in glyphs if r.covers(g.yc, 0.0)]
            if any(g.xc < r.pos for g in spanned) and any(g.xc > r.pos for g in spanned):
                return True
    for r in page.hrules:
        if top < r.pos < bottom:
            spanned = [g for g in glyphs if r.covers(g.xc, 0.0)]
            if any(g.yc < r.pos for g in spanned) and any(g.yc > r.pos for g in spanned):
                return True
    return False
