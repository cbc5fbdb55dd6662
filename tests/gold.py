"""The hand-checked sample records and a field-by-field comparison under the samples' rules."""

from __future__ import annotations

import json
import re
from functools import cache

from paths import FIXTURES, GOLD_PATH

from extract.record import FundingLine, Indicator, Record, Source
from extract.validate import validate

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


# ------------------------------------------------------------------ the real-world cases

CASES_DIR = FIXTURES / "cases"
CASE_TOLERANCE = 0.005  # numbers as the shared case scorer compares them


def _case_same(expected, got) -> bool:
    if isinstance(expected, float) or isinstance(got, float):
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (expected, got))
        return numeric and abs(float(expected) - float(got)) < CASE_TOLERANCE
    if isinstance(expected, str) and isinstance(got, str):
        return re.sub(r"\s+", "", expected) == re.sub(r"\s+", "", got)
    return expected == got


def _case_fields(expected: dict, got: dict):
    for name in SCALARS:
        yield name, expected.get(name), got.get(name)
    for kind, names in (("funding", FUNDING[1:]), ("indicators", INDICATOR)):
        exp_rows, got_rows = expected.get(kind, []), got.get(kind, [])
        for i in range(max(len(exp_rows), len(got_rows))):
            e = exp_rows[i] if i < len(exp_rows) else {}
            g = got_rows[i] if i < len(got_rows) else {}
            for name in names:
                yield f"{kind}[{i}].{name}", e.get(name, "<absent>"), g.get(name, "<absent>")


def case_differences(expected: dict, got: dict) -> list[tuple[str, str]]:
    """(flag, 'path: expected … got …') per field that differs, the way the shared case scorer
    judges it: "U" when the path (or its row) is in uncertain_fields, "C" when the record has a
    failed check, else "SILENT". Fields the expectation sets to "__skip__" are not compared."""
    failed = any(not c.get("passed", True) for c in got.get("checks", []))
    uncertain = set(got.get("uncertain_fields", []))
    out = []
    for path, e, g in _case_fields(expected, got):
        if e == "__skip__" or _case_same(e, g):
            continue
        flag = "U" if path in uncertain or path.split(".")[0] in uncertain else ("C" if failed else "SILENT")
        out.append((flag, f"{path}: expected {e!r} got {g!r}"))
    return out


def case_verdict(expected: list[dict], result) -> tuple[str, list[tuple[str, str]]]:
    """PASS / FLAGGED / SILENT / REFUSED / MISSING for one case's FileResult, with the differences."""
    got = [r.to_dict() for r in result.records]
    if not got:
        return "REFUSED", [("E", f"{e.error_class}: {e.message}") for e in result.errors]
    if len(got) < len(expected):
        return "MISSING", []
    diffs = [d for e, g in zip(expected, got, strict=False) for d in case_differences(e, g)]
    if any(flag == "SILENT" for flag, _ in diffs):
        return "SILENT", diffs
    return ("FLAGGED" if diffs else "PASS"), diffs
