"""Render sample 财政项目支出绩效自评表 PDFs from canonical records, in several producer styles."""

from .draw import render_pdf
from .style import STYLES, Style

__all__ = ["STYLES", "Style", "render_pdf", "write_bad_inputs"]


def write_bad_inputs(dirpath):  # imported lazily: it renders a good form too
    from .bad_inputs import write_bad_inputs as _write

    return _write(dirpath)
