"""What a load has to do: scan the files, fingerprint them with the code versions, and compare with
the published warehouse. Shared by the `report_files` asset and the launchers (`python -m
orchestration.load`, the nightly schedule), which start no run at all when nothing changed.

No Dagster import here.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import inputs, store, warehouse
from .settings import DBT_PROJECT_DIR, Settings

DBT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md", ".jinja"}
DBT_SKIP_DIRS = {"target", "logs", "dbt_packages"}


@dataclass(frozen=True)
class LoadPlan:
    files: list[inputs.ReportFile]
    fingerprint: str  # of the files and the code; inputs.fingerprint
    unstored: int  # files whose result is not in the store (they will be read)
    published_fingerprint: str | None

    @property
    def up_to_date(self) -> bool:
        """The published warehouse is what this load would build, and nothing needs reading."""
        return not self.unstored and self.published_fingerprint == self.fingerprint


def code_versions() -> dict[str, str]:
    """The versions of the code that shapes the warehouse besides the files themselves."""
    return {
        "results": store.results_version(),
        "dbt": inputs.tree_version(DBT_PROJECT_DIR, DBT_SUFFIXES, DBT_SKIP_DIRS),
    }


def plan_load(settings: Settings) -> LoadPlan:
    """Scan DATA_RAW_DIR (hashing only files whose size or mtime changed since the last scan, whose
    index is then updated) and compare with the published warehouse. Raises NotADirectoryError
    when DATA_RAW_DIR is not a folder."""
    root = settings.data_raw
    if not root.is_dir():
        raise NotADirectoryError(f"DATA_RAW_DIR {root} is not a folder")
    previous = inputs.index_of(inputs.read_manifest(settings.file_index_path))
    files = inputs.scan_report_files(root, previous)
    inputs.write_manifest(files, settings.file_index_path)
    unstored = sum(
        1
        for f in files
        if not f.sha256 or not store.entry_path(settings.store_root, f.sha256, f.kind).exists()
    )
    return LoadPlan(
        files, inputs.fingerprint(files, code_versions()), unstored, warehouse.published_fingerprint(settings)
    )
