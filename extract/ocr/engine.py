"""The OCR engine: RapidOCR on onnxruntime, with the PP-OCRv4 Chinese detection and recognition
models its wheel ships (nothing is downloaded, at install or at run time).

Chosen over Tesseract `chi_sim` by measurement on rendered scans of the sample forms (README,
"Scanned PDFs"): Tesseract lost most digits of the ruled cells and joined cells across rules.
RapidOCR gives every character its own box and confidence (`return_word_box`), which is what the
geometry reader needs: one glyph per character, placed in its cell.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from ..record import ReadError

# One thread per engine: a load runs one extraction worker per core, so more would oversubscribe.
ENGINE_THREADS = 1
# Pages are detected at up to this many px on their long side (A4 at OCR_DPI = 200 is 2339 px);
# RapidOCR's default (2000) would shrink them and blur 9 pt digits.
MAX_SIDE_PX = 2400
_lock = threading.Lock()  # one engine per process; onnxruntime sessions are not shared by threads


@dataclass(frozen=True, slots=True)
class OcrChar:
    """One recognised character: its text, box (px, top-left origin) and the recogniser's
    probability for it (0..1)."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    confidence: float


@cache
def _engine() -> Any:  # rapidocr_onnxruntime.RapidOCR (untyped)
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # the product's dependency; a broken install says so, per file
        raise ReadError(
            "image_only", "a scanned page needs OCR, but rapidocr-onnxruntime is not installed"
        ) from exc
    # RapidOCR 1.4 takes its settings as keywords; a `params` dict is silently ignored (it was:
    # the engine ran on every core, spinning, at its default 2000 px).
    engine = RapidOCR(
        intra_op_num_threads=ENGINE_THREADS,
        inter_op_num_threads=ENGINE_THREADS,
        max_side_len=MAX_SIDE_PX,
        print_verbose=False,
    )
    if engine.text_rec.session.session.get_session_options().intra_op_num_threads != ENGINE_THREADS:
        raise ReadError("image_only", "the OCR engine did not take its thread setting (rapidocr version?)")
    return engine


def recognise(image: np.ndarray) -> list[list[OcrChar]]:
    """The text lines the engine finds on a greyscale page image (uint8, white paper), each as its
    characters left to right; spaces are dropped (the forms never need them). Text turned 180°
    is not looked for (the page has been straightened). Raises ReadError("image_only") when the
    engine is not installed."""
    engine = _engine()
    rgb = np.dstack([image] * 3)
    with _lock:
        result, _ = engine(rgb, use_cls=False, return_word_box=True)
    lines = []
    for entry in result or []:
        _box, _text, _score, char_boxes, chars, scores = entry
        line = []
        for quad, text, score in zip(char_boxes, chars, scores, strict=False):
            if not text.strip():
                continue
            xs, ys = [p[0] for p in quad], [p[1] for p in quad]
            line.append(OcrChar(text, min(xs), max(xs), min(ys), max(ys), float(score)))
        if line:
            lines.append(line)
    return lines
