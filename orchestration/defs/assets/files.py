"""The report files in DATA_RAW_DIR: the root of the lineage, and where a load decides it has
nothing to do."""

import hashlib
import os
from dataclasses import dataclass

import dagster as dg
from dagster import AssetExecutionContext

from ... import extraction, inputs, store, warehouse
from ...plan import LoadRefused, code_version, plan_load
from ...settings import Settings
from . import WAREHOUSE_STEP

PREVIEW_ROWS = 50


@dataclass(frozen=True)
class FileManifest:
    """What `report_files` hands on: the Parquet manifest of the files (a path, not the list), the
    run's folder in the store, and the fingerprint the warehouse will be built from."""

    path: str
    run_dir: str
    files: int
    fingerprint: str
    folder_errors: str = ""  # Parquet of (name, entry): the error rows of unreadable folders
    # Parquet of (name, entry): what the published warehouse was landed from, when this code built it
    landed: str = ""


@dg.asset(
    group_name="ingest",
    kinds={"python", "file"},
    output_required=False,
    op_tags=WAREHOUSE_STEP,
    description=(
        "Report files (.pdf forms or .txt text dumps) found under DATA_RAW_DIR, recursively, with the "
        "sha256 and size of each (a file whose size and mtime did not change is not read again). When "
        "neither the files nor the code changed since the published load, and every file's result is "
        "in the store, nothing downstream runs: the warehouse is already what this load would build."
    ),
)
def report_files(context: AssetExecutionContext, settings: Settings):
    try:
        plan = plan_load(settings)
    except (NotADirectoryError, LoadRefused) as exc:  # a run the UI or the sensor started
        raise dg.Failure(str(exc), allow_retries=False) from None
    warehouse.refuse_foreign_writer(settings.warehouse)
    files, root = plan.files, settings.data_raw
    for folder, why in sorted(plan.unreadable.items()):
        context.log.warning(
            f"folder {inputs.display_name(folder)} of DATA_RAW_DIR cannot be read ({why}): "
            "its files from the last scan are kept"
        )
    metadata = {
        "data_raw_dir": dg.MetadataValue.path(str(root)),
        "files": len(files),
        "pdf_files": sum(f.kind == "pdf" for f in files),
        "text_files": sum(f.kind == "text" for f in files),
        "office_files": sum(f.kind not in ("pdf", "text") for f in files),  # .xlsx/.docx/.xls/.doc
        "total_bytes": sum(f.size for f in files),
        "not_in_store": plan.unstored,
        "unreadable_folders": len(plan.unreadable),
        "fingerprint": plan.fingerprint,
        "preview": dg.MetadataValue.md(_preview(files)),
    }
    if plan.up_to_date:
        context.log.info(
            f"{len(files)} report files in {root}, all unchanged since the published load: "
            "nothing to read, the warehouse is up to date"
        )
        context.log_event(
            dg.AssetObservation(asset_key=context.asset_key, metadata={**metadata, "up_to_date": True})
        )
        return
    context.log.info(f"{len(files)} report files in {root}, {plan.unstored} without a stored result")
    run_dir = store.run_dir(settings.store_root, context.run.run_id)
    manifest = inputs.write_manifest(files, run_dir / "files.parquet")
    folder_errors = _folder_errors(plan, run_dir) if plan.unreadable else ""
    landed = run_dir / "landed.parquet"
    if not warehouse.write_published_landing(settings, code_version(), landed):
        landed = None
    yield dg.Output(
        FileManifest(
            str(manifest), str(run_dir), len(files), plan.fingerprint, folder_errors, str(landed or "")
        ),
        metadata=metadata,
    )


def _folder_errors(plan, run_dir) -> str:
    """One `not_found` error row per folder that could not be listed, as transient entries of this
    run (never stored: the next load lists the folder again); returns their (name, entry) list."""
    entries = []
    for folder, why in sorted(plan.unreadable.items()):
        kept = sum(1 for f in plan.files if folder == "." or f.name.startswith(folder + "/"))
        row = {
            "forms": [],
            "errors": [
                {
                    "sha256": None,
                    "error_class": "not_found",
                    "message": f"folder could not be read ({why}); the {kept} file(s) it held at the "
                    "last scan are kept as they were",
                    "pages": [],
                }
            ],
        }
        name = inputs.display_name(folder.rstrip("/") + "/")
        digest = hashlib.sha256(os.fsencode(folder)).hexdigest()
        path = store.write_entry(run_dir / "transient" / f"folder-{digest}.parquet", "", "folder", row)
        entries.append((name, str(path)))
    return str(extraction.write_entries(entries, run_dir / "folder_errors.parquet"))


def _preview(files: list[inputs.ReportFile]) -> str:
    lines = ["| file | kind | bytes | sha256 |", "|---|---|---:|---|"]
    lines += [f"| {f.label} | {f.kind} | {f.size} | {f.sha256[:12]} |" for f in files[:PREVIEW_ROWS]]
    if len(files) > PREVIEW_ROWS:
        lines.append(f"| … {len(files) - PREVIEW_ROWS} more | | | |")
    return "\n".join(lines)
