"""Per-file extraction of the report files into canonical records, cached by content hash."""

import dagster as dg
from dagster import AssetExecutionContext

from extract.record import FileResult

from .. import settings
from ..extract_cache import ReportFile, extract_files, extractor_version, prune

PREVIEW_ROWS = 50
MAX_WORKERS = 2


@dg.asset(
    group_name="ingest",
    kinds={"python"},
    description=(
        "Every report file read into canonical records (one per form) or errors, by extract.extract_file. "
        "Results are cached per file content (sha256) and extractor version beside the warehouse, so a "
        "load over unchanged files reads nothing again; uncached files are read in parallel processes."
    ),
)
def extracted_reports(context: AssetExecutionContext, report_files: list[ReportFile]) -> list[FileResult]:
    cache_dir = settings.extract_cache_dir()
    total = len(report_files)
    done = 0

    def progress(file: ReportFile, result: FileResult, cached: bool) -> None:
        nonlocal done
        done += 1
        context.log.info(f"[{done}/{total}] {file.name}: {_describe(result)}{' (cached)' if cached else ''}")

    results, stats = extract_files(report_files, cache_dir, max_workers=MAX_WORKERS, progress=progress)
    prune(cache_dir)
    forms = sum(len(r.records) for r in results)
    context.add_output_metadata(
        {
            "files": stats.files,
            "files_read": len(stats.extracted),
            "cache_hits": stats.cache_hits,
            "files_with_errors": sum(1 for r in results if r.errors or not r.records),
            "forms": forms,
            "indicators": sum(len(rec.indicators) for r in results for rec in r.records),
            "forms_with_failed_checks": sum(1 for r in results for rec in r.records if rec.failed_checks),
            "extractor_version": extractor_version(),
            "cache_dir": dg.MetadataValue.path(str(cache_dir)),
            "preview": dg.MetadataValue.md(_preview(report_files, results, set(stats.extracted))),
        }
    )
    return results


def _describe(result: FileResult) -> str:
    parts = []
    if result.records:
        indicators = sum(len(r.indicators) for r in result.records)
        parts.append(f"{len(result.records)} form(s), {indicators} indicators")
        failed = sum(1 for r in result.records if r.failed_checks)
        if failed:
            parts.append(f"{failed} with failed checks")
    for error in result.errors:
        parts.append(f"ERROR {error.error_class}: {error.message}")
    return "; ".join(parts) or "no form found"


def _preview(files: list[ReportFile], results: list[FileResult], read: set[str]) -> str:
    lines = ["| file | forms | errors | read |", "|---|---:|---|---|"]
    for file, result in list(zip(files, results, strict=True))[:PREVIEW_ROWS]:
        errors = ", ".join(sorted({e.error_class for e in result.errors}))
        how = "read" if file.name in read else "cache"
        lines.append(f"| {file.name} | {len(result.records)} | {errors} | {how} |")
    if len(files) > PREVIEW_ROWS:
        lines.append(f"| … {len(files) - PREVIEW_ROWS} more | | | |")
    return "\n".join(lines)
