"""Every sample form printed by an independent producer (LibreOffice), in several CJK font
families, and read back exactly: the product must read the same whatever fonts a machine has."""

from __future__ import annotations

import pytest
from gold import field_diffs, gold_records, mismatches

from extract import extract_file
from sample_pdfs.office import DEFAULT_FONT, installed_font, render_office_pdf, soffice

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        soffice() is None,
        reason="LibreOffice is not installed (make test installs it with apt-get when run as root)",
    ),
]

# Fonts of other metrics and styles (a sans, a serif) move every line break and page break.
FONT_FAMILIES = ("WenQuanYi Micro Hei", "Noto Serif CJK SC")


@pytest.fixture(scope="module", params=FONT_FAMILIES)
def office_pdf(request, tmp_path_factory):
    if not installed_font(request.param):
        pytest.skip(f"font family {request.param!r} is not installed (make test installs it)")
    path = tmp_path_factory.mktemp("office") / "office.pdf"
    render_office_pdf(list(gold_records()), path, font=request.param)
    return extract_file(path)


def test_every_form_read(office_pdf):
    assert not office_pdf.errors
    assert len(office_pdf.records) == len(gold_records())


def test_every_field_exact(office_pdf):
    assert mismatches(office_pdf.records) == {}


def test_no_uncertainty_on_a_clean_print(office_pdf):
    assert {r.project_name: r.uncertain_fields for r in office_pdf.records if r.uncertain_fields} == {}


def test_rows_and_names_cut_by_page_breaks_are_whole(office_pdf):
    """LibreOffice breaks rows and merged cells across pages; the records must not show it."""
    multi_page = [r for r in office_pdf.records if len(r.source.pages) > 1]
    assert multi_page
    for record in multi_page:
        assert all(i.weight is not None and i.score is not None for i in record.indicators)
        assert all(
            (i.level1 or "").endswith("指标") and (i.level2 or "").endswith("指标") for i in record.indicators
        )


def test_unruled_table_is_never_read_as_fact(tmp_path):
    """Without any ruling, cells can only be guessed from text positions: every value that comes
    out wrong must be marked uncertain, never given as fact."""
    path = tmp_path / "unruled.pdf"
    golds = list(gold_records())[:6]
    render_office_pdf(golds, path, borders=False, font=DEFAULT_FONT)
    result = extract_file(path)
    assert len(result.records) == len(golds)
    for gold, record in zip(golds, result.records, strict=True):  # forms come out in file order
        wrong = {d.split(":")[0] for d in field_diffs(gold, record.to_dict())}
        assert wrong <= set(record.uncertain_fields) | {"indicators.length"}, record.project_name
