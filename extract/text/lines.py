"""Text dumps as typed lines: decoding, page breaks, blank-line chunks and printed widths.

A dump may come in any encoding its producer saved it in: UTF-8 (with or without a BOM) is read
directly; anything else (GBK/GB18030, UTF-16 with or without a BOM, Big5) is detected by
charset-normalizer among `ENCODINGS`, and kept only if it reads as a form dump. Line ends may be
LF, CRLF or CR.

A dump writes each text box of a page as lines, boxes separated by a blank line; a page break is
three blank lines (a form feed also counts as one). Only non-blank lines are kept, each with its
1-based page and the number of the blank-line-separated chunk it belongs to.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from charset_normalizer import from_bytes

from ..record import ReadError
from ..vocabulary import DUMP_PAGE_NUMBER, PROJECT_NAME, has_title

PAGE_BREAK_BLANKS = 3  # blank lines that make one page break
# Encodings a dump of a Chinese form may be saved in, besides UTF-8 (gb18030 covers GBK and GB2312).
ENCODINGS = ("utf_8", "gb18030", "utf_16", "utf_16_le", "utf_16_be", "big5")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")


@dataclass(frozen=True)
class Line:
    """One non-blank line of a dump: its 1-based number in the file, its text (stripped), its
    1-based page and its chunk (lines of one text box share a chunk)."""

    no: int  # 1-based line number in the file
    text: str  # stripped of surrounding whitespace, never empty
    page: int  # 1-based page within the file
    chunk: int  # lines with the same chunk number have no blank line between them

    @property
    def tokens(self) -> list[str]:
        """The line's whitespace-separated tokens: a dump separates the cells of a row by spaces."""
        return self.text.split()

    @property
    def clean(self) -> str:
        """The line's text with all whitespace dropped."""
        return re.sub(r"\s+", "", self.text)

    @property
    def width(self) -> float:
        """The line's printed width in em (text_width)."""
        return text_width(self.text)


def decode_dump(data: bytes) -> str:
    """A dump's bytes as text with "\n" line ends.

    Raises ReadError("unreadable_text") for bytes that no encoding of `ENCODINGS` reads as a form
    dump, or that decode to control or replacement characters (binary data).
    """
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    bad = len(_CONTROL.findall(text))
    if bad:
        raise ReadError("unreadable_text", f"{bad} control or replacement characters: not a text dump")
    return text


def _decode(data: bytes) -> str:
    """UTF-8 (a BOM allowed) as it is; other bytes in the encoding detected for them, provided the
    text holds a form's words (binary data decodes in some encoding too)."""
    try:
        text = data.decode("utf-8-sig")
        if "\x00" not in text:  # UTF-16 text of ASCII digits can be valid UTF-8, with NULs
            return text
    except UnicodeDecodeError:
        pass
    for match in from_bytes(data, cp_isolation=list(ENCODINGS)):
        text = str(match)
        if has_title(text) or PROJECT_NAME in text:
            return text
    raise ReadError(
        "unreadable_text", f"no encoding ({', '.join(ENCODINGS)}) reads these bytes as a form dump"
    )


def split_lines(text: str) -> list[Line]:
    """Non-blank lines with page and chunk numbers (a run of n blank lines is n // 3 page breaks)."""
    out: list[Line] = []
    page, chunk, blanks, feeds = 1, 0, 0, 0
    for no, raw in enumerate(text.split("\n"), start=1):
        for n, segment in enumerate(raw.split("\f")):
            feeds += n > 0
            stripped = segment.strip()
            if DUMP_PAGE_NUMBER.match(stripped):
                continue  # page furniture, not part of any box
            if not stripped:
                blanks += n == 0
                continue
            if out:
                chunk += bool(blanks or feeds)
                page += feeds + blanks // PAGE_BREAK_BLANKS
            out.append(Line(no, stripped, page, chunk))
            blanks, feeds = 0, 0
    return out


def char_width(ch: str) -> float:
    """Printed width in em: ideographs, full-width and East-Asian-ambiguous signs (“ ≥) 1, others 1/2."""
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F", "A") else 0.5


def text_width(text: str) -> float:
    """Printed width of a line in em; a run of spaces or tabs counts as one space."""
    return sum(char_width(ch) for ch in _squeeze(text))


def ascii_count(text: str) -> int:
    """Half-width characters: their printed widths vary by font, so widths with many are less sure."""
    return sum(1 for ch in _squeeze(text) if char_width(ch) < 1.0)


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip())
