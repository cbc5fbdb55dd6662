"""The funding block (项目资金): header columns, four funding lines, values put in their columns.

Most forms print every cell ("65.67 24.88 21.38 10.00 85.93 8.59"). A variant prints fewer values
than the header has columns ("5231 2103.74 10 40.22% 4.02" under six columns): a blank cell leaves
no trace in the text. Every order-keeping placement of the values in the columns is tried; a "%"
value can only be the rate, and when some placements make the printed rate equal executed / budget
only those are kept. A field on which the remaining placements disagree is uncertain; the value
given is that of the placement filling the leftmost columns (the first amount is the initial budget).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from ..cells import parse_number, parse_percent
from ..record import FUNDING_LINES, FUNDING_VALUE_FIELDS, FundingLine
from ..validate import execution_rate
from ..vocabulary import funding_header_fields, funding_line_of, funding_unit, funding_value_in_wan
from .lines import Line

RATE_TOLERANCE = 0.011  # printed rates are rounded or truncated to two decimals


@dataclass
class FundingResult:
    """项目资金 as read from a dump: the four FundingLines (amounts in 万元), the paths not read with
    certainty ("funding[0].budget_initial"), the header's columns, and the lines after the
    funding lines."""

    lines: list[FundingLine]
    uncertain: list[str] = field(default_factory=list)  # paths such as "funding[0].budget_initial"
    columns: list[str] = field(default_factory=list)
    leftover: list[Line] = field(default_factory=list)  # lines after the funding lines: row labels, …


def parse_funding(lines: list[Line], head: list[Line]) -> FundingResult:
    """Read the funding section (the header line and what follows up to the goals), amounts in 万元.

    The block's unit is read from its label (项目资金（元）) among the `head` lines before the header
    or the lines between the funding lines, or from the header (年初预算数（元）); amounts of a
    block whose unit is unknown are kept as printed and marked uncertain.
    """
    columns: list[str] = []
    header_done = False
    values: dict[int, list[str]] = {}
    leftover: list[Line] = []
    current: int | None = None
    for line in lines:
        which, rest = funding_line_of(line.text)
        if which is not None:
            header_done = True
            current = which
            values.setdefault(which, []).extend(rest.split())
            continue
        if not header_done:
            columns.extend(funding_header_fields(line.clean))
        elif current is not None and line.tokens and all(_is_value(t) for t in line.tokens):
            values[current].extend(line.tokens)  # values wrapped onto the next line
        else:
            current = None
            leftover.append(line)
    columns = columns or list(FUNDING_VALUE_FIELDS)
    result = FundingResult([], columns=columns, leftover=leftover)
    labels = "".join(line.clean for line in head + leftover)
    header = [line.clean for line in lines if funding_line_of(line.text)[0] is None]
    unit = funding_unit([labels, *header])
    for i, name in enumerate(FUNDING_LINES):
        funding_line = FundingLine(line=name)
        if i not in values:
            result.uncertain.extend(f"funding[{i}].{f}" for f in FUNDING_VALUE_FIELDS)
        else:
            placed, unsure = place_values(values[i], columns)
            for f, v in placed.items():
                v, certain = funding_value_in_wan(f, v, unit)
                if not certain:
                    unsure.add(f)
                setattr(funding_line, f, v)
            result.uncertain.extend(f"funding[{i}].{f}" for f in FUNDING_VALUE_FIELDS if f in unsure)
        result.lines.append(funding_line)
    return result


def _is_value(token: str) -> bool:
    try:
        parse_percent(token)
    except ValueError:
        return False
    return True


def place_values(tokens: list[str], columns: list[str]) -> tuple[dict[str, float | None], set[str]]:
    """Values put in their columns, and the fields whose column the text cannot settle."""
    fields = list(FUNDING_VALUE_FIELDS)
    if len(tokens) > len(columns) or not all(_is_value(t) for t in tokens):
        return {f: None for f in fields}, set(fields)
    placements = []
    for cols in combinations(range(len(columns)), len(tokens)):
        placed = _placement(tokens, [columns[c] for c in cols])
        if placed is not None:
            placements.append(placed)
    if not placements:
        return {f: None for f in fields}, set(fields)
    consistent = [p for p in placements if _rate_consistent(p)]
    kept = consistent or placements
    chosen = kept[0]  # combinations() yields the leftmost columns first
    unsure = {f for f in fields if any(p.get(f) != chosen.get(f) for p in kept)}
    return {f: chosen.get(f) for f in fields}, unsure


def _placement(tokens: list[str], fields: list[str]) -> dict[str, float | None] | None:
    placed: dict[str, float | None] = {}
    for token, f in zip(tokens, fields, strict=True):
        if f == "execution_rate_pct":
            placed[f] = parse_percent(token)
        elif token.rstrip().endswith(("%", "％")):
            return None  # a percentage can only be the rate
        else:
            placed[f] = parse_number(token)
    return placed


def _rate_consistent(placed: dict[str, float | None]) -> bool:
    """The printed rate equals executed / budget (full-year, else initial); False when unverifiable."""
    rate = placed.get("execution_rate_pct")
    expected = execution_rate(
        placed.get("budget_initial"), placed.get("budget_full_year"), placed.get("executed")
    )
    if rate is None or expected is None:
        return False
    return abs(expected - rate) <= RATE_TOLERANCE
