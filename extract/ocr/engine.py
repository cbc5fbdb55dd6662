"""The OCR engine: RapidOCR on onnxruntime, with the PP-OCRv4 Chinese detection and recognition
models its wheel ships (nothing is downloaded, at install or at run time).

Chosen over Tesseract `chi_sim` by measurement on rendered scans of the sample forms (README,
"Scanned PDFs"): Tesseract lost most digits of the ruled cells and joined cells across rules.
RapidOCR gives every character its own box and confidence (`return_word_box`), which is what the
geometry reader needs: one glyph per character, placed in its cell.
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache
from typing import Any

import cv2
import numpy as np

from ..record import ReadError

REC_HEIGHT = 48  # px: the recogniser's input height (PP-OCRv4); every piece is scaled to it
# px: the narrowest input. RapidOCR's default, 320, pads a short piece (a number, a unit) to 6.7
# heights the recogniser computes over: 160 reads as well at 75 % of the cost; 48 reads worse
# (README, "Scanned PDFs": measured on the OCR bench)
REC_MIN_WIDTH = 160
# One thread per engine: a load runs one extraction worker per core, so more would oversubscribe.
ENGINE_THREADS = 1
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
    # the engine ran on every core). Only the recogniser is used (`recognise`).
    engine = RapidOCR(
        intra_op_num_threads=ENGINE_THREADS,
        inter_op_num_threads=ENGINE_THREADS,
        rec_batch_num=1,  # pieces one at a time: a batch pads each to its widest (measured no faster)
        rec_img_shape=[3, REC_HEIGHT, REC_MIN_WIDTH],
        print_verbose=False,
    )
    if engine.text_rec.session.session.get_session_options().intra_op_num_threads != ENGINE_THREADS:
        raise ReadError("image_only", "the OCR engine did not take its thread setting (rapidocr version?)")
    return engine


CROP_MARGIN = (0.25, 0.4)  # white margin of a text piece's crop, top/bottom and left/right, as
# a share of its height: what the recogniser's own detector leaves around a line


def recognise(
    image: np.ndarray, boxes: list[tuple[int, int, int, int]], text_px: float
) -> list[list[OcrChar]]:
    """The characters the engine reads in each text piece of a greyscale page image (uint8,
    white paper); `boxes` are the pieces (top, bottom, x0, x1 px: `image.text_boxes`), one
    line each, so the engine's detector is not run; a piece lower than the page's text height
    `text_px` (a -, a 。) is read in a crop of that height, as it sits in its line, never
    enlarged to a bar. One list per piece (empty when nothing was
    read): its characters left to right (box in page px, probability); spaces are dropped
    (the forms never need them). Raises ReadError("image_only") when the engine is not
    installed."""
    if not boxes:
        return []
    engine = _engine()
    crops, quads = [], []
    for top, bottom, x0, x1 in boxes:
        h = bottom - top
        tall = max(h, int(text_px))
        margin, mx = int(CROP_MARGIN[0] * tall) + 1, int(CROP_MARGIN[1] * tall) + 1
        above = margin + (tall - h) // 2
        crop: np.ndarray = np.full((tall + 2 * margin, x1 - x0 + 2 * mx), 255, dtype=np.uint8)
        crop[above : above + h, mx : mx + x1 - x0] = image[top:bottom, x0:x1]
        crops.append(np.dstack([crop] * 3))
        y0, y1 = top - above, top - above + crop.shape[0]
        quads.append(np.array([[x0 - mx, y0], [x1 + mx, y0], [x1 + mx, y1], [x0 - mx, y1]], dtype=np.float32))
    with _lock:
        read, _ = engine.text_rec(crops, return_word_box=True)
        placed = engine.cal_rec_boxes(crops, quads, read)
    lines = []
    for _text, _score, char_boxes, chars, scores in placed:
        line = []
        for quad, text, score in zip(char_boxes, chars, scores, strict=False):
            if not text.strip():
                continue
            xs, ys = [p[0] for p in quad], [p[1] for p in quad]
            line.append(OcrChar(text, min(xs), max(xs), min(ys), max(ys), float(score)))
        lines.append(line)
    return _second_reading(engine, crops, lines)


# A number piece read without a decimal point is read again with its crop this much wider. The
# recogniser emits at most a character per step, 8 px of its 48 px high input (CTC): a narrow
# mark between wide ones (the . of 13.44 blurred into its 3) can get no step of its own and be
# dropped with full confidence, an amount a hundred times too large. A wider crop gives the mark
# steps (1.3 was not enough on the scan that showed it). Pieces read with a point are not read
# again: +12 % of OCR time, against +23 % for every number piece (README, "Scanned PDFs").
SECOND_READING_STRETCH = 1.5
POINTS = ".．"


def _second_reading(engine: Any, crops: list[np.ndarray], lines: list[list[OcrChar]]) -> list[list[OcrChar]]:
    """`lines` with every character of a number piece (one holding a digit and no decimal point)
    that a second reading of its crop, `SECOND_READING_STRETCH` times as wide, does not read alike
    at no confidence (the characters on both sides of one the second reading has more). Which
    reading is right is not known: the field is uncertain rather than either guess."""
    numbers = [
        i
        for i, line in enumerate(lines)
        if any(c.text.isdigit() for c in line) and not any(c.text in POINTS for c in line)
    ]
    if not numbers:
        return lines
    wide = [cv2.resize(crops[i], None, fx=SECOND_READING_STRETCH, fy=1.0) for i in numbers]
    with _lock:
        again, _ = engine.text_rec(wide)
    out = list(lines)
    for i, (text, _score) in zip(numbers, again, strict=True):
        first = [c.text for c in lines[i]]
        doubtful: set[int] = set()
        for op, i1, i2, _j1, _j2 in SequenceMatcher(None, first, list(text.replace(" ", ""))).get_opcodes():
            if op != "equal":
                doubtful.update(range(i1 - 1, i2 + 1) if i1 == i2 else range(i1, i2))
        out[i] = [
            dataclasses.replace(c, confidence=0.0) if k in doubtful else c for k, c in enumerate(lines[i])
        ]
    return out
