"""What a person sees on the page decides (issue 9): the sample forms, rendered with the conditions
published PDFs show (sample_pdfs/conditions.py), read as printed; glyphs that are not visible cell
content are set aside with their reason; what cannot be read is flagged, never given as fact."""

from __future__ import annotations

import pytest
from gold import field_diffs, gold_records, match_gold, mismatches

from extract import extract_file
from extract.pdf.layout import Glyph, TextLine
from extract.pdf.painting import PaintedGlyph, PaintedPage
from extract.pdf.table import wrapped
from extract.pdf.visibility import SortedPage
from extract.record import GlyphReport, Record
from orchestration.staging import file_row
from sample_pdfs import STYLES, render_pdf
from sample_pdfs.conditions import Conditions
from sample_pdfs.layout import layout_forms

# Enough forms for page breaks inside blocks (goal texts, indicator tables) in every style.
RECORDS = list(gold_records())[:6]


def _read(tmp_path, style: str, records=RECORDS, **changes):
    path = tmp_path / f"{style}.pdf"
    render_pdf(records, path, STYLES[style].with_(name="condition", **changes))
    return extract_file(path)


def _set_aside(result, reason: str) -> int:
    return sum(r.glyphs.set_aside.get(reason, 0) for r in result.records)


def _silent(result) -> dict[str, list[str]]:
    """Per form, the fields that differ from the gold record without being flagged."""
    out = {}
    for record in result.records:
        data = record.to_dict()
        diffs = field_diffs(match_gold(data), data)
        silent = [d for d in diffs if d.split(":")[0] not in record.uncertain_fields]
        if silent:
            out[record.project_name] = silent[:3]
    return out


def _exact(result) -> None:
    assert not result.errors
    assert len(result.records) == len(RECORDS)
    assert mismatches(result.records) == {}
    assert {r.project_name: r.uncertain_fields for r in result.records if r.uncertain_fields} == {}


# ------------------------------------------------------------------ 1. text that is not cell content

WATERMARKS = {
    "diagonal_light": Conditions(watermark="示例区财政局公开", watermark_angle=35, watermark_gray=0.82),
    "steep_translucent": Conditions(
        watermark="公开", watermark_angle=-60, watermark_gray=0, watermark_alpha=0.2
    ),
    "upright_faint_large": Conditions(
        watermark="样本", watermark_angle=0, watermark_gray=0.85, watermark_size=80
    ),
    "turned_translucent": Conditions(
        watermark="内部资料", watermark_angle=90, watermark_gray=0, watermark_alpha=0.15, watermark_size=60
    ),
    "solid_stamp": Conditions(watermark="作废", watermark_angle=0, watermark_gray=0.3, watermark_size=70),
    "faint_body_sized": Conditions(
        watermark="仅供公开 " * 5, watermark_angle=0, watermark_gray=0.75, watermark_size=9
    ),
}


@pytest.mark.parametrize("style", ["lattice", "scrambled"])
@pytest.mark.parametrize("kind", sorted(WATERMARKS))
def test_watermark_is_set_aside(tmp_path, kind, style):
    result = _read(tmp_path, style, conditions=WATERMARKS[kind])
    _exact(result)
    assert _set_aside(result, "watermark") > 0


FURNITURE = {
    "page_number_bottom": Conditions(page_number="- {n} -"),
    "page_number_and_header_top": Conditions(
        page_number="第{n}页", page_number_at="top", running_header="上海市嘉定区2024年度项目支出绩效自评表"
    ),
    "footer_and_page_number": Conditions(running_footer="嘉定区人力资源和社会保障局", page_number="{n}"),
    "page_of_pages": Conditions(page_number="第 {n} 页 / 共 99 页"),
}


@pytest.mark.parametrize("style", ["lattice", "scrambled", "hrules_ordered"])
@pytest.mark.parametrize("kind", sorted(FURNITURE))
def test_page_furniture_is_set_aside(tmp_path, kind, style):
    result = _read(tmp_path, style, conditions=FURNITURE[kind])
    _exact(result)
    assert _set_aside(result, "page_furniture") > 0
    assert any(len(r.source.pages) > 1 for r in result.records), "no block runs over a page break"


@pytest.mark.parametrize("style", ["lattice", "scrambled"])
def test_invisible_text_is_set_aside(tmp_path, style):
    result = _read(tmp_path, style, conditions=Conditions(hidden_text="隐藏文字"))
    _exact(result)
    assert _set_aside(result, "invisible") > 0


@pytest.mark.parametrize("style", ["lattice", "scrambled", "lattice_compact"])
def test_clipped_text_is_set_aside_and_the_cut_field_flagged(tmp_path, style):
    """Long 三级指标 and 偏差原因 texts printed on one line, clipped to their cells: the hidden rest
    is never read into the next cell, and a field whose text is cut short is flagged."""
    result = _read(tmp_path, style, conditions=Conditions(clip_groups=("ind.c2", "ind.c7")))
    assert not result.errors and len(result.records) == len(RECORDS)
    assert _set_aside(result, "clipped") > 0
    assert _silent(result) == {}
    for record in result.records:
        data = record.to_dict()
        wrong = {d.split(":")[0] for d in field_diffs(match_gold(data), data)}
        assert all(p.endswith((".level3", ".deviation_note")) for p in wrong), wrong


# ------------------------------------------------------------------ 2. a ruled cell holds one value


@pytest.mark.parametrize("style", ["lattice", "scrambled", "hrules_ordered", "lattice_compact"])
def test_numbers_wrapped_in_ruled_cells_are_one_value(tmp_path, style):
    """Numeric columns too narrow for their numbers ("15.0" over "0"), funding block included."""
    narrow = STYLES[style].with_(number_chars=2.2)
    wraps = [
        cell
        for page in layout_forms(RECORDS, narrow)
        for cell in page.cells
        if cell.kind == "number" and len(cell.lines) > 1
    ]
    assert {c.group.split(".")[0] for c in wraps} == {"funding", "ind"}
    result = _read(tmp_path, style, number_chars=2.2)
    _exact(result)


def _line(text: str, x0: float, size: float = 9.0) -> TextLine:
    """A line of digits as a CJK font sets them: half an em each, a quarter for the point."""
    glyphs, x = [], x0
    for ch in text:
        width = size / 4 if ch == "." else size / 2
        glyphs.append(Glyph(ch, x, x + width, 0.0, size))
        x += width
    return TextLine(glyphs)


def test_stacked_numbers_are_not_one_wrapped_number():
    """In a cell 20 pt wide with 2 pt padding "15.00" does not fit: "15.0" over "0" is one number
    wrapped (right- or left-aligned); "10" over "8" leaves room, so they are two numbers."""
    assert wrapped([_line("15.0", 2.25), _line("0", 13.5)], 0.0, 20.0)
    assert wrapped([_line("15.0", 2.0), _line("0", 2.0)], 0.0, 20.0)
    assert not wrapped([_line("10", 9.0), _line("8", 13.5)], 0.0, 20.0)
    assert not wrapped([_line("10", 10.5), _line("8", 12.75)], 0.0, 30.0)  # centred in a wider cell


# ------------------------------------------------------------------ 3. turned text and turned pages


@pytest.mark.parametrize("style", ["lattice", "scrambled"])
@pytest.mark.parametrize("turn", [90, 270])
def test_turned_level1_names_are_read(tmp_path, turn, style):
    result = _read(tmp_path, style, conditions=Conditions(level1_turn=turn))
    assert not result.errors and len(result.records) == len(RECORDS)
    assert mismatches(result.records) == {}


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_pages_are_read_upright(tmp_path, rotation):
    _exact(_read(tmp_path, "lattice", conditions=Conditions(page_rotation=rotation)))


@pytest.mark.parametrize("origin", [-300.0, 250.0])
def test_mediabox_with_another_origin_is_read(tmp_path, origin):
    _exact(_read(tmp_path, "scrambled", conditions=Conditions(media_origin=origin)))


# ------------------------------------------------------------------ 4. unmapped glyphs


@pytest.mark.parametrize("unmapped", ["维护服务", "0123456789"])
def test_unmapped_glyphs_are_never_a_value(tmp_path, unmapped):
    result = _read(tmp_path, "lattice", conditions=Conditions(unmapped=unmapped))
    assert len(result.records) == len(RECORDS)
    assert _silent(result) == {}
    listed = [path for r in result.records for path in r.glyphs.unmapped]
    assert listed
    for record in result.records:
        assert set(record.glyphs.unmapped) <= set(record.uncertain_fields)
        assert all(code.startswith("(cid:") for codes in record.glyphs.unmapped.values() for code in codes)


def test_form_with_mostly_unmapped_names_is_an_error(tmp_path):
    names = "".join(
        r["project_name"] + r["supervising_dept"] + "".join(i["level3"] or "" for i in r["indicators"])
        for r in RECORDS[:2]
    )
    labels = set(
        "项目名称主管部门实施单位财政支出绩效自评表年度总体目标预期实际完成情况资金万元初预算全执行数分率得一二三级指值偏差原因析及改进措施其中当拨款上结转他"
    )
    result = _read(
        tmp_path, "lattice", RECORDS[:2], conditions=Conditions(unmapped="".join(set(names) - labels))
    )
    assert result.records == []
    assert [e.error_class for e in result.errors] == ["unmapped_glyphs", "unmapped_glyphs"]


# ------------------------------------------------------------------ the safety net and the report


def test_text_the_form_has_no_field_for_is_flagged(tmp_path):
    """A note in the 总分 row's blank cell ends in no field: the nearest field is flagged."""
    result = _read(tmp_path, "lattice", conditions=Conditions(total_note="另见附件"))
    assert _silent(result) == {}
    assert all(r.glyphs.unplaced == 4 and r.uncertain_fields for r in result.records)


def test_glyph_report_on_the_record_in_json_and_in_raw_reports(tmp_path):
    result = _read(tmp_path, "scrambled", RECORDS[:2], conditions=WATERMARKS["diagonal_light"])
    record = result.records[0]
    assert record.glyphs.read > 0 and record.glyphs.set_aside["watermark"] > 0
    data = record.to_dict()
    assert data["glyphs"]["set_aside"] == record.glyphs.set_aside
    assert Record(**{**data, "glyphs": data["glyphs"]}).glyphs == record.glyphs  # read back from JSON
    forms = file_row(result)["forms"]
    assert [f["glyphs_set_aside"] for f in forms] == [r.glyphs.set_aside for r in result.records]
    assert [f["glyphs_unplaced"] for f in forms] == [0, 0]
    assert GlyphReport().total_set_aside == 0


def test_light_text_on_a_dark_fill_is_seen():
    """Faint text is a watermark on a page printed in dark ink, but white text on a dark-filled
    header cell is what a person reads."""

    def glyph(text, x, faint):
        return PaintedGlyph(text, x, x + 9.0, 100.0, 109.0, 0.0, 9.0, None, faint)

    dark = [glyph("字", 10.0 + 9 * i, False) for i in range(8)]
    page = PaintedPage(200.0, 300.0, [*dark, glyph("白", 120.0, True), glyph("印", 150.0, True)])
    page.dark_fills.append((115.0, 135.0, 95.0, 115.0))
    seen = SortedPage(page)
    assert [g.text for g in seen.glyphs if g.text != "字"] == ["白"]
    assert [(g.text, reason) for g, reason in seen.aside] == [("印", "watermark")]
