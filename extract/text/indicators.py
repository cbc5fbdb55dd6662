"""The indicator table (绩效指标) of a dump: rows, merged level labels, wrapped cells, deviation notes.

A row ends on the line that prints its 分值 and 得分 (the row's "anchor"); cells left of them on that
line are the row's rightmost cells. A wrapped cell is printed as its own lines before the anchor; the
single-line cells between wrapped ones share a line, one token each. The merged 一级指标 / 二级指标
cells print their text before the first row they cover (a continuation page repeats them), and a
row's 偏差原因分析及改进措施 follows its anchor. So the lines between two anchors are: the previous
row's deviation note, then labels, then the next row's first cells. Every way of cutting them so is
tried (a label ends in 指标, brackets balance, a row has exactly 三级指标 / 年度指标值 / 实际完成值),
and the most regular cut wins: known label names, notes only on rows that lost points, wrapped
lines as wide as their column (widths learnt from the rows that only one cut explains). Cuts that
do equally well but read differently make the fields they disagree on uncertain.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import combinations

from ..cells import clean_text, number_or_none, parse_number
from ..record import INDICATOR_TEXT_FIELDS, Indicator
from ..vocabulary import (
    INDICATOR_BLOCK,
    LEVEL1_HEADER,
    LEVEL1_NAMES,
    LEVEL2_NAMES,
    LEVEL_NAME_SUFFIX,
    is_header_piece,
    nonstandard_header_words,
)
from .lines import Line, text_width

_LABEL_PUNCT = re.compile(r"[，,。：:；;、（()）]")
MAX_LABEL_CHARS = 12
WRAP_SLACK = 1.5  # a wrapped cell line may stop this far short of its column's width
MAX_ROW_LINES = 16  # labels and first cells of a row never take more lines than this

COST_UNKNOWN_LABEL = 1.0
COST_NOTE_ON_FULL_SCORE = 2.0
COST_LABEL_IN_NOTE = 1.5
COST_LEVEL1_ALONE = 1.0  # a new 一级指标 with no 二级指标 after it
COST_LABEL_AS_CELL = 1.0  # a cell reading exactly like a level name
COST_LABEL_RUN_ON = 2.0  # a label going on past a line that already ends in 指标
COST_SPLIT_LINE = 2.0  # two single-line cells of a row printed on separate lines
TIE = 0.25
IRREGULAR = 2.0  # readings of the sample forms cost 0; this much means the layout is not understood


@dataclass(frozen=True)
class Piece:
    """A cell fragment: a whole line, or one token of a line of single-line cells."""

    text: str
    line: Line
    mergeable: bool  # a line of its own, so possibly one line of a wrapped cell

    @property
    def width(self) -> float:
        """The piece's printed width in em."""
        return text_width(self.text)


@dataclass(frozen=True)
class Anchor:
    """The line printing a row's 分值 and 得分 (weight, score in pt): the tokens before them (the
    row's rightmost cells, perhaps level labels) and the text after them (the row's deviation note)."""

    line: Line
    lead: tuple[str, ...]  # tokens before 分值/得分: the row's rightmost cells (and labels)
    weight: float | None
    score: float | None
    note: str  # text after 得分 on the same line


@dataclass(frozen=True)
class Cut:
    """One reading of the lines between two anchors."""

    note: tuple[Piece, ...]  # the previous row's deviation note
    labels: tuple[tuple[Piece, ...], ...]
    cells: tuple[tuple[Piece, ...], ...]  # the next row's cells printed before its anchor

    def label_texts(self) -> tuple[str, ...]:
        """The texts of the cut's level labels (一级/二级指标 names)."""
        return tuple(_join(group) for group in self.labels)

    def reading(self) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
        """What the cut reads, to compare cuts: (note, labels, cells) as texts."""
        return (_join(self.note), self.label_texts(), tuple(_join(c) for c in self.cells))


@dataclass
class Gap:
    """The lines between two anchors (the previous row's and the next row's), the readings (cuts)
    they allow, the one chosen and the parts (note, labels, cells) it leaves unsettled."""

    lines: list[Line]
    prev: Anchor | None
    anchor: Anchor | None  # None after the last row
    cuts: list[Cut] = field(default_factory=list)
    chosen: Cut | None = None
    irregular: bool = False  # the best reading still costs IRREGULAR or more
    unsure: set[str] = field(default_factory=set)  # parts whose reading is not settled: note/labels/cells


@dataclass
class TableResult:
    """The 绩效指标 table of a dump: its Indicators, the paths not read with certainty, and how many
    rows have no regular 三级指标 text (a sign of a dump out of reading order)."""

    indicators: list[Indicator]
    uncertain: list[str] = field(default_factory=list)
    rows_without_names: int = 0  # rows with no (or no regular) 三级指标 text: a sign of scrambled text


def parse_indicators(lines: list[Line]) -> TableResult:
    """Rows of the indicator table (its lines from the header line up to 总分)."""
    lines, header = _drop_header_lines(lines)
    anchors: list[tuple[int, Anchor]] = []
    for i, line in enumerate(lines):
        anchor = _anchor(line)
        if anchor is not None:
            anchors.append((i, anchor))
    if not anchors:
        return TableResult([], [])
    gaps = []
    start, prev = 0, None
    for i, anchor in anchors:
        gaps.append(Gap(lines[start:i], prev, anchor))
        start, prev = i + 1, anchor
    gaps.append(Gap(lines[start:], prev, None))
    _choose_cuts(gaps)
    result = _rows(gaps)
    if nonstandard_header_words(header):
        # Columns beyond the standard eight (指标性质, 度量单位, 备注): which printed cell is which
        # field cannot be told from the text, so no text field of a row is certain.
        n = len(result.indicators)
        result.uncertain += [f"indicators[{i}].{f}" for i in range(n) for f in INDICATOR_TEXT_FIELDS]
        result.uncertain = list(dict.fromkeys(result.uncertain))
    return result


def _drop_header_lines(lines: list[Line]) -> tuple[list[Line], str]:
    """Drop the header line, its wrapped tail (偏差原因分析及改进措 / 施) and repeated headers;
    returns the other lines and the text of the dropped ones."""
    out, header = [], []
    in_header = False
    for line in lines:
        clean = line.clean
        if re.sub(f"^(?:{INDICATOR_BLOCK})", "", clean).startswith(LEVEL1_HEADER):
            in_header = True
            header.append(clean)
        elif in_header and is_header_piece(clean):
            header.append(clean)
        else:
            in_header = False
            out.append(line)
    return out, "".join(header)


def _anchor(line: Line) -> Anchor | None:
    """The line printing a row's 分值 and 得分: its first run of two or more numbers ends with them."""
    tokens = line.tokens
    i = 0
    while i < len(tokens):
        if number_or_none(tokens[i]) is not None:
            j = i
            while j + 1 < len(tokens) and number_or_none(tokens[j + 1]) is not None:
                j += 1
            if j > i:
                return Anchor(
                    line,
                    tuple(tokens[: j - 1]),
                    parse_number(tokens[j - 1]),
                    parse_number(tokens[j]),
                    "".join(tokens[j + 1 :]),
                )
            i = j + 1
        else:
            i += 1
    return None


# ---------------------------------------------------------------- reading the lines between anchors


def _cells_needed(anchor: Anchor | None) -> int:
    return 0 if anchor is None else max(0, 3 - len(anchor.lead))


def _lead_labels(anchor: Anchor | None) -> tuple[str, ...]:
    """Labels printed on the anchor line before the row's cells ("质量指标 脱贫工作质量达标率 …")."""
    extra = _lead_extra(anchor)
    return extra if all(_is_label(clean_text(t)) for t in extra) else ()


def _lead_extra(anchor: Anchor | None) -> tuple[str, ...]:
    return () if anchor is None else anchor.lead[: max(0, len(anchor.lead) - 3)]


def _enumerate_cuts(gap: Gap) -> list[Cut]:
    if gap.anchor is None:  # after the last row: all deviation note
        return [Cut(tuple(Piece(line.text, line, True) for line in gap.lines), (), ())]
    need = _cells_needed(gap.anchor)
    lead_labels = _lead_labels(gap.anchor)
    max_groups = need + 2 - len(lead_labels)
    cuts = []
    first = max(0, len(gap.lines) - MAX_ROW_LINES)  # longer runs of lines can only be a note
    for s in range(first, len(gap.lines) + 1):
        if s and gap.prev is None:
            break  # nothing before the first row can be a note
        note = tuple(Piece(line.text, line, True) for line in gap.lines[:s])
        for groups in _groupings(_pieces(gap.lines[s:]), max_groups):
            if len(groups) < need:
                continue
            labels, cells = groups[: len(groups) - need], groups[len(groups) - need :]
            if not all(_is_label(_join(g)) for g in labels):
                continue
            if not all(_balanced(_join(g)) for g in cells):
                continue
            cuts.append(Cut(note, tuple(labels), tuple(cells)))
    return cuts


def _pieces(lines: list[Line]) -> list[Piece]:
    pieces = []
    for line in lines:
        tokens = line.tokens
        if len(tokens) == 1:
            pieces.append(Piece(tokens[0], line, True))
        else:
            pieces.extend(Piece(t, line, False) for t in tokens)
    return pieces


def _groupings(pieces: list[Piece], max_groups: int) -> list[list[tuple[Piece, ...]]]:
    """Every way to join neighbouring whole-line pieces into at most max_groups cells."""
    if not pieces:
        return [[]]
    joinable = [i for i in range(len(pieces) - 1) if pieces[i].mergeable and pieces[i + 1].mergeable]
    forced = len(pieces) - 1 - len(joinable)  # boundaries between tokens of one line always separate
    out = []
    for kept in range(0, max_groups - forced):
        for separate in combinations(joinable, kept):
            starts = {0} | {i + 1 for i in range(len(pieces) - 1) if i not in joinable or i in separate}
            bounds = sorted(starts) + [len(pieces)]
            out.append([tuple(pieces[a:b]) for a, b in zip(bounds, bounds[1:], strict=False)])
    return out


def _join(pieces: tuple[Piece, ...] | list[Piece]) -> str:
    return clean_text("".join(p.text for p in pieces))


def _is_label(text: str) -> bool:
    return text.endswith(LEVEL_NAME_SUFFIX) and len(text) <= MAX_LABEL_CHARS and not _LABEL_PUNCT.search(text)


def _balanced(text: str) -> bool:
    depth = 0
    for ch in text:
        if ch in "(（":
            depth += 1
        elif ch in ")）":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


# ---------------------------------------------------------------- choosing between readings


def _label_columns(labels: tuple[str, ...]) -> list[str]:
    if len(labels) == 2:
        return ["level1", "level2"]
    if len(labels) == 1:
        return ["level1" if labels[0] in LEVEL1_NAMES and labels[0] not in LEVEL2_NAMES else "level2"]
    return []


def _cell_columns(gap: Gap) -> list[str]:
    return ["level3", "target", "actual"][: _cells_needed(gap.anchor)]


def _cost(gap: Gap, cut: Cut, widths: dict[str, float]) -> float:
    cost = 0.0
    if cut.note:
        prev = gap.prev
        if prev is not None and prev.weight is not None and prev.weight == prev.score:
            cost += COST_NOTE_ON_FULL_SCORE
        cost += sum(COST_LABEL_IN_NOTE for p in cut.note if _is_label(clean_text(p.text)))
    cost += COST_SPLIT_LINE * _split_single_cells(gap, cut)
    texts = cut.label_texts() + _lead_labels(gap.anchor)
    cost += sum(COST_UNKNOWN_LABEL for t in texts if t not in LEVEL1_NAMES | LEVEL2_NAMES)
    run_on = (p for g in cut.labels for p in g[:-1] if clean_text(p.text).endswith(LEVEL_NAME_SUFFIX))
    cost += COST_LABEL_RUN_ON * sum(1 for _ in run_on)
    if len(texts) == 1 and _label_columns(texts) == ["level1"]:
        cost += COST_LEVEL1_ALONE
    cost += sum(COST_LABEL_AS_CELL for g in cut.cells if _join(g) in LEVEL1_NAMES | LEVEL2_NAMES)
    for column, group in _column_groups(gap, cut):
        width = widths.get(column)
        if width is None:
            continue
        for piece in group[:-1]:  # a wrapped cell's lines but the last fill the column
            cost += max(0.0, width - WRAP_SLACK - piece.width)
    return cost


def _column_groups(gap: Gap, cut: Cut) -> list[tuple[str, tuple[Piece, ...]]]:
    """Each group of a cut with the table column it is read as."""
    texts = cut.label_texts() + _lead_labels(gap.anchor)
    groups = list(zip(_label_columns(texts), cut.labels, strict=False))
    groups += list(zip(_cell_columns(gap), cut.cells, strict=True))
    if cut.note:
        groups.append(("note", cut.note))
    return groups


def _split_single_cells(gap: Gap, cut: Cut) -> int:
    """Neighbouring single-line cells of one row on separate lines (a dump prints them on one line)."""
    if gap.anchor is None:
        return 0
    cells = [(len(g) == 1, g[0].line) for g in cut.cells]
    cells += [(True, gap.anchor.line) for _ in gap.anchor.lead[-3:]]
    return sum(1 for (a, la), (b, lb) in zip(cells, cells[1:], strict=False) if a and b and la is not lb)


def _learn_widths(gaps: list[Gap]) -> dict[str, float]:
    widths: dict[str, float] = {}
    for gap in gaps:
        cut = gap.chosen
        if cut is None or gap.unsure:
            continue
        for column, group in _column_groups(gap, cut):
            for piece in group:
                widths[column] = max(widths.get(column, 0.0), piece.width)
        if gap.anchor is not None:
            lead = gap.anchor.lead[-3:]
            for column, token in zip(("level3", "target", "actual")[3 - len(lead) :], lead, strict=True):
                widths[column] = max(widths.get(column, 0.0), text_width(token))
    return widths


def _choose_cuts(gaps: list[Gap]) -> None:
    for gap in gaps:
        gap.cuts = _enumerate_cuts(gap)
    widths: dict[str, float] = {}
    for _ in range(4):  # widths learnt from settled gaps settle more gaps
        for gap in gaps:
            _choose(gap, widths)
        learnt = _learn_widths(gaps)
        if learnt == widths:
            break
        widths = learnt


def _choose(gap: Gap, widths: dict[str, float]) -> None:
    if not gap.cuts:
        gap.chosen, gap.unsure = None, {"note", "labels", "cells"}
        return
    scored = sorted(((round(_cost(gap, cut, widths), 6), n, cut) for n, cut in enumerate(gap.cuts)))
    best_cost, _, best = scored[0]
    rivals = [cut for cost, _, cut in scored[1:] if cost <= best_cost + TIE]
    unsure = set()
    for rival in rivals:
        a, b = best.reading(), rival.reading()
        for part, x, y in zip(("note", "labels", "cells"), a, b, strict=True):
            if x != y:
                unsure.add(part)
    if best_cost >= IRREGULAR:  # even the best reading breaks the table's layout somewhere
        unsure |= {"labels", "cells"}
    gap.chosen, gap.unsure, gap.irregular = best, unsure, best_cost >= IRREGULAR


# ---------------------------------------------------------------- rows


def _rows(gaps: list[Gap]) -> TableResult:
    indicators: list[Indicator] = []
    uncertain: list[str] = []
    nameless = 0
    level1 = level2 = None
    unsure1 = unsure2 = True  # nothing known before the first label
    for gap in gaps:
        cut = gap.chosen
        if indicators and cut is not None and _join(cut.note):
            last = indicators[-1]
            last.deviation_note = (last.deviation_note or "") + _join(cut.note)
        if indicators and "note" in gap.unsure:
            uncertain.append(f"indicators[{len(indicators) - 1}].deviation_note")
        if gap.anchor is None:
            break
        labels = (cut.label_texts() if cut else ()) + _lead_labels(gap.anchor)
        level1, level2, unsure1, unsure2 = _apply_labels(labels, level1, level2, unsure1, unsure2)
        if "labels" in gap.unsure or cut is None:
            unsure1 = unsure2 = True
        cells = [_join(group) or None for group in cut.cells] if cut else []
        cells += [clean_text(t) or None for t in gap.anchor.lead[-3:]]
        cells = ([None] * 3 + cells)[-3:]
        extra = _lead_extra(gap.anchor)
        odd_tokens = bool(extra) and not _lead_labels(gap.anchor)
        if odd_tokens:  # more tokens than cells: a cell printed with a space in it
            cells[0] = clean_text("".join(extra)) + (cells[0] or "")
        first_line = cut.cells[0][0].line if cut and cut.cells else gap.anchor.line
        row = Indicator(
            level1=level1,
            level2=level2,
            level3=cells[0],
            target=cells[1],
            actual=cells[2],
            weight=gap.anchor.weight,
            score=gap.anchor.score,
            deviation_note=gap.anchor.note or None,
            page=first_line.page,
        )
        n = len(indicators)
        indicators.append(row)
        nameless += cut is None or gap.irregular or row.level3 in LEVEL1_NAMES | LEVEL2_NAMES | {None}
        if unsure1:
            uncertain.append(f"indicators[{n}].level1")
        if unsure2:
            uncertain.append(f"indicators[{n}].level2")
        if "cells" in gap.unsure or cut is None or odd_tokens:
            uncertain.extend(f"indicators[{n}].{f}" for f in ("level3", "target", "actual"))
    return TableResult(indicators, list(dict.fromkeys(uncertain)), nameless)


def _apply_labels(
    labels: tuple[str, ...], level1: str | None, level2: str | None, unsure1: bool, unsure2: bool
) -> tuple[str | None, str | None, bool, bool]:
    """The level1/level2 in force after a row's labels (a merged cell's text covers the rows below)."""
    if len(labels) >= 2:
        return labels[-2], labels[-1], False, False
    if len(labels) == 1:
        label = labels[0]
        if label in LEVEL1_NAMES and label not in LEVEL2_NAMES:
            if label == level1:
                return level1, level2, unsure1, unsure2  # repeated on a continuation page
            return label, None, False, True  # a new 一级指标 without its 二级指标
        if label in LEVEL2_NAMES and label not in LEVEL1_NAMES:
            return level1, label, unsure1, False
        if label == level1:
            return level1, level2, unsure1, unsure2
        return level1, label, unsure1, True  # which level an unknown label is cannot be told
    return level1, level2, unsure1, unsure2
