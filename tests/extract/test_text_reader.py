"""The text-dump reader against the hand-checked gold records, on the real sample dumps."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from gold import field_diffs
from paths import DATA_RAW, FIXTURES, GOLD_PATH

from extract.api import extract_file
from extract.record import ReadError
from extract.text.funding import place_values
from extract.text.reader import read_text_dump

GOLD = {r["key"]: r for r in json.loads(GOLD_PATH.read_text("utf-8"))}
JD_DUMPS = {p.stem: p for p in sorted(DATA_RAW.glob("**/jd-*.txt"))}
# Songjiang dumps (out of reading order), copied from the shared samples.
SJ_DUMPS = sorted((FIXTURES / "text").glob("sj-*.txt"))


def read(path: Path):
    records, errors = read_text_dump(path.read_bytes(), path.name, "0" * 64)
    assert not errors
    return records


def test_sample_dumps_found():
    assert len(SJ_DUMPS) == 3, f"expected the sj-* dumps under {FIXTURES / 'text'}"


def test_jd_dumps_found():
    assert len(JD_DUMPS) >= 17, f"expected the jd-* dumps under {DATA_RAW}"


@pytest.mark.parametrize("key", sorted(k for k in GOLD if k.startswith("jd-")))
def test_jd_dump_matches_gold(key):
    if key not in JD_DUMPS:
        pytest.skip(f"{key}.txt not under data_raw/")
    gold = GOLD[key]
    (record,) = read(JD_DUMPS[key])
    out = record.to_dict()
    assert len(out["funding"]) == 4
    assert len(out["indicators"]) == len(gold["indicators"])
    ambiguous = set(gold.get("text_ambiguous") or [])
    assert ambiguous <= set(record.uncertain_fields), "a field the text cannot settle is given as fact"
    assert field_diffs(gold, out, skip=ambiguous) == []
    assert out["source"]["pages"] and out["source"]["form_index"] == 1
    assert all(row["page"] in out["source"]["pages"] for row in out["indicators"])


def test_page_break_continuation_repeats_labels_not_rows():
    """jd-07 spans two pages; the repeated 产出指标 / 时效指标 cells start no indicator."""
    (record,) = read(JD_DUMPS["jd-07"])
    assert record.source.pages == [1, 2]
    pages = [row.page for row in record.indicators]
    assert pages == sorted(pages) and pages.count(1) == 19 and pages.count(2) == 20
    assert [r.level3 for r in record.indicators[18:20]] == ["补贴发放及时性", "归档及时性"]
    assert {r.level2 for r in record.indicators[18:24]} == {"时效指标"}


def test_uncertain_goal_split_and_funding_variant():
    (jd03,) = read(JD_DUMPS["jd-03"])
    assert {"goal_expected", "goal_actual"} <= set(jd03.uncertain_fields)
    (jd04,) = read(JD_DUMPS["jd-04"])
    assert jd04.uncertain_fields == GOLD["jd-04"]["text_ambiguous"]
    (jd01,) = read(JD_DUMPS["jd-01"])
    assert jd01.uncertain_fields == []


def test_concatenated_dumps_give_one_record_per_form():
    keys = ["jd-01", "jd-07", "jd-04"]
    data = b"".join(JD_DUMPS[k].read_bytes().rstrip(b"\n") + b"\n\n\n\n" for k in keys)
    records, errors = read_text_dump(data, "all.txt", "f" * 64)
    assert not errors
    assert [r.source.form_index for r in records] == [1, 2, 3]
    assert [r.source.pages for r in records] == [[1], [2, 3], [4]]
    assert {row.page for row in records[1].indicators} == {2, 3}
    for key, record in zip(keys, records, strict=True):
        (single,) = read(JD_DUMPS[key])
        assert record.project_name == single.project_name
        assert [i.level3 for i in record.indicators] == [i.level3 for i in single.indicators]
        assert record.source.file == "all.txt"


@pytest.mark.parametrize("path", SJ_DUMPS, ids=lambda p: p.stem)
def test_sj_dump_is_refused_as_scrambled(path):
    with pytest.raises(ReadError) as info:
        read_text_dump(path.read_bytes(), path.name, "0" * 64)
    assert info.value.error_class == "scrambled_text"
    assert "not in reading order" in info.value.message and "PDF" in info.value.message
    result = extract_file(path)
    assert result.records == []
    assert [e.error_class for e in result.errors] == ["scrambled_text"]


def test_sj_dump_with_title_moved_first_is_still_refused():
    lines = SJ_DUMPS[0].read_text("utf-8").split("\n")
    title = [i for i, line in enumerate(lines) if "绩效自评表" in line][0]
    reordered = lines[title:] + lines[:title]
    with pytest.raises(ReadError) as info:
        read_text_dump("\n".join(reordered).encode(), "x.txt", "0" * 64)
    assert info.value.error_class == "scrambled_text"


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfe\x00\x00garbage\xc3\x28", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", b"text\x00\x01with controls"],
)
def test_garbled_bytes_are_unreadable_text(data):
    with pytest.raises(ReadError) as info:
        read_text_dump(data, "bad.txt", "0" * 64)
    assert info.value.error_class == "unreadable_text"


@pytest.mark.parametrize("text", ["", "\n\n", "项目名称 某项目\n一级指标 二级指标\n总分 100 90\n"])
def test_text_without_form_title_is_no_form(text):
    with pytest.raises(ReadError) as info:
        read_text_dump(text.encode(), "none.txt", "0" * 64)
    assert info.value.error_class == "no_form"


def test_bom_crlf_and_spacing_do_not_change_records():
    raw = JD_DUMPS["jd-06"].read_text("utf-8")
    (base,) = read(JD_DUMPS["jd-06"])
    variant = "\ufeff" + "\r\n".join("  " + re.sub(" ", " \t ", line) for line in raw.split("\n"))
    (other,) = read_text_dump(variant.encode(), "jd-06.txt", "0" * 64)[0]
    assert other.to_dict() == base.to_dict()


def test_form_without_indicator_table_is_a_form_error_others_still_read():
    good = JD_DUMPS["jd-01"].read_text("utf-8")
    broken = good.split("一级指标")[0]
    records, errors = read_text_dump((broken + "\n\n\n\n" + good).encode(), "two.txt", "0" * 64)
    assert [r.source.form_index for r in records] == [2]
    assert [(e.error_class, e.pages) for e in errors] == [("form_unreadable", [1])]


def test_funding_values_fewer_than_columns_are_marked_uncertain():
    columns = ["budget_initial", "budget_full_year", "executed", "weight", "execution_rate_pct", "score"]
    placed, unsure = place_values("156 63.75 10 40.87% 4.09".split(), columns)
    assert placed == {
        "budget_initial": 156.0,
        "budget_full_year": None,
        "executed": 63.75,
        "weight": 10.0,
        "execution_rate_pct": 40.87,
        "score": 4.09,
    }
    assert unsure == {"budget_initial", "budget_full_year"}
    placed, unsure = place_values(["-", "-"], columns)
    assert set(placed.values()) == {None} and unsure == set()
    placed, unsure = place_values("1,614.00 36.60 35.60 10.00 97.26 9.73".split(), columns)
    assert placed["budget_initial"] == 1614.0 and unsure == set()


def test_extract_file_attaches_checks(tmp_path):
    result = extract_file(JD_DUMPS["jd-01"])
    assert result.kind == "text" and not result.errors
    (record,) = result.records
    assert record.checks and all(c.passed for c in record.checks)


def test_rows_without_their_names_are_refused_as_scrambled():
    """A producer that writes the 三级指标 names in a block of their own leaves rows without names."""
    text = JD_DUMPS["jd-01"].read_text("utf-8")
    names = []

    def drop_name(match):
        names.append(match.group(1))
        return match.group(2)

    rows = re.compile(r"^(\S+) (\S+ \S+ \d+\.\d+ \d+\.\d+)$", re.M)
    scrambled = rows.sub(drop_name, text).replace("总分", "\n".join(names) + "\n\n总分")
    with pytest.raises(ReadError) as info:
        read_text_dump(scrambled.encode(), "x.txt", "0" * 64)
    assert info.value.error_class == "scrambled_text" and "三级指标" in info.value.message


def test_page_numbers_and_split_goal_header_are_not_text():
    text = JD_DUMPS["jd-07"].read_text("utf-8")
    (base,) = read(JD_DUMPS["jd-07"])
    variant = text.replace("\n\n\n\n", "\n\n- 1 -\n\n\n\n第 2 页\n").replace(
        "预期目标 实际完成情况", "预期目标\n\n实际完成情况"
    )
    (other,) = read_text_dump(variant.encode(), "jd-07.txt", "0" * 64)[0]
    assert other.to_dict() == base.to_dict()
