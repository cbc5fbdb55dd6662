"""`python -m extract PATH... [--json]`: read report files and print records or a summary per file."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .api import REPORT_SUFFIXES, extract_file, iter_report_files
from .record import FileResult
from .wording import counted


def summary_line(result: FileResult) -> str:
    """One line per file for the terminal: forms read, checks failed, uncertain fields and errors."""
    failed = sum(len(r.failed_checks) for r in result.records)
    uncertain = sum(len(r.uncertain_fields) for r in result.records)
    return (
        f"{result.path}: {counted(len(result.records), 'form')}, {counted(failed, 'check')} failed, "
        f"{counted(uncertain, 'uncertain field')}, {counted(len(result.errors), 'error')}"
    )


def error_lines(result: FileResult) -> list[str]:
    """One "error: PATH: CLASS: MESSAGE (pages …)" line per ExtractError of the file."""
    return [
        f"error: {result.path}: {e.error_class}: {e.message}" + (f" (pages {e.pages})" if e.pages else "")
        for e in result.errors
    ]


def main(argv: list[str] | None = None) -> int:
    """Run the command line (`argv`: the arguments after the program name, default sys.argv[1:]).

    Returns the exit status: 1 when any file had an error, else 0."""
    parser = argparse.ArgumentParser(
        prog="python -m extract",
        description="Extract 财政项目支出绩效自评表 forms from PDF reports (printed or scanned), text dumps "
        "and Excel/Word originals.",
    )
    parser.add_argument(
        "paths",
        nargs="+",
        help="report files, or directories to walk for " + ", ".join(sorted(REPORT_SUFFIXES)),
    )
    parser.add_argument("--json", action="store_true", help="print all records as one JSON list")
    args = parser.parse_args(argv)

    records: list[dict[str, Any]] = []
    failed = False
    for path in iter_report_files(args.paths):
        result = extract_file(path)
        for line in error_lines(result):
            print(line, file=sys.stderr, flush=True)
        failed = failed or bool(result.errors)
        if args.json:
            records.extend(r.to_dict() for r in result.records)
        else:
            print(summary_line(result), flush=True)
    if args.json:
        json.dump(records, sys.stdout, ensure_ascii=False, indent=1)
        sys.stdout.write("\n")
    return 1 if failed else 0
