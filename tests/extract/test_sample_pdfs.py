"""The sample-PDF renderer: deterministic output, producer styles as specified, text that reads back
through pdfplumber's geometry, and bad inputs that are what they claim to be."""

from __future__ import annotations

import io
import json

import pdfplumber
import pytest
from paths import DATA_RAW, GOLD_PATH
from pdfminer.pdfdocument import PDFPasswordIncorrect

from sample_pdfs import STYLES, render_pdf, write_bad_inputs
from sample_pdfs.__main__ import render_corpus
from sample_pdfs.bad_inputs import DEMO_RECORD
from sample_pdfs.layout import layout_forms

RECORDS = json.loads(GOLD_PATH.read_text(encoding="utf-8"))
BY_KEY = {r["key"]: r for r in RECORDS}
# Every record in the two main styles; a multi-page form, the variant form and a Songjiang form in
# the extra styles (keeps the suite fast).
CASES = [
    ("lattice", list(BY_KEY)),
    ("scrambled", list(BY_KEY)),
    ("lattice_compact", ["jd-07", "jd-04", "jd-09", "sj-04"]),
    ("hrules_ordered", ["jd-07", "jd-04", "jd-05", "sj-04"]),
]


def _render(records: list[dict], style: str) -> bytes:
    buf = io.BytesIO()
    render_pdf(records, buf, STYLES[style])
    return buf.getvalue()


@pytest.fixture(scope="module")
def rendered() -> dict[str, tuple[bytes, list[dict]]]:
    return {
        style: (_render([BY_KEY[k] for k in keys], style), [BY_KEY[k] for k in keys]) for style, keys in CASES
    }


@pytest.fixture(scope="module")
def pdfs(rendered):
    opened = {style: pdfplumber.open(io.BytesIO(data)) for style, (data, _) in rendered.items()}
    yield opened
    for pdf in opened.values():
        pdf.close()


def _segments(page) -> list[tuple[float, float, float, str]]:
    """Runs of touching characters on one baseline: (top, x0, x1, text), whitespace dropped."""
    rows: dict[float, list[dict]] = {}
    for ch in page.chars:
        if ch["text"].strip():
            rows.setdefault(round(ch["bottom"], 1), []).append(ch)
    segs = []
    for chars in rows.values():
        chars.sort(key=lambda c: c["x0"])
        start = chars[0]
        text = start["text"]
        for prev, ch in zip(chars, chars[1:], strict=False):
            if ch["x0"] - prev["x1"] > 1.0:  # a gap: the next cell
                segs.append((start["top"], start["x0"], prev["x1"], text))
                start, text = ch, ""
            text += ch["text"]
        segs.append((start["top"], start["x0"], chars[-1]["x1"], text))
    return sorted(segs)


def _cell_texts(page) -> set[str]:
    """Every segment joined with up to 4 segments stacked below it (a wrapped cell's lines)."""
    segs = _segments(page)
    out = set()
    for i, (top, x0, x1, text) in enumerate(segs):
        joined, last_top = text, top
        out.add(joined)
        for top2, a, b, more in segs[i + 1 :]:
            if top2 - last_top > 20:
                break
            if top2 > last_top + 1 and a < x1 and b > x0:  # next line, same column
                joined, last_top = joined + more, top2
                out.add(joined)
    return out


def _form_pages(pdf, records: list[dict], style: str) -> dict[str, list]:
    pages: dict[str, list] = {}
    for page, laid in zip(pdf.pages, layout_forms(records, STYLES[style]), strict=True):
        pages.setdefault(records[laid.form]["key"], []).append(page)
    return pages


@pytest.mark.parametrize("style", STYLES)
def test_rendering_is_deterministic(style):
    records = [BY_KEY["jd-07"], BY_KEY["sj-01"]]
    assert _render(records, style) == _render(records, style)


def test_committed_corpus_matches_renderer(tmp_path):
    for path in render_corpus(RECORDS, tmp_path):
        committed = DATA_RAW / "pdf" / path.relative_to(tmp_path)
        assert committed.read_bytes() == path.read_bytes(), f"re-run `make render-samples`: {committed}"


@pytest.mark.parametrize("style", [s for s, _ in CASES])
def test_text_reads_back_geometrically(pdfs, rendered, style):
    records = rendered[style][1]
    for key, pages in _form_pages(pdfs[style], records, style).items():
        haystack = set().union(*(_cell_texts(p) for p in pages))
        record = BY_KEY[key]
        needles = [record["project_name"], record["supervising_dept"]] + [
            ind[name] for ind in record["indicators"] for name in ("level3", "target", "actual") if ind[name]
        ]
        missing = [n for n in needles if not any(n in h for h in haystack)]
        assert not missing, f"{style} {key}: {missing}"


def _vertical(page) -> list[dict]:
    return [ln for ln in page.lines if abs(ln["x0"] - ln["x1"]) < 0.01]


def test_rules_per_style(pdfs):
    for page in pdfs["lattice"].pages + pdfs["lattice_compact"].pages:
        assert _vertical(page) and len(page.lines) > len(_vertical(page))
    for page in pdfs["scrambled"].pages + pdfs["hrules_ordered"].pages:
        assert page.lines and not _vertical(page)


def test_metadata_names_the_producer(pdfs):
    for style, pdf in pdfs.items():
        assert pdf.metadata["Producer"] == STYLES[style].producer


def _stream_text(page) -> str:
    return "".join(c["text"] for c in page.chars)


def _reading_text(page) -> str:
    return "".join(c["text"] for c in sorted(page.chars, key=lambda c: (round(c["top"]), c["x0"])))


def test_scrambled_stream_is_out_of_reading_order(pdfs, rendered):
    for key, pages in _form_pages(pdfs["scrambled"], rendered["scrambled"][1], "scrambled").items():
        first = pages[0]
        assert _reading_text(first).startswith("财政项目支出绩效自评表"), key
        assert not _stream_text(first).startswith("财政项目"), key
        assert _stream_text(first) != _reading_text(first), key


def test_lattice_stream_is_in_reading_order(pdfs):
    assert _stream_text(pdfs["lattice"].pages[0]).startswith("财政项目支出绩效自评表（2024年度）项目名称")


def test_multi_page_forms_in_every_style(pdfs, rendered):
    for style, pdf in pdfs.items():
        pages = _form_pages(pdf, rendered[style][1], style)
        assert len(pages["jd-07"]) >= 2, style


@pytest.mark.parametrize("style", ["lattice", "scrambled"])
def test_merged_text_on_continuation_pages(pdfs, rendered, style):
    """Lattice repeats a merged 一级/二级指标 cell's text after a page break; scrambled leaves it blank."""
    records = rendered[style][1]
    continued = 0
    for page, laid in zip(pdfs[style].pages, layout_forms(records, STYLES[style]), strict=True):
        for cell in laid.cells:
            if not (cell.continued and cell.group in ("ind.c0", "ind.c1")):
                continue
            continued += 1
            inside = page.crop((cell.x0, cell.top, cell.x1, cell.bottom)).extract_text() or ""
            if STYLES[style].repeat_merged_text:
                names = {i[level] for i in records[laid.form]["indicators"] for level in ("level1", "level2")}
                assert inside.replace("\n", "") in names
            else:
                assert inside == ""
    assert continued, "no merged cell crosses a page break"


def test_variant_and_compact_number_formats(pdfs, rendered):
    lattice = _form_pages(pdfs["lattice"], rendered["lattice"][1], "lattice")
    jd04 = "".join(_stream_text(p) for p in lattice["jd-04"])
    assert "分值执行率得分" in jd04 and "5231" in jd04 and "5231.00" not in jd04 and "40.22%" in jd04
    compact = _form_pages(pdfs["lattice_compact"], rendered["lattice_compact"][1], "lattice_compact")
    jd09 = "".join(_stream_text(p) for p in compact["jd-09"])
    assert "1,614.00" in jd09 and "97.26%" in jd09


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    return write_bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "empty", "not_pdf", "garbled_txt"])
def test_unreadable_inputs_fail_to_open(bad, kind):
    with pytest.raises(Exception):  # noqa: B017 - pdfplumber wraps pdfminer's various errors
        with pdfplumber.open(bad[kind]) as pdf:
            for page in pdf.pages:
                page.extract_text()


def test_bad_inputs_are_what_they_claim(bad):
    assert bad["empty"].stat().st_size == 0
    assert bad["corrupt"].read_bytes().startswith(b"%PDF-")
    assert bad["not_pdf"].read_bytes().startswith(b"\x89PNG") and bad["not_pdf"].suffix == ".pdf"
    with pytest.raises(UnicodeDecodeError):
        bad["garbled_txt"].read_bytes().decode("utf-8")
    with pytest.raises(Exception) as info:  # noqa: B017
        pdfplumber.open(bad["encrypted"]).close()
    # pdfplumber wraps pdfminer's error: PdfminerException(PDFPasswordIncorrect()).
    assert any(isinstance(e, PDFPasswordIncorrect) for e in (info.value, *info.value.args))
    with pdfplumber.open(bad["image_only"]) as pdf:
        assert pdf.pages[0].images and not pdf.pages[0].chars
    with pdfplumber.open(bad["no_form"]) as pdf:
        text = pdf.pages[0].extract_text()
        assert text and "项目名称" not in text and not pdf.pages[0].lines


def test_chinese_file_name_holds_a_good_form(bad):
    path = bad["chinese_name"]
    assert " " in path.name and "嘉定" in path.name
    with pdfplumber.open(path) as pdf:
        texts = _cell_texts(pdf.pages[0])
    assert any(DEMO_RECORD["project_name"] in t for t in texts)
