"""Open a PDF with pdfplumber, turn each page into a PageLayout and cut the pages into forms.

Pages are released as soon as their layout is taken, and a form is read as soon as the next one
starts, so memory stays flat in the number of pages. A PDF of more than `max_pages()` pages is
refused before any page is parsed (its page tree's /Count is read first), and running out of
memory is reported as `too_large`, never as a corrupt page.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pdfplumber
from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdftypes import resolve1
from pdfplumber.page import Page
from pdfplumber.pdf import PDF

from ..ocr import CONFIDENCE_MIN, is_scan
from ..record import ExtractError, ReadError, Record, Source
from ..vocabulary import FISCAL_YEAR, PROJECT_NAME, has_title
from .form import read_form
from .layout import MIN_RULE_LENGTH, PageLayout, Rule, merge_rules
from .painting import UNMAPPED, paint_page
from .table import Part
from .visibility import Margins, SortedPage, margins_of, set_aside_furniture, stamps

MAX_PAGES = 5000
MAX_PAGES_ENV = "EXTRACT_MAX_PAGES"  # overrides MAX_PAGES (e.g. lower, for a test)
FORM_START = re.compile(f"^{PROJECT_NAME}")
STROKE_THICKNESS = 3.0  # pt: a filled rectangle thinner than this is a drawn rule
HEADER_BYTES = 1024  # viewers accept the %PDF- header anywhere in a file's first 1024 bytes
FORM_TOP_MARGIN = 1.0  # pt: a form's region starts this far above its first line
TITLE_BLOCK_HEIGHT = 120.0  # pt: lines further above 项目名称 (past a gap this wide) are no part of its title


def max_pages() -> int:
    """The page limit: `EXTRACT_MAX_PAGES` if set to a positive integer, else MAX_PAGES."""
    try:
        value = int(os.environ.get(MAX_PAGES_ENV, ""))
    except ValueError:
        return MAX_PAGES
    return value if value > 0 else MAX_PAGES


def _out_of_memory() -> ReadError:
    return ReadError("too_large", "ran out of memory while reading the file (EXTRACT_MEMORY_MB)")


def read_pdf(path: Path, sha256: str) -> tuple[list[Record], list[ExtractError]]:
    """Every form of a PDF file: the records read, and an ExtractError for each form that could not
    be read and for pages that could not be parsed.

    Raises ReadError for a file refused as a whole: `not_pdf`, `encrypted_pdf`, `corrupt_pdf`,
    `too_large` (over `max_pages()` pages, or out of memory), `image_only`, `unmapped_glyphs` or
    `no_form`."""
    with open(path, "rb") as fh:
        head = fh.read(HEADER_BYTES)
    if b"%PDF-" not in head:
        raise ReadError("not_pdf", "not a PDF file (no %PDF- header)")
    try:
        pdf = pdfplumber.open(path)
    except Exception as exc:  # noqa: BLE001 - pdfminer raises many kinds on broken files
        _reraise_memory_error(exc)
        if _is_encryption_error(exc):
            raise ReadError("encrypted_pdf", "PDF is encrypted and needs a password") from exc
        raise ReadError("corrupt_pdf", f"cannot parse PDF: {_describe(exc)}") from exc
    limit = max_pages()
    declared = _declared_page_count(pdf)
    if declared is not None and declared > limit:
        pdf.stream.close()  # not pdf.close(): that walks the whole page tree to close every page
        raise ReadError("too_large", f"{declared} pages, over the limit of {limit}")
    try:
        return _read_document(pdf, path.name, sha256, limit)
    finally:
        _close(pdf)


def _close(pdf: PDF) -> None:
    """pdf.close() walks the page tree to close every page: a broken tree raises there again, and
    that must not replace the error already raised for it (corrupt_pdf). The file handle is what
    has to be closed."""
    try:
        pdf.close()
    except Exception:  # noqa: BLE001
        pdf.stream.close()


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception, what it wraps (pdfplumber puts pdfminer's error in args) and its context."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        e = todo.pop()
        if e is None or any(e is s for s in seen):
            continue
        seen.append(e)
        todo.extend([e.__cause__, e.__context__, *(a for a in e.args if isinstance(a, BaseException))])
    return seen


def _is_encryption_error(exc: BaseException) -> bool:
    return any(isinstance(e, PDFPasswordIncorrect | PDFEncryptionError) for e in _causes(exc))


# How native libraries say an allocation failed, where they raise no MemoryError: OpenCV
# ("Insufficient memory"), onnxruntime (std::bad_alloc), the loader mapping a library's code.
NATIVE_OUT_OF_MEMORY = re.compile(r"Insufficient memory|bad_alloc|Failed to allocate|failed to map segment")


def _reraise_memory_error(exc: BaseException) -> None:
    """Out of memory (possibly wrapped by pdfplumber, or said by a native library) is the file's
    size, not a broken part of it."""
    if any(isinstance(e, MemoryError) or NATIVE_OUT_OF_MEMORY.search(str(e)) for e in _causes(exc)):
        raise _out_of_memory() from None


def _describe(exc: BaseException) -> str:
    inner = _causes(exc)[-1]
    return f"{type(inner).__name__}: {inner}".rstrip(": ")


def _declared_page_count(pdf: PDF) -> int | None:
    """The /Count of the document's page tree, without walking it; None if it cannot be read."""
    try:
        count = resolve1(resolve1(pdf.doc.catalog["Pages"])["Count"])
    except Exception:  # noqa: BLE001 - a broken catalog is found out by the walk that follows
        return None
    return count if isinstance(count, int) else None


@dataclass
class _PageStats:
    """What the pages of a document held, for telling why no form was found in it."""

    glyphs: int = 0  # visible glyphs (on a scan: those OCR read with certainty)
    unmapped: int = 0  # of them, glyphs whose font maps them to no character
    images: int = 0  # pages with images
    # (error class, why) → the 1-based pages that could not be read, for that reason
    bad_pages: dict[tuple[str, str], list[int]] = field(default_factory=dict)


def _read_document(pdf: PDF, file: str, sha256: str, limit: int) -> tuple[list[Record], list[ExtractError]]:
    try:
        n_pages = len(pdf.pages)
    except Exception as exc:  # noqa: BLE001
        _reraise_memory_error(exc)
        raise ReadError("corrupt_pdf", f"cannot read the page tree: {_describe(exc)}") from exc
    if n_pages == 0:
        raise ReadError("corrupt_pdf", "PDF has no pages")
    if n_pages > limit:
        raise ReadError("too_large", f"{n_pages} pages, over the limit of {limit}")
    records: list[Record] = []
    errors: list[ExtractError] = []
    stats = _PageStats()
    for parts in _forms(_layouts(pdf, stats)):
        source = Source(file=file, sha256=sha256, form_index=len(records) + len(errors) + 1)
        pages = sorted({p.page.number for p in parts})
        try:
            records.append(read_form(parts, source))
        except ReadError as exc:
            errors.append(ExtractError(file, sha256, exc.error_class, exc.message, pages))
        except Exception as exc:  # noqa: BLE001 - one odd form must not cost the file's other forms
            _reraise_memory_error(exc)
            message = f"layout not understood: {_describe(exc)}"
            errors.append(ExtractError(file, sha256, "form_unreadable", message, pages))
    for (error_class, why), pages in stats.bad_pages.items():
        errors.append(ExtractError(file, sha256, error_class, f"pages {pages}: {why}", pages))
    if not records and not errors:
        if stats.glyphs == 0 and stats.images:
            raise ReadError("image_only", "pages hold images but OCR read no text on them with certainty")
        if stats.glyphs == 0:
            raise ReadError("no_form", "PDF has no text")
        if stats.unmapped > stats.glyphs / 2:
            raise ReadError("unmapped_glyphs", "fonts carry no Unicode map: text reads as (cid:N) codes")
        raise ReadError("no_form", "no 财政项目支出绩效自评表 form found (no 项目名称 label)")
    return records, errors


def _layouts(pdf: PDF, stats: _PageStats) -> Iterator[PageLayout]:
    """The pages' layouts, page furniture set aside. A running header or footer is known when the
    next page repeats it, so a page is marked before the previous one is read (its form is read
    only once a later page starts the next form)."""
    previous: Margins | None = None
    for number in range(1, len(pdf.pages) + 1):
        try:
            page = pdf.pages[number - 1]
            layout = page_layout(page, number)
            page.close()
        except ReadError as exc:  # the page's own reason (a scan, with no OCR engine installed)
            _reraise_memory_error(exc)
            stats.bad_pages.setdefault((exc.error_class, exc.message), []).append(number)
            continue
        except Exception as exc:  # noqa: BLE001 - keep the pages that do parse
            _reraise_memory_error(exc)
            stats.bad_pages.setdefault(("corrupt_pdf", f"could not be parsed ({_describe(exc)})"), []).append(
                number
            )
            continue
        starts = _form_starts(layout)
        margins = margins_of(layout, starts[0] if starts else None)
        set_aside_furniture(margins, previous)
        previous = margins
        stats.glyphs += sum(g.confidence >= CONFIDENCE_MIN for g in layout.glyphs)
        stats.unmapped += sum(bool(UNMAPPED.fullmatch(g.text)) for g in layout.glyphs)
        stats.images += int(layout.has_images)
        yield layout


def page_layout(page: Page, number: int) -> PageLayout:
    """The page as the form reader sees it: visible glyphs, ruling and the glyphs set aside. A
    scanned page (an image, no visible text) gets its glyphs from OCR, or from the scanner's
    invisible text layer over the image, and its ruling from the image (extract/ocr)."""
    painted = paint_page(page)
    if is_scan(painted):
        from ..ocr.page import scan_layout  # OpenCV and the OCR engine load only for scans

        return scan_layout(page, painted, number)
    sorted_page = SortedPage(painted)
    h_raw, v_raw = _strokes(sorted_page)
    layout = PageLayout(
        number=number,
        width=sorted_page.width,
        height=sorted_page.height,
        glyphs=sorted(sorted_page.glyphs, key=lambda g: (g.top, g.x0)),
        hrules=merge_rules(h_raw),
        vrules=merge_rules(v_raw),
        hsegments=[Rule(*s) for s in h_raw if s[2] - s[1] >= MIN_RULE_LENGTH],
        has_images=sorted_page.images > 0,
        aside=sorted_page.aside,
        clips=sorted_page.clips,
    )
    stamped = stamps(layout.glyphs, layout.hrules, layout.vrules)
    if stamped:
        layout.set_aside(stamped, "watermark")
    return layout


def _strokes(page: SortedPage) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    """Horizontal and vertical strokes (pos, start, end) from lines and thin or outlined rectangles."""
    h: list[tuple[float, float, float]] = []
    v: list[tuple[float, float, float]] = []

    def thin(x0: float, x1: float, top: float, bottom: float) -> bool:
        """A box thinner than STROKE_THICKNESS across is a rule along its centre line (kept)."""
        if bottom - top <= STROKE_THICKNESS:
            h.append(((top + bottom) / 2, x0, x1))
        elif x1 - x0 <= STROKE_THICKNESS:
            v.append(((x0 + x1) / 2, top, bottom))
        else:
            return False
        return True

    for x0, x1, top, bottom in page.lines:
        thin(x0, x1, top, bottom)
    for x0, x1, top, bottom, stroked in page.rects:
        if not thin(x0, x1, top, bottom) and stroked:
            h.extend([(top, x0, x1), (bottom, x0, x1)])
            v.extend([(x0, top, bottom), (x1, top, bottom)])
    return h, v


def _forms(layouts: Iterator[PageLayout]) -> Iterator[list[Part]]:
    """Cut the page stream into forms: a form starts at its title (or 项目名称 line) and runs until
    the next one starts, over as many pages as it takes. Pages before the first form are skipped.
    A title left alone at the bottom of a page (a word processor keeps the heading but moves the
    table on) goes with the form on the next page."""
    current: list[Part] = []
    heading: Part | None = None  # a title at a page's bottom whose form starts on the next page
    for page in layouts:
        starts = _form_starts(page)
        title = _orphaned_title(page, starts)
        first = starts[0] if starts else (title if title is not None else page.height)
        if current and first > 0:
            current.append(Part(page, 0.0, first))
        ends = [*starts[1:], title if title is not None else page.height] if starts else []
        for top, bottom in zip(starts, ends, strict=True):
            if current:
                yield current
            current = ([heading] if heading else []) + [Part(page, top, bottom)]
            heading = None
        if title is not None:
            heading = Part(page, title, page.height)
    if current:
        yield current


def _orphaned_title(page: PageLayout, starts: list[float]) -> float | None:
    """Top y of a form title below the page's last rule with no 项目名称 after it on the page."""
    last_rule = max((r.pos for r in page.hrules), default=-1.0)
    after = [ln for ln in page.lines if ln.top > max([last_rule, *starts])]
    for i, line in enumerate(after):
        if has_title(line.text) and not any(FORM_START.search(ln.text) for ln in after[i:]):
            return line.top - FORM_TOP_MARGIN
    return None


def _form_starts(page: PageLayout) -> list[float]:
    """Top y of every form beginning on the page: its title line above 项目名称, else that label."""
    starts = []
    previous_start = 0.0
    lines = page.lines
    for i, line in enumerate(lines):
        if not FORM_START.search(line.text):
            continue
        top = line.top - FORM_TOP_MARGIN
        for earlier in reversed(lines[:i]):
            if earlier.top < previous_start:
                break
            if has_title(earlier.text) or FISCAL_YEAR.search(earlier.text):
                top = earlier.top - FORM_TOP_MARGIN
            elif line.top - earlier.bottom > TITLE_BLOCK_HEIGHT:
                break
        starts.append(top)
        previous_start = line.bottom
    return starts
