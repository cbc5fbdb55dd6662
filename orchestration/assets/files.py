"""The report files in DATA_RAW_DIR: the root of the lineage."""

import dagster as dg
from dagster import AssetExecutionContext

from .. import settings
from ..extract_cache import ReportFile, scan_report_files

PREVIEW_ROWS = 50


@dg.asset(
    group_name="ingest",
    kinds={"python", "file"},
    description=(
        "Report files (.pdf forms or .txt text dumps) found under DATA_RAW_DIR, recursively, with the "
        "sha256 and size of each. Names are paths relative to DATA_RAW_DIR."
    ),
)
def report_files(context: AssetExecutionContext) -> list[ReportFile]:
    root = settings.data_raw_dir()
    if not root.is_dir():
        raise dg.Failure(f"DATA_RAW_DIR {root} is not a folder", allow_retries=False)
    files = scan_report_files(root)
    context.log.info(f"{len(files)} report files in {root}")
    context.add_output_metadata(
        {
            "data_raw_dir": dg.MetadataValue.path(str(root)),
            "files": len(files),
            "pdf_files": sum(f.kind == "pdf" for f in files),
            "text_files": sum(f.kind == "text" for f in files),
            "total_bytes": sum(f.size for f in files),
            "preview": dg.MetadataValue.md(_preview(files)),
        }
    )
    return files


def _preview(files: list[ReportFile]) -> str:
    lines = ["| file | kind | bytes | sha256 |", "|---|---|---:|---|"]
    lines += [f"| {f.name} | {f.kind} | {f.size} | {f.sha256[:12]} |" for f in files[:PREVIEW_ROWS]]
    if len(files) > PREVIEW_ROWS:
        lines.append(f"| … {len(files) - PREVIEW_ROWS} more | | | |")
    return "\n".join(lines)
