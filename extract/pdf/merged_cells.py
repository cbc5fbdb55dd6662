"""Indicator rows and their merged 一级/二级指标 cells across page breaks and producer habits: text
repeated after a break or not, rows and names broken by a break, merged cells cut by full-width rules."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..record import MERGED_LEVEL_FIELDS, NUMERIC_FIELDS, ROW_TEXT_FIELDS, Indicator
from ..vocabulary import LEVEL_NAME_SUFFIX
from .layout import MIN_EM, SAME_EDGE
from .table import Cell, Form

# Tolerances, in pt unless said otherwise.
CUT_TEXT_GAP_EM = 0.6  # em: pieces of one text that a rule cuts between two rows are closer than this
ROOM_TO_SPARE = 6.0  # a 分值 cell with this much blank above or below its text shows the alignment
TOP_ALIGNED_BLANKS = 3  # text is top-aligned when the blank below it is over this many times the one above
CENTRED = 2.0  # text is centred when the blanks above and below differ by less than this
CENTRE_MATCH = 3.0  # a text centred within this of a run of rows is those rows' merged cell's
MIN_CUT_CELLS = 6  # cells: this many one-row 一级指标 cells can only be merged cells the producer cut


@dataclass(frozen=True)
class LevelCell:
    """Where a row's 一级/二级指标 cell lies: its (possibly merged) extent, the row's own band, and
    the extent of the text found in it."""

    top: float
    bottom: float
    at_top: bool  # touches the top of the table body on its page
    at_bottom: bool
    row_top: float
    row_bottom: float
    text_top: float | None = None
    text_bottom: float | None = None
    text_size: float = 0.0

    @property
    def span(self) -> tuple[float, float]:
        """The cell's vertical extent (top, bottom) in pt: what tells one merged cell from another."""
        return (self.top, self.bottom)

    @property
    def one_row(self) -> bool:
        """Whether the cell is only as high as its row (a rule crosses the column at both ends)."""
        return abs(self.top - self.row_top) < SAME_EDGE and abs(self.bottom - self.row_bottom) < SAME_EDGE


@dataclass
class Row:
    """One indicator row as read from its band of the table: the cells' texts by field, its
    一级/二级指标 cells, the fields the geometry did not settle, the blank (pt) above and below its
    分值 text, and the cells each field was read from."""

    part: int
    values: dict[str, str | None]
    level_cells: dict[str, LevelCell]
    # fields not settled by the geometry: a guessed column edge, an unknown column beside them,
    # stacked numbers, a band cut between values
    guessed: set[str] = field(default_factory=set)
    gaps: tuple[float, float] | None = None  # blank above and below the 分值 text in its row
    # field → the cells (part, x0, x1, top, bottom) it was read from (several when a page break
    # split the row)
    cells: dict[str, list[Cell]] = field(default_factory=dict)


def join_rows_split_by_page_breaks(rows: list[Row]) -> list[Row]:
    """Some producers let a row break across pages: the piece without 分值 and 得分, on either side
    of the break, belongs to the row across it. A level name cut by the same break is joined, and
    the rows below that share the cut cell get the joined name too."""
    out: list[Row] = []
    # (part, level, cell span) -> (tail text, joined name)
    renamed: dict[tuple[int, str, tuple[float, float] | None], tuple[str | None, str]] = {}
    for row in rows:
        for name in MERGED_LEVEL_FIELDS:
            cell = row.level_cells.get(name)
            old_new = renamed.get((row.part, name, cell.span if cell else None))
            if old_new and row.values.get(name) == old_new[0]:
                row.values[name] = old_new[1]
        prev = out[-1] if out else None
        if prev and row.part > prev.part and not (_has_numbers(row) and _has_numbers(prev)):
            for name in ROW_TEXT_FIELDS:
                head, tail = prev.values.get(name), row.values.get(name)
                prev.values[name] = (head or "") + (tail or "") or None
            for name in NUMERIC_FIELDS:
                prev.values[name] = prev.values.get(name) or row.values.get(name)
            for name in MERGED_LEVEL_FIELDS:
                head, tail = prev.values.get(name), row.values.get(name)
                joined = _split_name(head, tail)
                cell = row.level_cells.get(name)
                if joined:
                    renamed[(row.part, name, cell.span if cell else None)] = (tail, joined)
                prev.values[name] = joined or head or tail
            prev.guessed |= row.guessed
            for name, cells in row.cells.items():
                prev.cells.setdefault(name, []).extend(cells)
            continue
        out.append(row)
    return out


def _has_numbers(row: Row) -> bool:
    return bool(row.values.get("weight") or row.values.get("score"))


def _split_name(head: str | None, tail: str | None) -> str | None:
    """The level name a page break cut in two ("产出指" + "标"), if head and tail are that."""
    if head and tail and not head.endswith(LEVEL_NAME_SUFFIX) and (head + tail).endswith(LEVEL_NAME_SUFFIX):
        return head + tail
    return None


def _join_text_split_by_page_breaks(rows: list[Row], values: list[str | None], name: str) -> None:
    """A producer that breaks a merged cell across pages may break its text too ("产出指" / "标").
    Level names end in 指标, so only a head that does not is joined to its tail; repeated text
    (head == tail) and a new cell at the top of the page are left alone."""
    for i in range(1, len(rows)):
        if rows[i].part == rows[i - 1].part or name not in rows[i].level_cells:
            continue
        head, tail = values[i - 1], values[i]
        joined = _split_name(head, tail)
        if joined is None:
            continue
        for j, row in enumerate(rows):
            spans = {r.level_cells[name].span for r in (rows[i - 1], rows[i]) if name in r.level_cells}
            same_cell = name in row.level_cells and row.level_cells[name].span in spans
            if row.part in (rows[i - 1].part, rows[i].part) and same_cell and values[j] in (head, tail):
                values[j] = joined


def _valign(rows: list[Row]) -> str | None:
    """How the producer places text vertically in cells, from 分值 cells with room to spare:
    "top", "middle", or None when the rows do not tell."""
    votes = []
    for row in rows:
        if row.gaps and max(row.gaps) > ROOM_TO_SPARE:
            above, below = row.gaps
            top = above < below / TOP_ALIGNED_BLANKS
            votes.append("top" if top else "middle" if abs(above - below) < CENTRED else "other")
    if len(votes) < 2 or len(set(votes)) > 1 or votes[0] == "other":
        return None
    return votes[0]


def _producer_cuts_merged_cells(rows: list[Row]) -> bool | None:
    """Whether the producer draws a rule between every two rows right through the 一级指标
    column: a form has a handful of 一级指标 over many rows, so its cells can only all be one row
    high if merged cells were cut. None when the rows cannot tell: every cell one row high, but
    too few rows for that to be unlikely."""
    cells = [r.level_cells["level1"] for r in rows if "level1" in r.level_cells]
    if not all(c.one_row for c in cells):
        return False
    return True if len(cells) >= MIN_CUT_CELLS else None


# One part's cells of a level column: row indices, their cells, and the text runs in them
# (first, last, text, centre y) as _text_blocks finds them.
PartBlocks = tuple[list[int], list[LevelCell], list[tuple[int, int, str, float]]]


def _blocks_by_part(rows: list[Row], values: list[str | None], name: str) -> dict[int, PartBlocks]:
    """Per part, the level column's cells and the runs of text in them, before any is joined."""
    out: dict[int, PartBlocks] = {}
    for part in sorted({r.part for r in rows}):
        idx = [i for i, r in enumerate(rows) if r.part == part and name in r.level_cells]
        cells = [rows[i].level_cells[name] for i in idx]
        out[part] = (idx, cells, _text_blocks(idx, cells, values))
    return out


def _join_text_cut_by_rules(
    values: list[str | None], blocks: dict[int, PartBlocks], certain: bool
) -> set[int]:
    """A text that a rule cuts between two rows of one-row cells ("经济成本指" / "标") is one
    cell's: every row of the run gets the whole text. Returns the rows so filled when that is not
    `certain` (the rows cannot tell whether the producer cuts merged cells) or the joined text is
    no whole name: their field is uncertain."""
    unsure: set[int] = set()
    for idx, cells, runs in blocks.values():
        if not all(c.one_row for c in cells):
            continue  # real merged cells hold their text whole
        for first, last, text, _ in runs:
            if last > first:
                for k in range(first, last + 1):
                    values[idx[k]] = text
                    if not (certain and text.endswith(LEVEL_NAME_SUFFIX)):
                        unsure.add(idx[k])
    return unsure


def _cut_cell_text(
    rows: list[Row],
    values: list[str | None],
    blocks: dict[int, PartBlocks],
    first_part: int,
    cut_parts: set[int],
) -> set[int]:
    """Rows of merged level cells that the producer's full-width rules cut into one cell per row:
    the text sits in one row, and the cell it belongs to is inferred from how the producer aligns
    text (top-aligned: the text's row and those below it; centred: the rows it is centred on).
    Returns the rows so filled; rows the geometry cannot settle are left empty. Parts whose level
    cells are cut row by row are added to cut_parts."""
    filled: set[int] = set()
    for part, (idx, cells, runs) in blocks.items():
        if not cells or not all(c.one_row for c in cells):
            continue  # real merged cells
        cut_parts.add(part)
        if all(values[i] for i in idx):
            continue
        align = _valign([rows[i] for i in idx])
        if not runs or align is None or (runs[0][0] > 0 and part != first_part):
            continue  # the first cell may continue from the previous page: its start is unknown
        start = 0
        for n, (first, last, _, centre) in enumerate(runs):
            text = values[idx[first]]  # the run's text, joined across a page break where it was cut
            end_limit = runs[n + 1][0] - 1 if n + 1 < len(runs) else len(idx) - 1
            if align == "top":
                if first != start:
                    break
                end = end_limit
            else:
                end = min(
                    range(last, end_limit + 1),
                    key=lambda e: abs((cells[start].row_top + cells[e].row_bottom) / 2 - centre),
                )
                if abs((cells[start].row_top + cells[end].row_bottom) / 2 - centre) > CENTRE_MATCH:
                    break
            for k in range(start, end + 1):
                values[idx[k]] = text
                filled.add(idx[k])
            start = end + 1
    return filled


def _printed_text(value: str | None, cell: LevelCell) -> tuple[str, float, float] | None:
    """A level cell's own text with the top and bottom (pt) of its glyphs; None where no glyph was
    found in the cell: a value carried over from another row (a name joined across a page break)
    has no place in this cell."""
    if not value or cell.text_top is None or cell.text_bottom is None:
        return None
    return value, cell.text_top, cell.text_bottom


def _text_blocks(
    idx: list[int], cells: list[LevelCell], values: list[str | None]
) -> list[tuple[int, int, str, float]]:
    """(first, last, text, centre y) of each run of texts; a text that a rule cuts between two
    rows ("服务对象满" / "意度指标") is one run. A piece that is a whole name (it ends in 指标)
    ends its run: in tight rows the next row's own name sits as close."""
    blocks = []
    k = 0
    printed = [_printed_text(values[i], cell) for i, cell in zip(idx, cells, strict=True)]
    while k < len(idx):
        own = printed[k]
        if own is None:
            k += 1
            continue
        first, (text, top, bottom) = k, own
        while (
            k + 1 < len(idx)
            and not text.endswith(LEVEL_NAME_SUFFIX)
            and (below := printed[k + 1]) is not None
            and below[1] - bottom < CUT_TEXT_GAP_EM * max(cells[k].text_size, MIN_EM)
        ):
            k += 1
            text, bottom = text + below[0], below[2]
        blocks.append((first, k, text, (top + bottom) / 2))
        k += 1
    return blocks


def fill_merged(form: Form, rows: list[Row], indicators: list[Indicator]) -> None:
    """Give every row the text of the merged level cell it sits in.

    A merged cell cut by a page break may print its text on either side of the break, or on both:
    an empty cell at the top of a page takes the text of the previous page's last row, one at the
    bottom the text of the next page's first row. An empty cell elsewhere is filled from a
    neighbour and marked uncertain.
    """
    n = len(indicators)
    cuts = _producer_cuts_merged_cells(rows)
    for name in MERGED_LEVEL_FIELDS:
        values = [getattr(ind, name) for ind in indicators]
        # Runs of text across a rule are joined before names cut by a page break, so that the
        # tail of one ("标") is not taken for the head of the next page's name.
        blocks = _blocks_by_part(rows, values, name) if cuts is not False else {}
        unsure = _join_text_cut_by_rules(values, blocks, certain=bool(cuts))
        form.uncertain.extend(f"indicators[{i}].{name}" for i in sorted(unsure))
        _join_text_split_by_page_breaks(rows, values, name)
        cut_parts: set[int] = set()
        inferred = (
            _cut_cell_text(rows, values, blocks, rows[0].part if rows else 0, cut_parts) if cuts else set()
        )
        for i in range(n):
            if values[i] or name not in rows[i].level_cells or i in inferred:
                setattr(indicators[i], name, values[i])
                continue
            at_top, at_bottom = rows[i].level_cells[name].at_top, rows[i].level_cells[name].at_bottom
            before = [j for j in range(i) if rows[j].part < rows[i].part]
            after = [j for j in range(i + 1, n) if rows[j].part > rows[i].part]
            cut = rows[i].part in cut_parts  # a cut cell at a page edge may as well start a new one
            if at_top and before and values[before[-1]] and not cut:
                values[i] = values[before[-1]]
            elif at_bottom and after and values[after[0]] and not cut:
                values[i] = values[after[0]]
            else:
                values[i] = (
                    values[i - 1]
                    if i > 0 and values[i - 1]
                    else next((v for v in values[i + 1 :] if v), None)
                )
                if values[i]:
                    form.uncertain.append(f"indicators[{i}].{name}")
            setattr(indicators[i], name, values[i])
