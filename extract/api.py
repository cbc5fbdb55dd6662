"""The extraction entry points: one file in, records and errors out; nothing raised for bad input."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

from .record import ExtractError, FileResult, ReadError, Record
from .validate import has_readable_field, validate

PDF_SUFFIXES = {".pdf"}
TEXT_SUFFIXES = {".txt"}
OFFICE_SUFFIXES = {".xlsx", ".docx", ".xls", ".doc"}  # Excel and Word originals (extract/office)
REPORT_SUFFIXES = PDF_SUFFIXES | TEXT_SUFFIXES | OFFICE_SUFFIXES


def kind_of(path: str | Path) -> str:
    """The reader a file goes to, by its suffix: "text" (.txt), "xlsx", "docx", "xls", "doc", else
    "pdf" (a PDF with another name is still tried as one)."""
    suffix = Path(path).suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return "text"
    return suffix[1:] if suffix in OFFICE_SUFFIXES else "pdf"


def sha256_file(path: Path) -> str:
    """The file's SHA-256 as 64 hex digits, read in 1 MiB blocks: a file's identity in records and in
    the warehouse. Raises OSError when the file cannot be read."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def iter_report_files(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files named directly, and the report files (REPORT_SUFFIXES) under named directories, in a
    stable order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = (p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in REPORT_SUFFIXES)
            yield from sorted(found, key=lambda p: str(p.relative_to(path)))
        else:
            yield path


def extract_file(path: str | Path) -> FileResult:
    """Read every form in one report file. Bad input yields a FileResult with errors, never raises."""
    path = Path(path)
    kind = kind_of(path)
    result = FileResult(path=str(path), sha256=None, kind=kind)
    try:
        if not path.is_file():
            raise ReadError("not_found", "no such file")
        result.sha256 = sha256_file(path)
        if path.stat().st_size == 0:
            raise ReadError("empty_file", "file is empty (0 bytes)")
        records, form_errors = _read(path, result.sha256, kind)
    except ReadError as exc:
        result.errors.append(ExtractError(path.name, result.sha256, exc.error_class, exc.message, exc.pages))
        return result
    except Exception as exc:  # noqa: BLE001 - one bad file must never stop a load
        message = f"unexpected {type(exc).__name__}: {exc}"
        result.errors.append(ExtractError(path.name, result.sha256, "form_unreadable", message))
        return result
    for record in records:
        record.checks = validate(record)
    result.records = [r for r in records if has_readable_field(r)]
    result.errors = form_errors + [
        ExtractError(
            path.name,
            result.sha256,
            "form_unreadable",
            f"form {r.source.form_index}: no field could be read (no value beside any label)",
            r.source.pages,
        )
        for r in records
        if not has_readable_field(r)
    ]
    return result


def _read(path: Path, sha256: str, kind: str) -> tuple[list[Record], list[ExtractError]]:
    if kind == "text":
        from .text.reader import read_text_dump

        return read_text_dump(path.read_bytes(), path.name, sha256)
    if kind != "pdf":
        from .office import read_office

        return read_office(path, sha256)
    from .pdf.reader import read_pdf

    return read_pdf(path, sha256)
