"""Office originals (.xlsx, .docx; .xls and .doc through LibreOffice) → records, one per form.

A workbook gives the forms of each visible sheet, a document those of its tables; each record's
source names where it was read: the sheet and its cell range (Sheet1!A1:I32) or the tables. The
old binary formats are first converted by LibreOffice headless, in a temporary folder of its own
with a private profile (so that parallel conversions do not collide) and a time limit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..record import ExtractError, ReadError, Record, Source
from .form import FormGrid, form_rows, read_form, split_forms
from .grid import Grid, document_grid, workbook_grids

# Suffix → (the format read, the suffix LibreOffice converts it to, or None when read directly).
OFFICE_FORMATS = {
    ".xlsx": ("xlsx", None),
    ".docx": ("docx", None),
    ".xls": ("xlsx", "xlsx"),
    ".doc": ("docx", "docx"),
}
CONVERT_TIMEOUT_S = 120.0  # LibreOffice needs 2–5 s for a form; a hung conversion is ended
SOFFICE_NAMES = ("soffice", "libreoffice")
INSTALL_HINT = {
    ".xls": "libreoffice-calc (Debian/Ubuntu: apt-get install libreoffice-calc-nogui)",
    ".doc": "libreoffice-writer (Debian/Ubuntu: apt-get install libreoffice-writer-nogui)",
}


def soffice() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    return next((found for name in SOFFICE_NAMES if (found := shutil.which(name))), None)


def read_office(path: Path, sha256: str) -> tuple[list[Record], list[ExtractError]]:
    """Every form of an office original, and an error per form that could not be read.

    Raises ReadError: `converter_missing` (an .xls/.doc and no LibreOffice), `conversion_failed`,
    `corrupt_office` (the file does not open), `no_form` (no 项目名称 row anywhere).
    """
    fmt, convert_to = OFFICE_FORMATS[path.suffix.lower()]
    if convert_to is None:
        return _read(path, path.name, sha256, fmt)
    with tempfile.TemporaryDirectory(prefix="office-") as tmp:
        converted = convert(path, convert_to, Path(tmp))
        return _read(converted, path.name, sha256, fmt)


def convert(path: Path, to: str, outdir: Path, timeout: float = CONVERT_TIMEOUT_S) -> Path:
    """`path` converted by LibreOffice headless to format `to` ("xlsx", "docx") in `outdir`.

    Raises ReadError `converter_missing` (no soffice on PATH, naming what to install) or
    `conversion_failed` (non-zero exit, no output, or over `timeout` seconds: then LibreOffice and
    all it started are ended).
    """
    exe = soffice()
    if exe is None:
        hint = INSTALL_HINT.get(path.suffix.lower(), "LibreOffice")
        raise ReadError(
            "converter_missing",
            f"a {path.suffix.lower()} file is read after conversion by LibreOffice, which is not "
            f"installed (no soffice on PATH): install {hint}, or save the file as .{to}",
        )
    source = outdir / f"source{path.suffix.lower()}"  # a plain name: LibreOffice names its output after it
    shutil.copyfile(path, source)
    try:
        run_libreoffice(exe, source, to, outdir, timeout)
    except subprocess.TimeoutExpired:
        raise ReadError(
            "conversion_failed", f"LibreOffice did not convert the file within {timeout:.0f} s"
        ) from None
    except subprocess.CalledProcessError as exc:
        why = (exc.stderr or b"").decode("utf-8", "replace").strip()[-300:] or f"exit status {exc.returncode}"
        raise ReadError(
            "conversion_failed", f"LibreOffice could not convert the file to .{to}: {why}"
        ) from None
    out = outdir / f"source.{to}"
    if not out.is_file():
        raise ReadError("conversion_failed", f"LibreOffice wrote no .{to} file")
    return out


def run_libreoffice(exe: str, source: Path, to: str, outdir: Path, timeout: float) -> None:
    """Convert `source` with LibreOffice headless (`exe`) to `to` (a format or format:filter, e.g.
    "xlsx", "pdf:writer_web_pdf_Export") into `outdir`, with a private profile in outdir/profile so
    that parallel or leftover instances do not collide.

    Raises subprocess.TimeoutExpired over `timeout` seconds (LibreOffice and every process it
    started are killed first: it runs in a session of its own) and subprocess.CalledProcessError
    (with its stderr) on a non-zero exit.
    """
    command = [
        exe,
        f"-env:UserInstallation={(outdir / 'profile').as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        to,
        "--outdir",
        str(outdir),
        str(source),
    ]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
    ) as proc:
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            raise
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, command, stderr=err)


def _read(path: Path, file: str, sha256: str, fmt: str) -> tuple[list[Record], list[ExtractError]]:
    grids = workbook_grids(path) if fmt == "xlsx" else [document_grid(path)]
    records: list[Record] = []
    errors: list[ExtractError] = []
    for grid in grids:
        for form in split_forms(grid):
            source = Source(file=file, sha256=sha256, form_index=len(records) + len(errors) + 1)
            _locate(source, grid, form)
            if grid.hidden:  # not published (often a stale copy): said, not read
                message = f"form at {source.sheet}!{source.cell_range} is on a hidden sheet: not read"
                errors.append(ExtractError(file, sha256, "hidden_sheet", message))
                continue
            try:
                records.append(read_form(form, source))
            except ReadError as exc:
                where = f"{source.sheet}!{source.cell_range}" if source.sheet else f"tables {source.tables}"
                errors.append(ExtractError(file, sha256, exc.error_class, f"form at {where}: {exc.message}"))
    if not records and not errors:
        where = "sheet" if fmt == "xlsx" else "table of the document"
        raise ReadError("no_form", f"no 项目名称 row in any {where}: no 绩效自评表 form found")
    return records, errors


def _locate(source: Source, grid: Grid, form: FormGrid) -> None:
    """The form's place: the sheet and its cells' range (workbooks) or its tables (documents)."""
    from openpyxl.utils import get_column_letter

    box = form_rows(form)
    if grid.sheet is not None:
        source.sheet = grid.sheet
        if box:
            r0, c0, r1, c1 = box
            source.cell_range = f"{get_column_letter(c0 + 1)}{r0 + 1}:{get_column_letter(c1 + 1)}{r1 + 1}"
        return
    source.tables = sorted(
        {c.table for r in range(form.start, form.end) for c in grid.rows[r] if c.table is not None}
    )
