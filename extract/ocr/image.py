"""A scanned page as an image: rendered, straightened, and its table ruling found by morphology.

Pure functions on numpy arrays (OpenCV). Images are 8-bit greyscale, white paper = 255; positions
are pixels from the top-left corner until `ScanPage.to_pt` converts them to the page's points.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

OCR_DPI = 200  # a 9 pt glyph is 25 px high: enough for the recogniser, and ~1 s/page to detect
MAX_SKEW = 3.0  # degrees: a scan turned further than this is not straightened (and reads badly)
SKEW_STEP = 0.05  # degrees: the finest step of the skew search
SKEW_SKIP = 0.02  # degrees: a page turned less than this is left as it is (a rotation blurs)
RULE_MIN_PT = 10.0  # a dark run at least this long (pt) may be a rule (a 9 pt glyph's strokes are shorter)
LONG_RULE_PT = 80.0  # a run this long is a rule; shorter ones must end on rules (`table_rules`)
RULE_MAX_THICKNESS_PT = 3.0  # thicker dark bands (filled cells, pictures) are not rules
RULE_GAP_PT = 0.75  # breaks in a rule shorter than this (noise, JPEG) are closed; glyphs stay apart
INK_SPECK_PT = 1.2  # ink smaller than this (pt) is a speck of the scan, not a glyph (a 。 is ~3 pt)
INK_MARGIN_PT = 0.8  # a recognised character's box covers the ink this close to it
INK_SIDE_SHARE = 0.1  # ... and, along its line, this share of the line's height further
RULE_END_PT = 2.5  # a cell border ends this close to the rule it meets


@dataclass(frozen=True)
class ScanPage:
    """A page's image (greyscale, deskewed) and its size in points; `skew` is the angle (degrees,
    clockwise positive) the scan was turned back by."""

    image: np.ndarray
    width: float  # pt
    height: float  # pt
    skew: float = 0.0

    @property
    def px_per_pt(self) -> float:
        """Image pixels per point (the scan's resolution / 72)."""
        return float(self.image.shape[1]) / self.width

    def to_pt(self, px: float) -> float:
        """A length in image pixels as points."""
        return px / self.px_per_pt


def straighten(image: np.ndarray, width: float, height: float) -> ScanPage:
    """The page turned back by its skew (`skew_angle`), as a ScanPage of `width` × `height` pt."""
    angle = skew_angle(image)
    if abs(angle) >= SKEW_SKIP:
        image = rotate(image, -angle)
    return ScanPage(image, width, height, angle)


def binarise(image: np.ndarray) -> np.ndarray:
    """Ink as 255 on 0 (Otsu's threshold: scans vary in contrast and paper tone)."""
    _, ink = cv2.threshold(image, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
    return ink


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """The image turned `degrees` clockwise about its centre, same size, white where uncovered."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=255)


def skew_angle(image: np.ndarray) -> float:
    """How far (degrees, clockwise positive) the page's rows are turned, within ±MAX_SKEW: the
    angle at which the ink's row profile is sharpest (table rules and text lines line up), found
    on a reduced image, coarse then fine."""
    small = cv2.resize(binarise(image), None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)

    def sharpness(angle: float) -> float:
        profile: np.ndarray = rotate(255 - small, -angle).astype(np.float64)
        rows = (255 - profile).sum(axis=1)
        return float(np.square(np.diff(rows)).sum())

    best = max((float(a) for a in np.arange(-MAX_SKEW, MAX_SKEW + 1e-9, 0.5)), key=sharpness)
    for step in (0.1, SKEW_STEP):
        span = np.arange(best - 5 * step, best + 5 * step + 1e-9, step)
        best = max((float(a) for a in span), key=sharpness)
    return round(float(best), 3)


def rule_masks(ink: np.ndarray, px_per_pt: float) -> tuple[np.ndarray, np.ndarray]:
    """Candidate horizontal and vertical ruling of a binarised page: ink runs at least
    RULE_MIN_PT long (morphological opening with a line-shaped kernel), short breaks closed
    first. A stroke of a large title glyph can pass; `table_rules` keeps the table's."""
    length = max(int(RULE_MIN_PT * px_per_pt), 3)
    gap = max(int(RULE_GAP_PT * px_per_pt), 1)
    out = []
    for shape in ((length, 1), (1, length)):
        closing = (gap, 1) if shape[1] == 1 else (1, gap)
        closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, closing))
        out.append(cv2.morphologyEx(closed, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, shape)))
    return out[0], out[1]


Segment = tuple[float, float, float]  # pos, start, end (px): y, x0, x1 of a horizontal rule


def _runs(
    mask: np.ndarray, horizontal: bool, px_per_pt: float
) -> tuple[np.ndarray, list[tuple[int, Segment]]]:
    """The connected runs of a mask (labels image, and per run its label and centre line),
    without runs thicker than RULE_MAX_THICKNESS_PT (filled cells, pictures)."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    runs = []
    for k in range(1, n):
        x, y, w, h = (int(v) for v in stats[k][:4])
        along, across = (w, h) if horizontal else (h, w)
        if across > RULE_MAX_THICKNESS_PT * px_per_pt + 2 or along < across * 4:
            continue
        runs.append(
            (k, (y + h / 2, float(x), float(x + w)) if horizontal else (x + w / 2, float(y), float(y + h)))
        )
    return labels, runs


def _ends_on(seg: Segment, across: list[Segment], tol: float) -> bool:
    """Whether both ends of a segment lie on rules across it (within tol px): a cell border
    runs from one rule of the grid to another."""
    pos, start, end = seg
    return all(
        any(o[1] - tol <= pos <= o[2] + tol and abs(o[0] - e) <= tol for o in across) for e in (start, end)
    )


def table_rules(
    h_mask: np.ndarray, v_mask: np.ndarray, px_per_pt: float
) -> tuple[list[Segment], list[Segment], list[np.ndarray]]:
    """The table's ruling: horizontal and vertical segments (pos, start, end, px) and their
    masks. A run LONG_RULE_PT long is a rule; a shorter one only where both its ends lie on
    rules across it (a cell's border; the strokes of a line of text, which can chain into a
    run when a scan blurs them, keep clear of the grid by the cell's padding)."""
    tol = RULE_END_PT * px_per_pt
    long = LONG_RULE_PT * px_per_pt
    (h_labels, h_runs), (v_labels, v_runs) = (_runs(h_mask, True, px_per_pt), _runs(v_mask, False, px_per_pt))
    h_keep = [(k, s) for k, s in h_runs if s[2] - s[1] >= long]
    v_keep = [(k, s) for k, s in v_runs if s[2] - s[1] >= long]
    for _ in range(2):  # short borders confirm each other: a short row's cells, a narrow column's rows
        v_keep = [
            (k, s) for k, s in v_runs if s[2] - s[1] >= long or _ends_on(s, [o for _, o in h_keep], tol)
        ]
        h_keep = [
            (k, s) for k, s in h_runs if s[2] - s[1] >= long or _ends_on(s, [o for _, o in v_keep], tol)
        ]
    masks = [
        np.isin(labels, [k for k, _ in keep]).astype(np.uint8) * 255
        for labels, keep in ((h_labels, h_keep), (v_labels, v_keep))
    ]
    return [s for _, s in h_keep], [s for _, s in v_keep], masks


def erase(image: np.ndarray, masks: list[np.ndarray], px_per_pt: float) -> np.ndarray:
    """The image with the masked ink (the ruling) painted white, a little widened, so that the
    recogniser sees a cell's text alone and never a rule as a stroke (一, 丨, 1)."""
    grow = max(int(0.6 * px_per_pt), 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (2 * grow + 1, 2 * grow + 1))
    out = image.copy()
    for mask in masks:
        out[cv2.dilate(mask, kernel) > 0] = 255
    return out


def unread_ink(
    image: np.ndarray, read: list[tuple[float, float, float, float]], px_per_pt: float
) -> list[tuple[float, float, float, float]]:
    """Boxes (x0, x1, top, bottom, px) of ink on a page without its ruling that no recognised
    character covers: text the recogniser missed (a dropped line fragment, a lone 。 or -).
    `read` holds the recognised characters' boxes (px). Specks under INK_SPECK_PT are noise."""
    ink = binarise(image)
    covered = np.zeros_like(ink)
    grow = INK_MARGIN_PT * px_per_pt
    for x0, x1, top, bottom in read:
        # The recogniser places a character only roughly along its line: its box reaches a
        # share of the line's height further on both sides.
        side = grow + INK_SIDE_SHARE * (bottom - top)
        rows = slice(max(int(top - grow), 0), int(bottom + grow) + 1)
        covered[rows, max(int(x0 - side), 0) : int(x1 + side) + 1] = 1
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    speck = INK_SPECK_PT * px_per_pt
    out = []
    for k in range(1, n):
        x, y, w, h, area = (int(v) for v in stats[k])
        if max(w, h) < speck:
            continue
        if covered[y : y + h, x : x + w][labels[y : y + h, x : x + w] == k].mean() < 0.5:
            out.append((float(x), float(x + w), float(y), float(y + h)))
    return out


TEXT_GAP_EM = 0.6  # a blank this wide (share of the text height) parts a line into pieces: a
# line's own gaps (glyph spacing, beside a full-width ：) are narrower, two unruled cells' wider
LINE_MIN_EM = 0.35  # an ink band lower than this (share of the text height) is part of a line (二)
LINE_MAX_EM = 1.3  # ... when it and the band beside it span no more than this: one glyph's height
Box = tuple[int, int, int, int]  # top, bottom, x0, x1 (px; bottom and x1 exclusive)


def text_height(ink: np.ndarray, px_per_pt: float) -> float:
    """The page's text height (px): the upper quartile of its ink blobs' heights (most glyphs
    are one or two blobs about as high as the glyph), specks and rules aside."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    heights = heights[(heights >= INK_SPECK_PT * px_per_pt) & (heights <= 30 * px_per_pt)]
    return float(np.percentile(heights, 75)) if len(heights) else 9.0 * px_per_pt


def _bands(filled: np.ndarray, min_gap: float) -> list[tuple[int, int]]:
    """Runs [start, end) of True in a 1-D profile, runs closer than min_gap (px) joined."""
    edges = np.flatnonzero(np.diff(np.concatenate(([0], filled.astype(np.int8), [0]))))
    runs = [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    out: list[tuple[int, int]] = []
    for a, b in runs:
        if out and a - out[-1][1] < min_gap:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


def _lines(filled: np.ndarray, em: float) -> list[tuple[int, int]]:
    """Row bands of ink; a band lower than LINE_MIN_EM (a stroke of 二 or =) is joined to its
    nearer neighbour where the two fit in one glyph's height (LINE_MAX_EM): a 。 wrapped onto a
    line of its own is as low, but a line apart."""
    bands = _bands(filled, 1)
    i = len(bands) - 1
    while i >= 0 and len(bands) > 1:
        top, bottom = bands[i]
        if bottom - top < LINE_MIN_EM * em:
            fits = [
                j
                for j in (i - 1, i + 1)
                if 0 <= j < len(bands)
                and max(bottom, bands[j][1]) - min(top, bands[j][0]) <= LINE_MAX_EM * em
            ]
            if fits:
                j = min(fits, key=lambda j: top - bands[j][1] if j < i else bands[j][0] - bottom)
                a, b = min(i, j), max(i, j)
                bands[a : b + 1] = [(bands[a][0], bands[b][1])]
        i -= 1
    return bands


def text_boxes(ink: np.ndarray, v_mask: np.ndarray, em: float) -> list[Box]:
    """Boxes of the text pieces of a binarised page without its ruling (ink 255): cut into lines
    at blank rows and into pieces at vertical rules (`v_mask`, the table's) and at blanks wider
    than TEXT_GAP_EM, in turn, until nothing cuts (a recursive XY cut). The recogniser reads
    each piece: a cell's line never reaches into its neighbour, and empty cells cost nothing.
    `em` is the page's text height (px, `text_height`)."""
    filled = ink > 0
    rule = v_mask > 0
    out: list[Box] = []
    stack = [(0, ink.shape[0], 0, ink.shape[1])]
    while stack:
        top, bottom, x0, x1 = stack.pop()
        region = filled[top:bottom, x0:x1]
        rows, cols = np.flatnonzero(region.any(axis=1)), np.flatnonzero(region.any(axis=0))
        if not len(rows):
            continue
        top, bottom = top + int(rows[0]), top + int(rows[-1]) + 1
        x0, x1 = x0 + int(cols[0]), x0 + int(cols[-1]) + 1
        region = filled[top:bottom, x0:x1]
        lines = _lines(region.any(axis=1), em)
        if len(lines) > 1:
            stack.extend((top + a, top + b, x0, x1) for a, b in lines)
            continue
        crossing = rule[top:bottom, x0:x1].sum(axis=0) >= min(0.5 * (bottom - top), em)
        pieces = _join_close(_bands(region.any(axis=0) & ~crossing, 1), crossing, TEXT_GAP_EM * em)
        if len(pieces) > 1:
            stack.extend((top, bottom, x0 + a, x0 + b) for a, b in pieces)
            continue
        out.append((int(top), int(bottom), int(x0), int(x1)))
    return sorted(out)


def _join_close(pieces: list[tuple[int, int]], crossing: np.ndarray, gap: float) -> list[tuple[int, int]]:
    """Column runs of ink joined across blanks narrower than gap (px) that no rule crosses."""
    out: list[tuple[int, int]] = []
    for a, b in pieces:
        if out and a - out[-1][1] < gap and not crossing[out[-1][1] : a].any():
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


BRACKET_MAX_WIDTH_EM = 0.45  # a bracket's ink is a thin stroke ...
BRACKET_MIN_HEIGHT_EM = 0.6  # ... about as high as the line
BRACKET_REACH_EM = 0.5  # the stroke lies this close to where the recogniser put the bracket
SIDE_REACH_EM = 1.5  # the text beside a bracket is looked for this far beyond its piece


def side_gaps(
    ink: np.ndarray, v_mask: np.ndarray, box: Box, x: float, em: float
) -> tuple[float | None, float | None]:
    """The blanks (em) before and after the bracket-like stroke (one thin, line-high blob) of a
    text piece's ink nearest to x (px), up to SIDE_REACH_EM beyond the piece: how the glyph
    sits in its advance. None for a side where no ink follows within reach or a rule (v_mask)
    comes first (a cell's edge), and for both when no such stroke is there."""
    top, bottom, x0, x1 = box
    a, b = max(int(x0 - SIDE_REACH_EM * em), 0), min(int(x1 + SIDE_REACH_EM * em), ink.shape[1])
    region = (ink[top:bottom, a:b] > 0).astype(np.uint8)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(region, connectivity=8)
    strokes = [
        k
        for k in range(1, n)
        if stats[k, cv2.CC_STAT_WIDTH] <= BRACKET_MAX_WIDTH_EM * em
        and stats[k, cv2.CC_STAT_HEIGHT] >= BRACKET_MIN_HEIGHT_EM * em
        and abs(a + stats[k, cv2.CC_STAT_LEFT] + stats[k, cv2.CC_STAT_WIDTH] / 2 - x) <= BRACKET_REACH_EM * em
    ]
    if not strokes:
        return None, None
    k = min(strokes, key=lambda k: abs(a + stats[k, cv2.CC_STAT_LEFT] + stats[k, cv2.CC_STAT_WIDTH] / 2 - x))
    left, right = (
        int(stats[k, cv2.CC_STAT_LEFT]),
        int(stats[k, cv2.CC_STAT_LEFT] + stats[k, cv2.CC_STAT_WIDTH]),
    )
    others = ((labels > 0) & (labels != k)).any(axis=0)
    rules = (v_mask[top:bottom, a:b] > 0).any(axis=0)
    stops = np.flatnonzero(others | rules)
    before_at, after_at = stops[stops < left], stops[stops >= right]
    before = (
        None if not len(before_at) or rules[before_at[-1]] else max(left - 1 - int(before_at[-1]), 0) / em
    )
    after = None if not len(after_at) or rules[after_at[0]] else max(int(after_at[0]) - right, 0) / em
    return before, after
