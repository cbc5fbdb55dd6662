"""Scanned copies of rendered forms: what a department's scanner makes of a printed form.

A rendered PDF is rasterised by poppler's `pdftoppm` (another renderer than the reader's pdfium),
given the conditions of a scan (`ScanConditions`: a small turn, blur, noise, JPEG compression),
and wrapped back into an image-only PDF (Pillow), one page image per page, at the scan's
resolution. `scan_with_text_layer` writes what scanners' software writes instead: the same
image with an invisible (render mode 3) text layer over it, at the form's text positions.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image


@dataclass(frozen=True)
class ScanConditions:
    """How a page is scanned: resolution (dpi), turn (degrees clockwise), Gaussian blur (sigma,
    px), Gaussian noise (standard deviation, grey levels 0..255), JPEG quality (None: lossless)."""

    dpi: int = 200
    skew: float = 0.0
    blur: float = 0.0
    noise: float = 0.0
    jpeg: int | None = None
    seed: int = 0


def have_pdftoppm() -> bool:
    return shutil.which("pdftoppm") is not None


def rasterise(pdf: Path, dpi: int) -> list[np.ndarray]:
    """The PDF's pages as greyscale images (pdftoppm); raises FileNotFoundError without poppler."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), f"{tmp}/p"], check=True)
        return [cv2.imread(str(p), cv2.IMREAD_GRAYSCALE) for p in sorted(Path(tmp).glob("p*.png"))]


def degrade(image: np.ndarray, cond: ScanConditions, page: int = 0) -> np.ndarray:
    """A page image as the scanner gives it under `cond` (reproducible for a seed and page)."""
    out = image
    if cond.skew:
        h, w = out.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -cond.skew, 1.0)
        out = cv2.warpAffine(out, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)
    if cond.blur:
        out = cv2.GaussianBlur(out, (0, 0), cond.blur)
    if cond.noise:
        rng = np.random.default_rng(cond.seed + page)
        out = np.clip(out + rng.normal(0, cond.noise, out.shape), 0, 255).astype(np.uint8)
    if cond.jpeg is not None:
        _, data = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, cond.jpeg])
        out = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    return out


def scan_pdf(pdf: Path, out: Path, cond: ScanConditions = ScanConditions()) -> Path:
    """An image-only PDF of `pdf` as scanned under `cond`, written to `out`."""
    pages = [Image.fromarray(degrade(im, cond, i)) for i, im in enumerate(rasterise(pdf, cond.dpi))]
    pages[0].save(out, "PDF", resolution=float(cond.dpi), save_all=True, append_images=pages[1:])
    return out


def scan_with_text_layer(
    records: list[dict],
    out: Path,
    style,
    cond: ScanConditions = ScanConditions(),
    *,
    shift: tuple[float, float] = (0.0, 0.0),
) -> Path:
    """The forms rendered in `style`, scanned under `cond`, each page image drawn full-page with
    the forms' text over it in render mode 3 (invisible), as OCR software lays it (each line
    where the turned image shows it); `shift` (pt,
    right and down) moves the text layer off where the image shows it (a misplaced layer)."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    from .draw import render_pdf
    from .layout import PAGE_H, PAGE_W, layout_forms
    from .text import ensure_font

    with tempfile.TemporaryDirectory() as tmp:
        printed = Path(tmp) / "printed.pdf"
        render_pdf(records, printed, style)
        images = [degrade(im, cond, i) for i, im in enumerate(rasterise(printed, cond.dpi))]
    font = ensure_font()
    c = canvas.Canvas(str(out), pagesize=(PAGE_W, PAGE_H), invariant=1, pageCompression=1)
    c.setProducer("Sample scanner with OCR layer")
    for image, page in zip(images, layout_forms(records, style), strict=True):
        c.drawImage(ImageReader(Image.fromarray(image)), 0, 0, PAGE_W, PAGE_H)
        for cell in page.cells:
            for line in cell.lines:
                x, y = _turned(line.x + shift[0], line.baseline + shift[1], cond.skew, PAGE_W, PAGE_H)
                text = c.beginText(x, PAGE_H - y)
                text.setFont(font, line.size)
                text.setTextRenderMode(3)
                text.textOut(line.text)
                c.drawText(text)
        c.showPage()
    c.save()
    return out


def _turned(x: float, y: float, skew: float, width: float, height: float) -> tuple[float, float]:
    """A point (pt, top-down) of the page where `degrade` turns it: `skew` degrees clockwise
    about the page's centre."""
    a = math.radians(skew)
    dx, dy = x - width / 2, y - height / 2
    return width / 2 + dx * math.cos(a) - dy * math.sin(a), height / 2 + dx * math.sin(a) + dy * math.cos(a)
