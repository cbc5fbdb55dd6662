"""The form's vocabulary, written once for both readers (PDF geometry and text dumps).

Everything a reader recognises by its wording lives here: the form title, the row labels
(项目名称, 主管部门, 实施单位 and the suffixes a label may carry, such as （盖章）), the 项目资金
block's header words, line names and unit, the 绩效指标 table's header words and level names, the
总分 and 评分等级 rows, the page numbers producers print, the null tokens of an empty cell and the
full-width → ASCII map. Patterns are regular-expression source strings (`str`), matched against
whitespace-free text; where a pattern needs context (start of a line, start of a name) the function
beside it supplies it.

Amounts of the 项目资金 block are stored in 万元, the warehouse unit: `FUNDING_UNITS` gives the factor
from each printed unit to 万元.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# ---------------------------------------------------------------- characters

# Full-width ASCII forms (！ … ～, U+FF01–FF5E) and the ideographic space to their ASCII
# counterparts, plus the minus sign: producers print numbers and operators in either width.
FULLWIDTH_TO_ASCII = str.maketrans(
    {chr(0xFF01 + i): chr(0x21 + i) for i in range(0x5E)} | {"\u3000": " ", "−": "-"}
)

# An empty cell, after `halfwidth` (so "－" and "／" are covered by "-" and "/").
NULL_TOKENS = frozenset({"", "-", "—", "/", "——", "--", "---", "无数据"})


def halfwidth(text: str) -> str:
    """Full-width digits, letters and punctuation as ASCII ("１，０００．００％" → "1,000.00%")."""
    return text.translate(FULLWIDTH_TO_ASCII)


def is_null(text: str) -> bool:
    """True for an empty cell or one printing only a null token ("-", "—", "/", "无数据")."""
    return halfwidth(re.sub(r"\s+", "", text)) in NULL_TOKENS


# ---------------------------------------------------------------- title and year

# The form's title: 财政项目支出绩效自评表, also without 财政 (2022 forms), as 绩效自评表 or 自评表.
FORM_TITLE = r"(?:财政)?(?:项目支出)?(?:绩效自评表?|自评表)"
FISCAL_YEAR = re.compile(r"(\d{4})\s*年度?")
FISCAL_YEARS = range(1990, 2101)  # a year outside is no fiscal year of a form (a code, a misread)
_TITLE_LINE = re.compile(rf"^(?:附件\d*[:：]?)?(?:\d{{4}}年度?)?{FORM_TITLE}(?:[（(]\d{{4}}年度?[)）])?$")


def is_title_line(text: str) -> bool:
    """A line that is the form's title and nothing else (a year in brackets may follow)."""
    return bool(_TITLE_LINE.match(halfwidth(re.sub(r"\s+", "", text))))


def has_title(text: str) -> bool:
    """A line that holds the form's title words anywhere (a PDF title line may carry more)."""
    return re.search(FORM_TITLE, text) is not None


# ---------------------------------------------------------------- page numbers

# A page number a PDF prints in its margin, on a whitespace-free line: "- 1 -", "—2—", "第3页",
# "第3页共5页", "3/5", "Page3". Only margin lines are tested, so a bare number is one too.
PAGE_NUMBER = re.compile(
    r"^([-—–－]*\d{1,4}[-—–－]*|第\d{1,4}页([/／,，]?共\d{1,4}页)?|共\d{1,4}页[/／,，]?第\d{1,4}页|"
    r"\d{1,4}[/／]\d{1,4}|(?i:page)\d{1,4}((?i:of)\d{1,4})?)$"
)
# A page number as a line of a text dump prints it: "- 3 -", "第3页", "第 3 页 共 9 页". Narrower than
# PAGE_NUMBER: any line of a dump is tested, and a bare number there may be a cell's value.
DUMP_PAGE_NUMBER = re.compile(r"^([-—–]\s*\d{1,4}\s*[-—–]|第\s*\d{1,4}\s*页([,，/\s]*共\s*\d{1,4}\s*页)?)$")

# ---------------------------------------------------------------- head labels

# What may follow a label in its own cell: a bracketed remark (实施单位（盖章）), 及代码 (主管部门及代码,
# the central template) and a colon. None of it is part of the value printed beside it.
LABEL_REMARKS = ("盖章", "盖公章", "公章", "签章", "单位盖章", "签字", "签字盖章", "盖章签字", "全称")
LABEL_SUFFIX = rf"(?:及代码|[（(](?:{'|'.join(LABEL_REMARKS)})[)）])?[:：]?"
PROJECT_NAME = "项目名称"
SUPERVISING_DEPT = "(?:项目)?主管(?:部门|单位)"  # also 项目主管部门, 主管单位
IMPLEMENTING_UNIT = "(?:项目)?实施单位"


def label(word: str) -> str:
    """Pattern of a head label with whatever suffix its cell may print after it."""
    return word + LABEL_SUFFIX


# The head labels as a scan's recogniser may misread them, one character off (主管部内 for
# 主管部门): looked for on OCR'd pages only, and only where the exact label is not found.
# A label's position is all a near-miss gives; the value beside it is read as printed.
NEAR_MISS_LABELS = {"supervising_dept": "主管部门", "implementing_unit": "实施单位"}


def near_miss(word: str) -> str:
    """Pattern of `word` with any one of its characters misread (labels only, never values)."""
    return (
        "(?:" + "|".join(re.escape(word[:i]) + "." + re.escape(word[i + 1 :]) for i in range(len(word))) + ")"
    )


# ---------------------------------------------------------------- 项目资金

FUNDING_BLOCK = "项目资金"
# Header words → FundingLine field, in any order the header prints them.
FUNDING_HEADERS = {
    "budget_initial": r"年初预算|年初数",
    "budget_full_year": r"全年预算|调整后预算",
    "executed": r"全年执行|执行数|实际执行",
    "weight": r"分值|分数|权重",
    "execution_rate_pct": r"执行率",
    "score": r"得分",
}
FUNDING_AMOUNT_FIELDS = ("budget_initial", "budget_full_year", "executed")  # in the block's unit
MIN_FUNDING_HEADER_WORDS = 3  # a text line with this many header words is the block's header
MAX_FUNDING_HEADER_OTHER_CHARS = 4  # … if it prints little else (a sentence is no header)

# The four funding lines, each a pattern of its name (what a 其中： prefix leaves). A line by
# source (中央补助资金, 上级财政拨款, 地方配套资金) is none of them: its values belong to no line.
FUNDING_LINE_NAMES = (
    r"(?:年度|项目)?资金总额",
    r"(?:当年|本年)?财政拨款(?:资金)?",
    r"上年结转(?:结余)?(?:资金)?",
    r"其他资金",
)
FUNDING_LINE_PREFIX = r"其中[:：]?"

# Printed unit of the block's amounts → factor to 万元.
FUNDING_UNITS = {"万元": 1.0, "元": 1e-4, "千元": 0.1, "百万元": 100.0, "亿元": 1e4}
# Decimals of an amount in 万元: an amount printed in 元 with 2 decimals (分) has 6 in 万元. The
# warehouse rounds the amounts it computes to the same (dbt_project.yml `decimals.amount`).
WAN_DECIMALS = 6
_UNIT_MENTIONS = (
    re.compile(rf"{FUNDING_BLOCK}[（(](?:单位[:：])?(?P<unit>[^（()）]{{1,8}})[)）]"),
    re.compile(r"(?<!实施)单位[:：](?P<unit>[千百万亿]{0,2}元)"),
    re.compile(r"(?:预算数?|执行数|年初数|资金)[（(](?P<unit>[千百万亿]{0,2}元)[)）]"),
)


def funding_line_pattern(i: int) -> str:
    """Search pattern of funding line i's name on a PDF line (its 其中： prefix included); a match
    is the name only where `starts_a_name` holds for the text before it in its cell."""
    return f"(?:{FUNDING_LINE_PREFIX})?(?:{FUNDING_LINE_NAMES[i]})"


def starts_a_name(before: str) -> bool:
    """A name matched after `before` (the text of its cell before it) is that name, not the tail of
    a longer one: 财政拨款 in 上级财政拨款 or 中央财政拨款 is no 当年财政拨款."""
    return not re.search(r"[\u4e00-\u9fff]$", before) or before.endswith(FUNDING_BLOCK)


def funding_line_of(text: str) -> tuple[int | None, str]:
    """(index of the funding line whose name starts `text`, the rest of the text after the name).

    Index None when the text starts with no funding line's name, e.g. 其中：中央补助资金.
    """
    stripped = re.sub(rf"^{FUNDING_LINE_PREFIX}", "", text.strip()).strip()
    for i, name in enumerate(FUNDING_LINE_NAMES):
        m = re.match(rf"(?:{name})[:：]?", stripped)
        if m:
            return i, stripped[m.end() :]
    return None, text


_FUNDING_HEADER = re.compile("|".join(f"(?P<{name}>{p})" for name, p in FUNDING_HEADERS.items()))


def funding_header_fields(text: str) -> list[str]:
    """FundingLine fields of the header words in `text`, in printed order ("年初预算数 全年预算数
    全年执行数 分值 执行率 得分" → budget_initial, budget_full_year, executed, weight, …)."""
    return [m.lastgroup for m in _FUNDING_HEADER.finditer(text) if m.lastgroup]


def is_funding_header(text: str) -> bool:
    """A line that is (the start of) the block's header: header words and little else, among them
    年初预算数 (the first line of a wrapped header) or several others. A sentence that mentions
    年初预算 or 执行率 is no header."""
    fields = funding_header_fields(text)
    rest = re.sub(r"[数()（）%％万元]", "", _FUNDING_HEADER.sub("", text))
    many = "budget_initial" in fields or len(set(fields)) >= MIN_FUNDING_HEADER_WORDS
    return many and len(rest) <= MAX_FUNDING_HEADER_OTHER_CHARS


@dataclass(frozen=True)
class FundingUnit:
    """The 项目资金 block's printed unit: `to_wan` converts its amounts to 万元 (None: unknown)."""

    printed: str | None  # as printed ("万元", "元"), None when the form prints none
    to_wan: float | None

    @property
    def known(self) -> bool:
        """True when the amounts can be converted to 万元."""
        return self.to_wan is not None


def funding_unit(texts: list[str]) -> FundingUnit:
    """The unit the block's amounts are printed in, from its label (项目资金（元）), a 单位：万元 line
    or the header cells (年初预算数（元）). No mention, an unknown unit or two different units → an
    unknown unit, whose amounts are uncertain."""
    found = {
        m.group("unit")
        for text in texts
        for pattern in _UNIT_MENTIONS
        for m in pattern.finditer(halfwidth(re.sub(r"\s+", "", text)))
    }
    if len(found) != 1:
        return FundingUnit("/".join(sorted(found)) or None, None)
    (unit,) = found
    return FundingUnit(unit, FUNDING_UNITS.get(unit))


def to_wan(value: float | None, unit: FundingUnit) -> float | None:
    """An amount printed in `unit` in 万元 (rounded to WAN_DECIMALS against float noise)."""
    if value is None or unit.to_wan is None or unit.to_wan == 1.0:
        return value
    return round(value * unit.to_wan, WAN_DECIMALS)


def funding_value_in_wan(name: str, value: float | None, unit: FundingUnit) -> tuple[float | None, bool]:
    """A funding line's field `name` as the warehouse holds it, and whether it is certain: an amount
    (FUNDING_AMOUNT_FIELDS) printed in `unit` in 万元, uncertain when the unit is unknown; any
    other field (分值, 执行率, 得分) as read."""
    if name not in FUNDING_AMOUNT_FIELDS:
        return value, True
    return to_wan(value, unit), unit.known or value is None


# ---------------------------------------------------------------- 年度总体目标

GOALS_BLOCK = r"年度总体|总体目标"
GOAL_EXPECTED = r"预期目标"
GOAL_ACTUAL = r"实际完成情况|实际完成(?!值)"
GOAL_ROW_LABELS = ("年度总体目标", "绩效指标", "总体目标", "预期目标", "实际完成情况")

# ---------------------------------------------------------------- 绩效指标

INDICATOR_BLOCK = r"绩效指标|绩效指"
# Header words → Indicator field. The stems match wrapped headers ("一级指" / "标") too.
INDICATOR_HEADERS = {
    "level1": r"一级",
    "level2": r"二级",
    "level3": r"三级",
    "target": r"指标值|目标值",
    "actual": r"完成值|实际完成|实际值",
    "weight": r"分值|权重|分数",
    "score": r"得分",
    "deviation_note": r"偏差|原因|改进",
}
# Columns some provinces add (Sichuan): the target printed in three cells, 指标性质 (the operator,
# or 定性/定量) + 指标值 + 度量单位, read as one target "≥" + "12" + "处" → "≥12处".
TARGET_PART_HEADERS = {
    "target_operator": r"指标性质|指标方向",
    "target_unit": r"度量单位|计量单位|单位",
}
# What a 指标性质 cell may print besides an operator: the kind of indicator, not part of the target.
TARGET_KIND_WORDS = frozenset(
    {"定性", "定量", "正向", "反向", "正向指标", "反向指标", "定性指标", "定量指标"}
)
# Filler of wrapped header cells beside the stems ("偏差原因分析及改进措" / "施").
_HEADER_FILLER = re.compile(r"[指标年度分析及措施情况实际值]")
LEVEL_NAME_SUFFIX = "指标"  # every 一级/二级指标 name ends so (产出指标, 数量指标)
LEVEL1_HEADER = "一级指标"
LEVEL3_HEADER = "三级指标"
HEADER_ANCHOR_MIN_HITS = 3  # a line with this many indicator header words is the header row
TOTAL_LABEL = r"总分|合计|总计"  # the row that ends the table

LEVEL1_NAMES = frozenset({"成本指标", "产出指标", "效益指标", "满意度指标"})
LEVEL2_NAMES = frozenset(
    {
        "经济成本指标", "社会成本指标", "生态环境成本指标", "成本指标",
        "数量指标", "质量指标", "时效指标",
        "经济效益指标", "社会效益指标", "生态效益指标", "可持续影响指标",
        "服务对象满意度指标",
    }
)  # fmt: skip


def indicator_header_fields(text: str) -> list[str]:
    """Indicator fields whose header words `text` holds (each once, in the vocabulary's order)."""
    return [name for name, pattern in INDICATOR_HEADERS.items() if re.search(pattern, text)]


def _header_rest(text: str, patterns: list[str]) -> str:
    """`text` without the header words of `patterns`, the 绩效指标 label and wrapped-header filler."""
    return _HEADER_FILLER.sub("", re.sub("|".join([INDICATOR_BLOCK, *patterns]), "", text))


def is_header_piece(text: str) -> bool:
    """Text that is only indicator header words or their wrapped tails (三级指标, 施, 改进措施)."""
    return bool(text) and not _header_rest(text, [*INDICATOR_HEADERS.values(), *TARGET_PART_HEADERS.values()])


def nonstandard_header_words(text: str) -> str:
    """What an indicator header prints beyond the standard form's eight columns ("性质量单位" for
    a header with 指标性质 and 度量单位); "" for the standard header."""
    return _header_rest(text, list(INDICATOR_HEADERS.values()))


# ---------------------------------------------------------------- comparison operators

# Other fonts' signs for ≥ and ≤.
OPERATOR_VARIANTS = str.maketrans({"≧": "≥", "≦": "≤", "⩾": "≥", "⩽": "≤"})
# Printed operator words and signs (after OPERATOR_VARIANTS) → the canonical operator; longest
# first, so 大于等于 wins over 大于.
OPERATOR_WORDS = tuple(
    sorted(
        (
            (">=", "≥"), ("<=", "≤"), ("=>", "≥"), ("=<", "≤"),
            ("大于等于", "≥"), ("大于或等于", "≥"), ("不低于", "≥"), ("不少于", "≥"), ("不小于", "≥"),
            ("至少", "≥"),
            ("小于等于", "≤"), ("小于或等于", "≤"), ("不高于", "≤"), ("不超过", "≤"), ("不多于", "≤"),
            ("不大于", "≤"), ("至多", "≤"),
            ("大于", ">"), ("高于", ">"), ("多于", ">"), ("超过", ">"),
            ("小于", "<"), ("低于", "<"), ("少于", "<"),
            ("等于", "="),
            ("≥", "≥"), ("≤", "≤"),
            (">", ">"), ("<", "<"), ("=", "="),
        ),
        key=lambda pair: -len(pair[0]),
    )
)  # fmt: skip


def operator_of(text: str) -> str | None:
    """The canonical operator when `text` (a whole cell) is an operator word or sign, else None."""
    s = halfwidth(re.sub(r"\s+", "", text)).translate(OPERATOR_VARIANTS)
    return next((op for word, op in OPERATOR_WORDS if s == word), None)


# ---------------------------------------------------------------- 总分 and 评分等级

# The 评分等级 row's label: it starts its row (a note under the form that mentions 评分等级 is no row).
GRADE_LABEL = r"^(?:评分|评价|自评|绩效)?等级[:：]?"
GRADE_WORDS = frozenset({"优", "良", "中", "差", "优秀", "良好", "合格", "不合格", "较差", "一般"})
# A note printed under the form (注：评分等级：90分以上为优…; 说明：…): explanation, not a field.
FORM_NOTE = r"^(?:注|备注|说明|填表说明)[:：]"
