"""Every sample form printed by an independent producer (LibreOffice) and read back exactly."""

from __future__ import annotations

import pytest
from gold import field_diffs, gold_records, mismatches

from extract import extract_file
from sample_pdfs.office import render_office_pdf, soffice

pytestmark = pytest.mark.skipif(
    soffice() is None,
    reason="LibreOffice is not installed (make test installs it with apt-get when run as root)",
)


@pytest.fixture(scope="module")
def office_pdf(tmp_path_factory):
    path = tmp_path_factory.mktemp("office") / "office.pdf"
    render_office_pdf(list(gold_records()), path)
    return extract_file(path)


def test_every_form_read(office_pdf):
    assert not office_pdf.errors
    assert len(office_pdf.records) == len(gold_records())


def test_every_field_exact(office_pdf):
    assert mismatches(office_pdf.records) == {}


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
    render_office_pdf(golds, path, borders=False)
    result = extract_file(path)
    assert len(result.records) == len(golds)
    for gold, record in zip(golds, result.records, strict=True):  # forms come out in file order
        wrong = {d.split(":")[0] for d in field_diffs(gold, record.to_dict())}
        assert wrong <= set(record.uncertain_fields) | {"indicators.length"}, record.project_name
