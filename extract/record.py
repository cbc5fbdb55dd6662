"""The canonical record: one per form, the shape every stage after extraction relies on.

Field meanings and normalization rules follow the sample transcription (reports.json): numbers are
floats as printed, "-" or an empty cell is None, wrapped cell lines are joined with no separator.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

FUNDING_LINES = ("年度资金总额", "当年财政拨款", "上年结转资金", "其他资金")


@dataclass
class FundingLine:
    """One line of the 项目资金 block (年度资金总额, 当年财政拨款, 上年结转资金, 其他资金).

    年初预算数 (budget_initial), 全年预算数 (budget_full_year) and 全年执行数 (executed) in 万元;
    分值 (weight) and 得分 (score) in pt; 执行率 (execution_rate_pct) in %. None: blank, a null
    token, or not printed."""

    line: str
    budget_initial: float | None = None
    budget_full_year: float | None = None
    executed: float | None = None
    weight: float | None = None
    execution_rate_pct: float | None = None
    score: float | None = None


# The value fields of a funding line, in the printed column order (the default when a header
# names none).
FUNDING_VALUE_FIELDS = tuple(f.name for f in fields(FundingLine) if f.name != "line")


@dataclass
class Indicator:
    """One row of the 绩效指标 table: its 一级/二级/三级指标 names, 年度指标值 (target) and 实际完成值
    (actual) as printed, 分值 (weight) and 得分 (score) in pt, and 偏差原因分析及改进措施
    (deviation_note)."""

    level1: str | None
    level2: str | None
    level3: str | None
    target: str | None
    actual: str | None
    weight: float | None
    score: float | None
    deviation_note: str | None = None
    page: int | None = None  # 1-based page of the row; None for text dumps and office originals


# Indicator fields by what they hold: the 一级/二级指标 names a merged cell prints once for several
# rows, a row's own text, and its numbers (pt).
MERGED_LEVEL_FIELDS = ("level1", "level2")
ROW_TEXT_FIELDS = ("level3", "target", "actual", "deviation_note")
NUMERIC_FIELDS = ("weight", "score")
INDICATOR_TEXT_FIELDS = MERGED_LEVEL_FIELDS + ROW_TEXT_FIELDS


@dataclass
class Source:
    """Where a record was read: the file's name and SHA-256, the 1-based pages the form spans, and
    the form's 1-based position in the file."""

    file: str  # file name (not the full path: records must not depend on where a file was read)
    sha256: str
    pages: list[int] = field(default_factory=list)  # 1-based pages the form spans (PDF)
    form_index: int = 1  # 1-based position of the form within its file
    # Office originals (.xlsx/.xls, .docx/.doc): where in the workbook or document the form is.
    sheet: str | None = None  # worksheet name (workbooks)
    cell_range: str | None = None  # the form's cells on that sheet, as in Excel ("A1:I32")
    tables: list[int] = field(default_factory=list)  # 1-based indexes of the document's tables
    # 1-based pages whose text was recognised from a scanned image (OCR), or taken from a
    # scanner's invisible text layer over it; empty when every page printed its text
    ocr_pages: list[int] = field(default_factory=list)


@dataclass
class Check:
    """One arithmetic check of a form (validate.py): its name, whether it passed, the value
    expected from the form's other numbers and the value printed, and a detail for a reader."""

    name: str
    passed: bool
    expected: float | None = None
    actual: float | None = None
    detail: str = ""


# Why a painted glyph inside a form's region is not read into any field (GlyphReport.set_aside):
SET_ASIDE_REASONS = (
    "watermark",  # a diagonal stamp, or faint text far larger than the form's
    "clipped",  # outside the clipping path (cell text cut off by its cell) or the page's crop box
    "page_furniture",  # page numbers, running headers and footers at a page break
    "invisible",  # render mode 3/7 or a fully transparent fill: nothing is painted
    "overprint",  # the same glyph painted again a fraction of an em away (fake bold)
    "outside_table",  # visible, but outside the form's table (e.g. a note under the form)
)


@dataclass
class GlyphReport:
    """How a PDF form's glyphs were accounted for — the safety net of the geometry reader.

    Every visible glyph inside the form's region ends in exactly one field (or a label, header or
    title of the form), or is set aside with a reason. A glyph that ends nowhere, one read into
    two fields, a value built from glyphs of two ruled cells, or an unmapped glyph makes the
    affected fields uncertain (listed in Record.uncertain_fields).
    """

    read: int = 0  # visible glyphs that ended in a field, label, header or title
    set_aside: dict[str, int] = field(default_factory=dict)  # reason (SET_ASIDE_REASONS) → glyphs
    unplaced: int = 0  # visible glyphs in the form's table that ended in no field
    reused: int = 0  # visible glyphs read into more than one field
    # field path → the glyphs of that field its font maps to no character, as "(cid:N)"
    unmapped: dict[str, list[str]] = field(default_factory=dict)

    @property
    def total_set_aside(self) -> int:
        """Glyphs set aside, for every reason together."""
        return sum(self.set_aside.values())


@dataclass
class Record:
    """The canonical record of one form, the shape of reports.json plus provenance.

    Head fields (年度 fiscal_year, 项目名称, 主管部门, 实施单位), the four FundingLines of 项目资金,
    年度总体目标 (goal_expected 预期目标, goal_actual 实际完成情况), the Indicators of 绩效指标, 总分
    (total_weight, total_score in pt) and 评分等级 (grade); then the Source, the fields not read
    with certainty (paths such as "funding[0].executed"), the checks (validate.py) and, for PDF
    forms, the GlyphReport."""

    fiscal_year: int | None
    project_name: str | None
    supervising_dept: str | None
    implementing_unit: str | None
    funding: list[FundingLine]
    goal_expected: str | None
    goal_actual: str | None
    indicators: list[Indicator]
    total_weight: float | None
    total_score: float | None
    grade: str | None
    source: Source
    uncertain_fields: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    # Where every glyph (PDF) or cell character (office originals) went; text dumps: None.
    glyphs: GlyphReport | None = None

    def __post_init__(self) -> None:
        if isinstance(self.glyphs, dict):  # read back from JSON (the extraction cache)
            self.glyphs = GlyphReport(**self.glyphs)

    @property
    def failed_checks(self) -> list[Check]:
        """The checks the form fails."""
        return [c for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of `python -m extract --json` (reports.json's shape plus provenance)."""
        return asdict(self)


@dataclass
class ExtractError:
    """Why a file (or one form in it) could not be read. Never raised across the API: returned."""

    file: str
    sha256: str | None
    error_class: str  # one of ERROR_CLASSES
    message: str
    pages: list[int] = field(default_factory=list)  # set when only part of a file failed

    def to_dict(self) -> dict[str, Any]:
        """The error as a dict of JSON values."""
        return asdict(self)


ERROR_CLASSES = (
    "not_found",  # path does not exist or is not readable
    "empty_file",  # zero bytes
    "not_pdf",  # .pdf without a PDF header
    "corrupt_pdf",  # PDF that pdfplumber cannot parse
    "encrypted_pdf",  # needs a password
    "image_only",  # pages with no text layer (a scan)
    "no_form",  # readable, but no 绩效自评表 form found
    "form_unreadable",  # a form was found but its layout could not be read
    "unmapped_glyphs",  # a form whose names are mostly glyphs its fonts map to no character
    "scrambled_text",  # a text dump written out of reading order
    "unreadable_text",  # a text file no supported encoding reads as a form dump (binary, garbage)
    "too_large",  # over the page or size limits
    "timeout",  # extraction exceeded its time limit
    "corrupt_office",  # an .xlsx/.docx (or a converted .xls/.doc) that its library cannot open
    "converter_missing",  # an .xls/.doc and no LibreOffice (soffice) to convert it
    "conversion_failed",  # LibreOffice could not convert the .xls/.doc (or ran over its time)
    "hidden_sheet",  # a form on a worksheet the workbook hides: not published, not read
)


@dataclass
class FileResult:
    """What reading one file gave: its path, its SHA-256 (None when it could not be read), its kind
    ("pdf" or "text"), the records of its forms and the errors."""

    path: str
    sha256: str | None
    kind: str  # "pdf", "text" or the office format read: "xlsx", "docx", "xls", "doc"
    records: list[Record] = field(default_factory=list)
    errors: list[ExtractError] = field(default_factory=list)


class ReadError(Exception):
    """Raised inside the readers for input they refuse; turned into an ExtractError by the API."""

    def __init__(self, error_class: str, message: str, pages: list[int] | None = None):
        assert error_class in ERROR_CLASSES, error_class
        super().__init__(message)
        self.error_class = error_class
        self.message = message
        self.pages = pages or []
