"""The order in which a producer writes a page's text into the content stream.

Reading order is what office exporters do. The scrambled order imitates the Songjiang producer
(see the sj-*.txt dumps): text is written group by group (a column of numbers, then the labels,
then the goal texts...), groups come in no particular order, runs inside a group are sometimes
reversed, and the title block (title, 项目名称, 主管部门/实施单位) comes last. A seeded RNG keeps
the output reproducible.
"""

from __future__ import annotations

import random

from .layout import DrawnCell, TextLine
from .style import Style

LAST_GROUPS = ("title", "head")  # written at the very end, as in the sj-*.txt dumps


def reading_order(cells: tuple[DrawnCell, ...]) -> list[TextLine]:
    return [line for cell in cells for line in cell.lines]


def _chunks(cells: list[tuple[TextLine, ...]], rng: random.Random) -> list[TextLine]:
    """Cut a group into runs of 1-4 cells and reverse some runs' order.

    A cell's own lines stay in order: producers write one cell as one text object.
    """
    out: list[TextLine] = []
    i = 0
    while i < len(cells):
        n = rng.randint(1, 4)
        chunk = cells[i : i + n]
        for cell in reversed(chunk) if rng.random() < 0.3 else chunk:
            out.extend(cell)
        i += n
    return out


def scrambled_order(cells: tuple[DrawnCell, ...], seed: str) -> list[TextLine]:
    rng = random.Random(seed)  # str seeds hash deterministically (not PYTHONHASHSEED-dependent)
    groups: dict[str, list[tuple[TextLine, ...]]] = {}
    for cell in cells:
        if cell.lines:
            groups.setdefault(cell.group, []).append(cell.lines)
    body = [name for name in groups if name not in LAST_GROUPS]
    rng.shuffle(body)
    tail = [name for name in LAST_GROUPS if name in groups]
    out: list[TextLine] = []
    for name in body:
        out.extend(_chunks(groups[name], rng))
    for name in tail:
        out.extend(line for cell in groups[name] for line in cell)
    return out


def text_order(cells: tuple[DrawnCell, ...], style: Style, page_no: int) -> list[TextLine]:
    if style.text_order == "scrambled":
        return scrambled_order(cells, f"{style.seed}:{page_no}")
    return reading_order(cells)
