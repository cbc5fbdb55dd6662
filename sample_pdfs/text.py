"""Font registration, number formatting and character wrapping (shared by layout and drawing)."""

from __future__ import annotations

from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

# A built-in CID font: no font file is embedded, so the PDFs stay small, and every character of
# the sample records (CJK, full-width punctuation, ≥ ≤ “ ”) extracts back exactly with pdfplumber.
FONT = "STSong-Light"


def ensure_font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def text_width(text: str, size: float) -> float:
    return pdfmetrics.stringWidth(text, ensure_font(), size)


def format_number(value: float | None, *, decimals: bool = True, thousands: bool = False) -> str:
    """Print a number the way the forms do; None prints as an empty cell."""
    if value is None:
        return ""
    if decimals:
        return f"{value:,.2f}" if thousands else f"{value:.2f}"
    # Short variant (jd-04): no forced decimals, "5231", "2103.74", "10".
    text = f"{value:,.2f}" if thousands else f"{value:.2f}"
    return text.rstrip("0").rstrip(".")


def wrap(text: str, width: float, size: float) -> list[str]:
    """Wrap by characters: CJK text has no spaces, so any character may end a line.

    Paragraphs (split on "\\n") start on new lines. A line always holds at least one character,
    so a too-narrow cell still terminates.
    """
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for ch in paragraph:
            if line and text_width(line + ch, size) > width:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines
