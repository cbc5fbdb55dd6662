"""The geometry reader of PDF forms: page layout (glyphs, lines, rules) → columns and rows → the
form's blocks (head, 项目资金, 年度总体目标, 绩效指标, totals) → one Record per form.

Coordinates are pdfplumber's: points (pt, 1/72 in), origin at the page's top-left corner, x to the
right, y (`top`, `bottom`) downwards. Tolerances are named constants at the top of each module,
each with its unit — pt, em (a glyph's size, `Glyph.size`) or line heights — and why; those the
modules share are in `layout.py`. Entry point: `extract.pdf.reader.read_pdf`.
"""
