"""The hand-checked sample records and a field-by-field comparison under the samples' rules."""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

from extract.record import FundingLine, Indicator, Record, Source
from extract.validate import validate

GOLD_PATH = Path(__file__).parent / "fixtures" / "reports.json"
SCALARS = (
    "fiscal_year",
    "project_name",
    "supervising_dept",
    "implementing_unit",
    "total_weight",
    "total_score",
    "grade",
    "goal_expected",
    "goal_actual",
)
FUNDING = ("line", "budget_initial", "budget_full_year", "executed", "weight", "execution_rate_pct", "score")
INDICATOR = ("level1", "level2", "level3", "target", "actual", "weight", "score", "deviation_note")


@cache
def gold_records() -> tuple[dict, ...]:
    return tuple(json.loads(GOLD_PATH.read_text(encoding="utf-8")))


def gold(key: str) -> dict:
    return next(r for r in gold_records() if r["key"] == key)


def norm(value):
    """Numbers as rounded floats, text without whitespace, "-" and "" as None."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return round(float(value), 4)
    text = re.sub(r"\s+", "", str(value))
    return None if text in ("", "-") else text


def field_diffs(expected: dict, got: dict, skip: set[str] = frozenset()) -> list[str]:
    """Every field path where got differs from expected, as 'path: expected != got'."""
    pairs = [(f, expected.get(f), got.get(f)) for f in SCALARS]
    for kind, names in (("funding", FUNDING), ("indicators", INDICATOR)):
        exp_rows, got_rows = expected.get(kind) or [], got.get(kind) or []
        if len(exp_rows) != len(got_rows):
            pairs.append((f"{kind}.length", len(exp_rows), len(got_rows)))
        for i, row in enumerate(exp_rows):
            other = got_rows[i] if i < len(got_rows) else {}
            pairs.extend((f"{kind}[{i}].{n}", row.get(n), other.get(n)) for n in names)
    return [f"{path}: {a!r} != {b!r}" for path, a, b in pairs if path not in skip and norm(a) != norm(b)]


def record_from_gold(gold: dict, file: str, sha: str, form_index: int) -> Record:
    """A validated Record carrying a gold transcription, as a reader would return it."""
    record = Record(
        fiscal_year=gold["fiscal_year"],
        project_name=gold["project_name"],
        supervising_dept=gold["supervising_dept"],
        implementing_unit=gold["implementing_unit"],
        funding=[FundingLine(**f) for f in gold["funding"]],
        goal_expected=gold["goal_expected"],
        goal_actual=gold["goal_actual"],
        indicators=[Indicator(**i) for i in gold["indicators"]],
        total_weight=gold["total_weight"],
        total_score=gold["total_score"],
        grade=gold["grade"],
        source=Source(file, sha, [form_index], form_index),
        uncertain_fields=list(gold.get("text_ambiguous") or []),
    )
    record.checks = validate(record)
    return record


def match_gold(record: dict) -> dict:
    """The gold record for an extracted one, by project, unit and department."""
    ident = tuple(norm(record.get(k)) for k in ("project_name", "implementing_unit", "supervising_dept"))
    found = [
        g
        for g in gold_records()
        if tuple(norm(g.get(k)) for k in ("project_name", "implementing_unit", "supervising_dept")) == ident
    ]
    assert len(found) == 1, f"no single gold record for {ident}"
    return found[0]


def mismatches(records) -> dict[str, list[str]]:
    """Per project, the first fields where extracted Records differ from their gold records."""
    wrong = {}
    for record in records:
        diffs = field_diffs(match_gold(record.to_dict()), record.to_dict())
        if diffs:
            wrong[record.project_name] = diffs[:5]
    return wrong
