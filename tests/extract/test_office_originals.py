"""Excel and Word originals: the sample forms written as .xlsx/.docx (and .xls/.doc by LibreOffice)
the way departments fill them in, read back field for field; damaged files and a missing converter
give error rows. Real openpyxl, python-docx and LibreOffice; no mocks."""

from __future__ import annotations

import shutil
import zipfile

import openpyxl
import pytest
from gold import field_diffs, gold_records, record_from_gold

from extract import extract_file, iter_report_files, kind_of
from extract.office.reader import soffice
from sample_pdfs.office_originals import STYLES, to_legacy, write_docx, write_xlsx

WRITERS = {"xlsx": write_xlsx, "docx": write_docx}
FEW = 3  # forms per file for the variants beside the plain one, and for LibreOffice conversions


def _records(style: str) -> list[dict]:
    records = [dict(r) for r in gold_records()]
    return records if style == "plain" else records[:FEW] + records[-FEW:]


def _assert_exact(records: list[dict], result) -> None:
    assert not result.errors, result.errors
    assert len(result.records) == len(records)
    for expected, record in zip(records, result.records, strict=True):
        got = record.to_dict()
        assert field_diffs(expected, got) == [], expected["key"]
        assert record.uncertain_fields == [], expected["key"]
        assert record.glyphs.unplaced == 0, expected["key"]  # every cell's text read
        # The form's own arithmetic fails where (and only where) the printed form's does.
        want = record_from_gold(expected, "x", "0", 1).failed_checks
        assert [c.name for c in record.failed_checks] == [c.name for c in want], expected["key"]


@pytest.mark.parametrize("fmt", WRITERS)
@pytest.mark.parametrize("style", STYLES)
def test_every_field_of_every_form_exact(tmp_path, fmt, style):
    records = _records(style)
    path = WRITERS[fmt](records, tmp_path / f"forms.{fmt}", STYLES[style])
    result = extract_file(path)
    assert result.kind == fmt
    _assert_exact(records, result)
    assert [r.source.form_index for r in result.records] == list(range(1, len(records) + 1))


def test_provenance_names_the_sheet_and_cells_or_the_tables(tmp_path):
    records = _records("sheets_yuan_text")
    one_sheet = extract_file(write_xlsx(records, tmp_path / "a.xlsx", STYLES["plain"])).records
    assert {r.source.sheet for r in one_sheet} == {"自评表"}
    ranges = [r.source.cell_range for r in one_sheet]
    assert ranges[0].startswith("A1:I") and len(set(ranges)) == len(records)
    # The range is the form's: its first cell is the title, its last row the 评分等级 row.
    ws = openpyxl.load_workbook(tmp_path / "a.xlsx")["自评表"]
    first, last = ranges[1].split(":")
    assert ws[first].value == "财政项目支出绩效自评表"
    assert ws[f"A{last[1:]}"].value == "评分等级"
    per_sheet = extract_file(write_xlsx(records, tmp_path / "b.xlsx", STYLES["sheets_yuan_text"])).records
    assert [r.source.sheet for r in per_sheet] == [r["key"] for r in records]
    document = extract_file(write_docx(records, tmp_path / "c.docx")).records
    assert [r.source.tables for r in document] == [[i] for i in range(1, len(records) + 1)]
    assert all(r.source.sheet is None and r.source.pages == [] for r in document)


def test_office_files_are_report_files(tmp_path):
    for name in ("a.xlsx", "b.DOCX", "c.xls", "d.doc", "e.pdf", "f.txt", "g.csv"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in iter_report_files([tmp_path])] == [
        "a.xlsx",
        "b.DOCX",
        "c.xls",
        "d.doc",
        "e.pdf",
        "f.txt",
    ]
    assert [kind_of(n) for n in ("a.xlsx", "b.DOCX", "c.xls", "d.doc", "e.pdf", "f.txt")] == [
        "xlsx",
        "docx",
        "xls",
        "doc",
        "pdf",
        "text",
    ]


def test_damaged_originals_are_error_rows(tmp_path):
    good = write_xlsx(_records("few")[:1], tmp_path / "good.xlsx")
    truncated = tmp_path / "truncated.xlsx"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    not_zip = tmp_path / "not_zip.docx"
    not_zip.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    no_workbook = tmp_path / "no_workbook.xlsx"
    with zipfile.ZipFile(no_workbook, "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    for path in (truncated, not_zip, no_workbook):
        result = extract_file(path)
        assert result.records == []
        assert [e.error_class for e in result.errors] == ["corrupt_office"], path.name
        assert "not a readable" in result.errors[0].message


def test_a_workbook_with_no_form_is_no_form(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "说明：本表为汇总表"
    wb.save(tmp_path / "other.xlsx")
    assert [e.error_class for e in extract_file(tmp_path / "other.xlsx").errors] == ["no_form"]


def test_a_formula_without_its_value_is_uncertain_not_empty(tmp_path):
    """A workbook written by a program that does not calculate stores formulas without values:
    the 总分 cell's value is not known, so it is uncertain (and the sum check fails)."""
    record = _records("few")[0]
    path = write_xlsx([record], tmp_path / "formula.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    total = next(row for row in ws.iter_rows() if row[0].value == "总分")
    total[7].value = f"=SUM(H1:H{total[7].row - 1})"
    wb.save(path)
    [form] = extract_file(path).records
    assert form.total_score is None
    assert "total_score" in form.uncertain_fields
    assert "scores_sum" in {c.name for c in form.failed_checks}


def test_a_column_no_header_names_makes_its_neighbours_uncertain(tmp_path):
    record = _records("few")[0]
    path = write_xlsx([record], tmp_path / "extra.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    header = next(row for row in ws.iter_rows() if row[1].value == "一级指标")
    ws.cell(header[0].row, 10, "备注")
    ws.cell(header[0].row + 1, 10, "见附件")
    wb.save(path)
    [form] = extract_file(path).records
    assert "indicators[0].deviation_note" in form.uncertain_fields
    assert field_diffs(record, form.to_dict()) == []


def test_a_form_typed_as_paragraphs_is_an_error_row_beside_the_forms_read(tmp_path):
    import docx

    records = _records("few")[:2]
    path = write_docx(records, tmp_path / "forms.docx")
    document = docx.Document(str(path))
    document.add_paragraph("项目名称：某项目 主管部门：某局 实施单位：某单位 项目资金（万元） 年初预算数 10")
    document.save(path)
    result = extract_file(path)
    assert [r.project_name for r in result.records] == [r["project_name"] for r in records]
    assert [e.error_class for e in result.errors] == ["form_unreadable"]


def test_legacy_formats_without_libreoffice_are_error_rows_naming_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))  # a PATH without soffice
    for name, package in (("a.xls", "libreoffice-calc"), ("b.doc", "libreoffice-writer")):
        (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 508)  # an OLE2 header
        result = extract_file(tmp_path / name)
        assert result.records == [] and result.kind == name[-3:]
        [error] = result.errors
        assert error.error_class == "converter_missing"
        assert package in error.message and "soffice" in error.message


@pytest.mark.slow
@pytest.mark.skipif(soffice() is None, reason="LibreOffice (soffice) is not installed: make test-tools")
@pytest.mark.parametrize(("fmt", "legacy"), [("xlsx", "xls"), ("docx", "doc")])
def test_xls_and_doc_through_libreoffice(tmp_path, fmt, legacy):
    records = _records("few")[:2]
    original = WRITERS[fmt](records, tmp_path / f"forms.{fmt}", STYLES["sheets_yuan_text"])
    try:
        path = to_legacy(original, tmp_path / f"forms.{legacy}")
    except Exception as exc:  # noqa: BLE001 - a LibreOffice without Calc/Writer cannot make them
        pytest.skip(f"LibreOffice could not write .{legacy} here: {exc}")
    result = extract_file(path)
    assert result.kind == legacy
    _assert_exact(records, result)
    broken = tmp_path / f"broken.{legacy}"
    shutil.copyfile(path, broken)
    broken.write_bytes(path.read_bytes()[:700])
    assert [e.error_class for e in extract_file(broken).errors] in (
        ["conversion_failed"],
        ["corrupt_office"],
        ["no_form"],
    )


def test_the_warehouse_accepts_every_error_class():
    import yaml
    from paths import DBT_PROJECT

    from extract.record import ERROR_CLASSES

    staging = yaml.safe_load(
        (DBT_PROJECT / "models" / "staging" / "_staging.yml").read_text(encoding="utf-8")
    )
    errors = next(m for m in staging["models"] if m["name"] == "stg_extract__errors")
    column = next(c for c in errors["columns"] if c["name"] == "error_class")
    accepted = next(t["accepted_values"] for t in column["data_tests"] if isinstance(t, dict))
    assert set(accepted["arguments"]["values"]) == set(ERROR_CLASSES)


def test_values_typed_beside_their_labels_and_words_in_number_cells(tmp_path):
    """项目名称：… typed in the label's own cell is read from there; a score typed as words is no
    number: uncertain, and the sum check fails, never a silent None."""
    record = _records("few")[0]
    path = write_xlsx([record], tmp_path / "typed.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb.active
    name_row = next(row for row in ws.iter_rows() if row[0].value == "项目名称")
    ws.unmerge_cells(f"C{name_row[0].row}:I{name_row[0].row}")
    ws.unmerge_cells(f"A{name_row[0].row}:B{name_row[0].row}")
    name_row[0].value = f"项目名称：{record['project_name']}"
    name_row[2].value = None
    first = next(row for row in ws.iter_rows() if row[3].value == record["indicators"][0]["level3"])
    first[7].value = "满分"
    wb.save(path)
    [form] = extract_file(path).records
    assert form.project_name == record["project_name"]
    assert form.indicators[0].score is None
    assert "indicators[0].score" in form.uncertain_fields
    assert "scores_sum" in {c.name for c in form.failed_checks}
    assert [d.split(":")[0] for d in field_diffs(record, form.to_dict())] == ["indicators[0].score"]


def test_a_form_over_two_tables_is_one_form(tmp_path):
    """Word users split a long table (a page break): the rows after the split are a second table,
    whose cells merged with those above are cut. The names they lose are taken from above, and say
    so (uncertain); every value is still the form's."""
    import copy

    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    record = _records("few")[0]  # jd-01: 产出指标 merged over indicators 1–4
    path = write_docx([record], tmp_path / "split.docx")
    document = docx.Document(str(path))
    table = document.element.body.find(qn("w:tbl"))
    rows = table.findall(qn("w:tr"))
    header = next(i for i, tr in enumerate(rows) if "一级指标" in "".join(t.text for t in tr.iter(qn("w:t"))))
    second = copy.deepcopy(table)
    for tr in second.findall(qn("w:tr")):
        second.remove(tr)
    for tr in rows[header + 3 :]:  # from indicator 2 on
        second.append(tr)
    paragraph = OxmlElement("w:p")
    table.addnext(paragraph)
    paragraph.addnext(second)
    document.save(path)
    [form] = extract_file(path).records
    assert form.source.tables == [1, 2]
    assert field_diffs(record, form.to_dict()) == []
    assert "indicators[2].level1" in form.uncertain_fields
    assert {p.split(".")[1] for p in form.uncertain_fields} <= {"level1", "level2"}


def test_a_form_on_a_hidden_sheet_is_said_not_read(tmp_path):
    records = _records("few")[:2]
    path = write_xlsx(records, tmp_path / "hidden.xlsx", STYLES["sheets_yuan_text"])
    wb = openpyxl.load_workbook(path)
    wb[records[1]["key"]].sheet_state = "hidden"
    wb.save(path)
    result = extract_file(path)
    assert [r.project_name for r in result.records] == [records[0]["project_name"]]
    [error] = result.errors
    assert error.error_class == "hidden_sheet" and records[1]["key"] in error.message
