"""Every sample form, rendered by several producer styles, read back field for field from the PDF."""

from __future__ import annotations

import pytest
from gold import field_diffs, gold_records, match_gold, mismatches
from paths import DATA_RAW

from extract import extract_file, iter_report_files
from sample_pdfs import STYLES, render_pdf

# Producers the committed corpus does not use: other fonts, padding, alignment and page-break habits.
VARIANTS = {
    **STYLES,
    "scrambled_top_aligned": STYLES["scrambled"].with_(name="v1", seed=7, valign="top", font_size=9.5),
    "lattice_right_aligned": STYLES["lattice"].with_(
        name="v2", text_align="right", number_align="right", thousands=True, rate_percent=True, font_size=10.5
    ),
    "hrules_label_column": STYLES["hrules_ordered"].with_(
        name="v3", indicator_label=True, repeat_header=False, font_size=8.5, pad_x=1.0
    ),
    # Large type wraps the header cells ("年初预" / "算数") and pushes forms over more pages.
    "scrambled_wrapped_headers": STYLES["scrambled"].with_(
        name="v4", font_size=12.5, seed=99, repeat_header=False, thousands=True, rate_percent=True
    ),
    "grid_tight_top_aligned": STYLES["lattice"].with_(
        name="v5", pad_x=0.2, font_size=7, text_align="right", number_align="left", valign="top"
    ),
    "grid_of_filled_rects": STYLES["lattice"].with_(name="v6", rule_shape="rect", repeat_merged_text=False),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def rendered(request, tmp_path_factory):
    path = tmp_path_factory.mktemp("pdf") / f"{request.param}.pdf"
    render_pdf(list(gold_records()), path, VARIANTS[request.param])
    return extract_file(path)


def test_every_form_found_once(rendered):
    assert not rendered.errors
    assert len(rendered.records) == len(gold_records())
    assert [r.source.form_index for r in rendered.records] == list(range(1, len(gold_records()) + 1))


def test_every_field_exact(rendered):
    assert mismatches(rendered.records) == {}


def test_no_uncertainty_on_a_clean_render(rendered):
    assert {r.project_name: r.uncertain_fields for r in rendered.records if r.uncertain_fields} == {}


def test_provenance(rendered):
    pages_seen = set()
    for record in rendered.records:
        pages = record.source.pages
        assert pages == list(range(pages[0], pages[-1] + 1))
        assert not pages_seen & set(pages[1:]), "forms overlap beyond a shared first page"
        pages_seen.update(pages)
        assert all(i.page in pages for i in record.indicators)
        assert len(record.source.sha256) == 64


def test_committed_corpus_matches_gold():
    """The sample PDFs a new user runs on are read exactly, with the published forms' own
    arithmetic slips (jd-05 prints a rate 0.1 off) reported as failed checks."""
    pdfs = [p for p in iter_report_files([DATA_RAW / "pdf"]) if p.suffix == ".pdf"]
    assert pdfs
    for path in pdfs:
        result = extract_file(path)
        assert not result.errors, path
        for record in result.records:
            data = record.to_dict()
            assert field_diffs(match_gold(data), data) == [], (path, record.project_name)
            failed = {c.name for c in record.failed_checks}
            assert failed <= {"execution_rate[0]", "execution_rate[1]"}, (path, record.project_name, failed)


def test_merged_cells_cut_by_full_width_rules_are_never_read_as_fact(tmp_path):
    """A producer that rules every row right across the table cuts the merged 一级/二级指标 cells:
    what the geometry settles is read, the rest is marked uncertain, nothing is silently wrong."""
    path = tmp_path / "rows.pdf"
    render_pdf(list(gold_records()), path, STYLES["scrambled"].with_(name="rows", rules="rows"))
    result = extract_file(path)
    assert len(result.records) == len(gold_records())
    for record in result.records:
        data = record.to_dict()
        wrong = {d.split(":")[0] for d in field_diffs(match_gold(data), data)}
        assert wrong <= set(record.uncertain_fields), record.project_name


SHORT_TARGETS = ("健全", "有效", "满意")


@pytest.mark.parametrize("style, font_size, rows", [("hrules_ordered", 10.0, 2), ("scrambled", 9.0, 3)])
def test_few_rows_cut_by_full_width_rules_are_never_read_as_fact(tmp_path, style, font_size, rows):
    """With only a few indicator rows, nothing tells a merged cell cut by full-width rules from cells
    of their own: a name wrapped across the rule ("经济成本指" / "标"), or a 绩效指标 label column
    whose line runs on into the names beside it, is read whole or marked uncertain, never split
    or glued as fact."""
    records = []
    for g in list(gold_records())[:6]:
        g = {
            **g,
            "indicators": [
                {**i, "target": SHORT_TARGETS[k % 3]} for k, i in enumerate(g["indicators"][:rows])
            ],
        }
        records.append(g)
    path = tmp_path / "few_rows.pdf"
    render_pdf(records, path, STYLES[style].with_(name="few", rules="rows", font_size=font_size))
    result = extract_file(path)
    assert len(result.records) == len(records)
    for want, record in zip(records, result.records, strict=True):
        data = record.to_dict()
        wrong = {d.split(":")[0] for d in field_diffs(want, data) if not d.startswith(("total", "grade"))}
        assert wrong <= set(record.uncertain_fields), (want["key"], wrong)


@pytest.mark.parametrize("text_align", ["center", "right"])
def test_numbers_set_close_after_line_names_are_read_not_claimed_as_labels(tmp_path, text_align):
    """Compact 8 pt forms ruled by full-width lines only, numbers left-aligned: the first amount
    (年初预算数) sits ~3 pt after its line name ("其中：当年财政拨款 7.00"), closer than a cell
    gap. The line name's label never takes it: with centred headers it is read into its column;
    where right-aligned headers leave two equal gutters between columns, the values beside the
    guessed edge are uncertain. Never a silent null. Likewise a short goal text set just after the
    column of a right-aligned header is read in its own column, not the one before."""
    keys = ("jd-11", "jd-13", "jd-19")  # jd-11: a short 实际完成情况 set 3 pt after the goal column
    records = [{**g, "indicators": g["indicators"][:2]} for g in gold_records() if g["key"] in keys]
    path = tmp_path / "close.pdf"
    compact = STYLES["lattice_compact"]
    style = compact.with_(name="close", rules="rows", text_align=text_align, number_align="left")
    render_pdf(records, path, style)
    result = extract_file(path)
    assert len(result.records) == len(records)
    for want, record in zip(records, result.records, strict=True):
        data = record.to_dict()
        wrong = {d.split(":")[0] for d in field_diffs(want, data)}
        assert wrong <= set(record.uncertain_fields), (want["key"], wrong)
        if text_align == "center":
            assert wrong == set(), (want["key"], wrong)
            assert not record.uncertain_fields, (want["key"], record.uncertain_fields)
