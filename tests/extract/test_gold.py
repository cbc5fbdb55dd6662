"""The gold comparison (tests/gold.py) the extraction tests rely on: a record with a row too many
or too few is a difference, not a match."""

from __future__ import annotations

import copy

from gold import case_differences, field_diffs, gold

JD01 = gold("jd-01")


def _with(edit) -> dict:
    got = copy.deepcopy(JD01)
    edit(got)
    return got


def test_the_gold_record_matches_itself():
    assert field_diffs(JD01, copy.deepcopy(JD01)) == []
    assert case_differences(JD01, copy.deepcopy(JD01)) == []


def test_an_extra_indicator_row_is_a_difference():
    extra = {**JD01["indicators"][0], "level3": "多读出的一行"}
    got = _with(lambda r: r["indicators"].append(extra))
    n = len(JD01["indicators"])
    assert f"indicators.length: {n!r} != {n + 1!r}" in field_diffs(JD01, got)
    flags = case_differences(JD01, got)
    assert any(flag == "SILENT" and f"indicators[{n}].level3" in text for flag, text in flags), flags


def test_a_missing_indicator_row_is_a_difference():
    got = _with(lambda r: r["indicators"].pop())
    diffs = field_diffs(JD01, got)
    assert any(d.startswith("indicators.length") for d in diffs)
    assert any(d.startswith(f"indicators[{len(JD01['indicators']) - 1}].") for d in diffs)


def test_an_extra_funding_line_is_a_difference():
    got = _with(lambda r: r["funding"].append(dict(JD01["funding"][-1])))
    assert "funding.length: 4 != 5" in field_diffs(JD01, got)
