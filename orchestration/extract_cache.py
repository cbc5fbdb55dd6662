"""Per-file extraction with a cache keyed by content hash and extractor version.

A file whose bytes were extracted before by the same extractor code is not read again: its
FileResult comes back from `<cache>/<extractor version>/<sha256>-<kind>.json`. The version is a
hash of the `extract` package's source and the PDF library's version, so changing the extractor
invalidates every entry without anyone remembering to bump a number.

Each uncached file is read in a process of its own under a time and a memory bound
(`orchestration.bounded`: EXTRACT_TIMEOUT_S, EXTRACT_MEMORY_MB); a file over a bound, or whose
process dies, becomes an error of that file and the other files carry on.

No Dagster import here: worker processes import this module and should start fast.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path

from extract import extract_file, iter_report_files, sha256_file
from extract.record import Check, ExtractError, FileResult, FundingLine, Indicator, Record, Source

from .bounded import Limits, Outcome, describe_exit, limits_from_env, run_bounded

CACHE_FORMAT = 1
# Errors that say something about the moment or about the limits in force (EXTRACT_TIMEOUT_S,
# EXTRACT_MEMORY_MB, EXTRACT_MAX_PAGES), not about the bytes alone: never cached.
TRANSIENT_ERRORS = {"not_found", "timeout", "too_large"}


@dataclass(frozen=True)
class ReportFile:
    """A report file found in DATA_RAW_DIR; `name` is its path relative to that folder."""

    name: str
    path: str
    sha256: str
    size: int

    @property
    def kind(self) -> str:
        return "text" if self.name.lower().endswith(".txt") else "pdf"


def scan_report_files(root: Path) -> list[ReportFile]:
    """The .pdf/.txt files under `root` (recursively), in a stable order, with sha256 and size."""
    files = []
    for path in iter_report_files([root]):
        name = path.relative_to(root).as_posix()
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            continue  # vanished between listing and reading; the next load sees the folder as it is
        try:
            digest = sha256_file(path)
        except OSError:
            digest = ""  # unreadable: extraction records the error, the cache is bypassed
        files.append(ReportFile(name, str(path), digest, size))
    return files


@dataclass
class ExtractStats:
    files: int = 0
    cache_hits: int = 0
    extracted: list[str] = field(default_factory=list)  # names read this time


@cache
def extractor_version() -> str:
    """12 hex of a hash over the extract package's .py files and the PDF library version."""
    import extract

    digest = hashlib.sha256(f"format={CACHE_FORMAT}".encode())
    package_dir = Path(extract.__file__).parent
    for source in sorted(package_dir.rglob("*.py")):
        digest.update(source.relative_to(package_dir).as_posix().encode())
        digest.update(source.read_bytes())
    for dist in ("pdfplumber", "pdfminer.six"):
        try:
            digest.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            pass
    return digest.hexdigest()[:12]


def file_result_to_dict(result: FileResult) -> dict:
    return dataclasses.asdict(result)


def file_result_from_dict(data: dict) -> FileResult:
    records = []
    for r in data.get("records", []):
        records.append(
            Record(
                **{
                    **r,
                    "funding": [FundingLine(**f) for f in r["funding"]],
                    "indicators": [Indicator(**i) for i in r["indicators"]],
                    "source": Source(**r["source"]),
                    "checks": [Check(**c) for c in r.get("checks", [])],
                }
            )
        )
    errors = [ExtractError(**e) for e in data.get("errors", [])]
    return FileResult(data["path"], data["sha256"], data["kind"], records, errors)


def renamed(result: FileResult, name: str) -> FileResult:
    """The result as if read from `name`: cached content may have been read under another name."""
    base = Path(name).name
    result.path = name
    for record in result.records:
        record.source.file = base
    for error in result.errors:
        error.file = base
    return result


def cache_path(cache_dir: Path, sha256: str, kind: str) -> Path:
    return cache_dir / extractor_version() / f"{sha256}-{kind}.json"


def load_cached(cache_dir: Path, file: ReportFile) -> FileResult | None:
    if not file.sha256:
        return None
    path = cache_path(cache_dir, file.sha256, file.kind)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        result = file_result_from_dict(data["result"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # missing or unreadable entry: extract again
    if result.sha256 != file.sha256:
        return None
    return renamed(result, file.name)


def store(cache_dir: Path, result: FileResult) -> None:
    if not result.sha256 or any(e.error_class in TRANSIENT_ERRORS for e in result.errors):
        return
    path = cache_path(cache_dir, result.sha256, result.kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": CACHE_FORMAT, "extractor_version": extractor_version()}
    payload["result"] = file_result_to_dict(result)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(payload, fh, ensure_ascii=False, sort_keys=True)
    os.replace(tmp, path)


def prune(cache_dir: Path) -> int:
    """Drop the entries of other extractor versions (they can never be hit again)."""
    removed = 0
    if not cache_dir.is_dir():
        return 0
    current = cache_dir / extractor_version()
    for child in cache_dir.iterdir():
        if child.is_dir() and child != current:
            shutil.rmtree(child, ignore_errors=True)
            removed += 1
    return removed


def extract_one(path: str) -> FileResult:
    """Worker entry point (module-level so a forked process can find it by name).

    `extract_file` turns every exception into an error of the file, a MemoryError included; one
    raised under the memory limit is reported as `too_large`, not as an unexplained failure.
    """
    result = extract_file(path)
    for error in result.errors:
        if error.error_class == "form_unreadable" and error.message.startswith("unexpected MemoryError"):
            error.error_class = "too_large"
            error.message = "ran out of memory while reading the file (EXTRACT_MEMORY_MB)"
    return result


def _outcome_result(file: ReportFile, outcome: Outcome, limits: Limits) -> tuple[FileResult, bool]:
    """The FileResult of one bounded extraction, and whether it may be cached."""
    if outcome.kind == "ok":
        return outcome.value, True
    exitcode = outcome.value if outcome.kind == "died" else None
    if outcome.kind == "timeout" or exitcode == -signal.SIGXCPU:
        error_class = "timeout"
        message = f"extraction stopped after {limits.timeout_s:g} s (EXTRACT_TIMEOUT_S)"
    elif outcome.kind == "memory" or (outcome.kind == "died" and outcome.near_memory_limit(limits)):
        error_class = "too_large"
        message = f"extraction needed more than {limits.memory_mb} MB of memory (EXTRACT_MEMORY_MB)"
    elif outcome.kind == "error":
        error_class = "form_unreadable"
        message = f"extraction process failed: {outcome.value}"
    else:
        error_class = "form_unreadable"
        message = f"extraction process died ({describe_exit(exitcode)})"
    error = ExtractError(Path(file.name).name, file.sha256 or None, error_class, message)
    return FileResult(file.path, file.sha256 or None, file.kind, errors=[error]), False


def extract_files(
    files: list[ReportFile],
    cache_dir: Path,
    max_workers: int = 2,
    progress: Callable[[ReportFile, FileResult, bool], None] | None = None,
    limits: Limits | None = None,
) -> tuple[list[FileResult], ExtractStats]:
    """A FileResult per file (in the order given), reading only files not in the cache.

    Uncached files are extracted one process per file, up to `max_workers` at a time, each under
    `limits` (default: from the environment). `progress(file, result, cached)` is called once per
    file as its result becomes available.
    """
    limits = limits or limits_from_env()
    stats = ExtractStats(files=len(files))
    results: dict[str, FileResult] = {}
    todo: list[ReportFile] = []
    for file in files:
        hit = load_cached(cache_dir, file)
        if hit is None:
            todo.append(file)
            continue
        stats.cache_hits += 1
        results[file.name] = hit
        if progress:
            progress(file, hit, True)

    for index, outcome in run_bounded(extract_one, [file.path for file in todo], limits, max_workers):
        file = todo[index]
        result, cacheable = _outcome_result(file, outcome, limits)
        result = renamed(result, file.name)
        if cacheable:
            store(cache_dir, result)
        results[file.name] = result
        stats.extracted.append(file.name)
        if progress:
            progress(file, result, False)
    return [results[file.name] for file in files], stats
