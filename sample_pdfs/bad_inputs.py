"""Malformed and awkward inputs an extractor must survive (and report), written reproducibly."""

from __future__ import annotations

import io
import random
import struct
import zlib
from pathlib import Path

from PIL import Image, ImageDraw  # a dependency of pdfplumber, so always present
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from .draw import render_pdf
from .style import STYLES
from .text import ensure_font

# A small made-up form (not one of the fixtures), enough to be a complete, valid record.
# The error class each bad input must be reported with (the inputs without an entry are readable).
EXPECTED_ERROR_CLASS = {
    "corrupt": "corrupt_pdf",
    "truncated": "corrupt_pdf",
    "empty": "empty_file",
    "encrypted": "encrypted_pdf",
    "not_pdf": "not_pdf",
    "image_only": "image_only",
    "no_form": "no_form",
    "garbled_txt": "unreadable_text",
}

DEMO_RECORD: dict = {
    "key": "demo-01",
    "fiscal_year": 2024,
    "project_name": "示例培训补贴项目",
    "supervising_dept": "上海市示例区人力资源和社会保障局",
    "implementing_unit": "上海市示例区就业促进中心",
    "funding": [
        {
            "line": "年度资金总额",
            "budget_initial": 12.0,
            "budget_full_year": 10.0,
            "executed": 9.5,
            "weight": 10.0,
            "execution_rate_pct": 95.0,
            "score": 9.5,
        },
        {
            "line": "当年财政拨款",
            "budget_initial": 12.0,
            "budget_full_year": 10.0,
            "executed": 9.5,
            "weight": None,
            "execution_rate_pct": 95.0,
            "score": None,
        },
        {
            "line": "上年结转资金",
            "budget_initial": 0.0,
            "budget_full_year": 0.0,
            "executed": 0.0,
            "weight": None,
            "execution_rate_pct": 0.0,
            "score": None,
        },
        {
            "line": "其他资金",
            "budget_initial": 0.0,
            "budget_full_year": 0.0,
            "executed": 0.0,
            "weight": None,
            "execution_rate_pct": 0.0,
            "score": None,
        },
    ],
    "goal_expected": "完成职业技能培训200人次，提升劳动者就业能力。",
    "goal_actual": "完成职业技能培训210人次，培训合格率98%。",
    "indicators": [
        {
            "level1": "成本指标",
            "level2": "经济成本指标",
            "level3": "成本节约情况",
            "target": "未超项目预算",
            "actual": "达成指标",
            "weight": 20.0,
            "score": 20.0,
            "deviation_note": None,
        },
        {
            "level1": "产出指标",
            "level2": "数量指标",
            "level3": "培训人次",
            "target": "≥200.00(人次)",
            "actual": "210.00(人次)",
            "weight": 30.0,
            "score": 30.0,
            "deviation_note": None,
        },
        {
            "level1": "产出指标",
            "level2": "质量指标",
            "level3": "培训合格率",
            "target": "≥95.00(%)",
            "actual": "98.00(%)",
            "weight": 20.0,
            "score": 20.0,
            "deviation_note": None,
        },
        {
            "level1": "满意度指标",
            "level2": "服务对象满意度指标",
            "level3": "学员满意度",
            "target": "≥90.00(%)",
            "actual": "93.00(%)",
            "weight": 20.0,
            "score": 20.0,
            "deviation_note": None,
        },
    ],
    "total_weight": 100.0,
    "total_score": 99.5,
    "grade": "优",
}


def _good_pdf_bytes(record: dict) -> bytes:
    buf = io.BytesIO()
    render_pdf([record], buf, STYLES["lattice"])
    return buf.getvalue()


def _png_bytes(width: int = 8, height: int = 8) -> bytes:
    """A minimal grey PNG written by hand (the non-PDF renamed .pdf)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def _scan_image() -> Image.Image:
    """A 'scanned' form: grid lines and blocks where text would be, but no text layer."""
    img = Image.new("L", (595, 842), 255)
    pen = ImageDraw.Draw(img)
    for y in range(120, 700, 24):
        pen.line([(40, y), (555, y)], fill=0)
        for x in (40, 130, 300, 555):
            pen.line([(x, y), (x, y + 24)], fill=0)
        pen.rectangle([(140, y + 8), (140 + (y * 7) % 140, y + 16)], fill=90)
    pen.rectangle([(200, 60), (395, 80)], fill=60)  # where the title would be
    return img


def _image_only_pdf(path: Path) -> None:
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setProducer("Sample scanner")
    c.drawImage(ImageReader(_scan_image()), 0, 0, width=A4[0], height=A4[1])
    c.showPage()
    c.save()


def _encrypted_pdf(path: Path, record: dict) -> None:
    enc = StandardEncryption(userPassword="secret", ownerPassword="owner-secret", strength=128)
    render_pdf([record], path, STYLES["lattice"], encrypt=enc)


def _no_form_pdf(path: Path) -> None:
    font = ensure_font()
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    c.setProducer("Sample letter writer")
    c.setFont(font, 12)
    lines = [
        "关于做好2024年度项目支出绩效自评工作的通知",
        "",
        "各预算单位：",
        "请按要求于规定时间内报送绩效自评材料。",
        "This page has text but no performance evaluation form.",
    ]
    for i, line in enumerate(lines):
        c.drawString(60, 760 - 20 * i, line)
    c.showPage()
    c.save()


def write_bad_inputs(dirpath: str | Path, record: dict | None = None) -> dict[str, Path]:
    """Write one file per kind of bad input; returns {kind: path}.

    Kinds: corrupt, truncated, empty, encrypted, not_pdf, image_only, no_form, garbled_txt,
    chinese_name (a GOOD form under a file name with CJK characters and spaces).
    """
    out = Path(dirpath)
    out.mkdir(parents=True, exist_ok=True)
    record = record or DEMO_RECORD
    rng = random.Random("bad-inputs")
    good = _good_pdf_bytes(record)
    paths = {
        "corrupt": out / "corrupt.pdf",
        "truncated": out / "truncated.pdf",
        "empty": out / "empty.pdf",
        "encrypted": out / "encrypted.pdf",
        "not_pdf": out / "image_png_renamed.pdf",
        "image_only": out / "image_only.pdf",
        "no_form": out / "no_form.pdf",
        "garbled_txt": out / "garbled.txt",
        "chinese_name": out / "嘉定 区 报告.pdf",
    }
    paths["corrupt"].write_bytes(b"%PDF-1.4\n" + rng.randbytes(4096))
    paths["truncated"].write_bytes(good[: len(good) // 2])
    paths["empty"].write_bytes(b"")
    _encrypted_pdf(paths["encrypted"], record)
    paths["not_pdf"].write_bytes(_png_bytes())
    _image_only_pdf(paths["image_only"])
    _no_form_pdf(paths["no_form"])
    # Invalid UTF-8 on purpose: 0xff/0xfe never occur in UTF-8, and a lone continuation byte.
    paths["garbled_txt"].write_bytes(b"\xff\xfe\x80" + rng.randbytes(512))
    paths["chinese_name"].write_bytes(good)
    return paths
