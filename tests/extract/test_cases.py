"""The real-world cases (tests/fixtures/cases, copied from the shared material): each a small form
carrying one condition published PDFs show. Every case reads as its expected record says; where
the expected record says a value cannot be known, the field must be flagged, never given as fact."""

from __future__ import annotations

import json

import pytest
from gold import CASES_DIR, case_verdict

from extract import extract_file

CASES = sorted(p.stem for p in (CASES_DIR / "expected").glob("*.json"))
# Cases whose values cannot all be read from the file: the unreadable fields must be flagged.
MAY_BE_FLAGGED = {"02-partial-tounicode-cid"}


def test_cases_found():
    assert len(CASES) >= 12


@pytest.mark.parametrize("name", CASES)
def test_case_reads_as_expected(name):
    (path,) = (CASES_DIR / "inputs").glob(name + ".*")
    expected = json.loads((CASES_DIR / "expected" / f"{name}.json").read_text(encoding="utf-8"))
    verdict, diffs = case_verdict(expected, extract_file(path))
    allowed = {"PASS", "FLAGGED"} if name in MAY_BE_FLAGGED else {"PASS"}
    assert verdict in allowed, diffs
