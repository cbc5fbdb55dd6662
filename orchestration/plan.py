"""What a load has to do: scan the files, fingerprint them with the code versions, and compare with
the published warehouse. Shared by the `report_files` asset and the launchers (`python -m
orchestration.load`, the nightly schedule), which start no run at all when nothing changed; the
command line starts none either when the plan refuses the load (`LoadRefused`).

No Dagster import here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from . import inputs, store, warehouse
from .settings import DBT_PROJECT_DIR, Settings

DBT_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md", ".jinja"}
DBT_SKIP_DIRS = {"target", "logs", "dbt_packages"}


# A load that finds fewer than this share of the files the published warehouse was built from (an
# empty DATA_RAW_DIR: a share that is not mounted; most files gone), or reads fewer than this share
# of its report copies (every file failing: a memory bound set too low, a broken reader), does not
# publish unless the operator allows it (ALLOW_SHRINK=1).
SHRINK_MIN_SHARE = 0.5


def shrinks(before: int | None, now: int) -> bool:
    """Whether `now` is fewer than SHRINK_MIN_SHARE of `before` (None or 0: nothing to shrink from)."""
    return bool(before) and now < SHRINK_MIN_SHARE * (before or 0)


def reports_shrink_refusal(published: int | None, landed: int, errors: dict[str, int]) -> str | None:
    """Why a load whose build file holds `landed` report copies must not replace a published
    warehouse of `published` (None: none) without the operator's word (ALLOW_SHRINK=1), naming the
    extraction errors {error_class: files}; None when it need not be refused."""
    if not shrinks(published, landed):
        return None
    why = ", ".join(f"{error_class} {n}" for error_class, n in sorted(errors.items())) or "none"
    return (
        f"this load read {landed} report copies, the published warehouse holds {published}: fewer than "
        f"{SHRINK_MIN_SHARE:.0%} (extraction errors by class: {why}; see raw.extract_errors of the "
        "build file). Not publishing; set ALLOW_SHRINK=1 to publish the smaller warehouse"
    )


class LoadRefused(Exception):
    """The load must not run at all (the message says why and what to do); nothing is published."""


@dataclass(frozen=True)
class LoadPlan:
    files: list[inputs.ReportFile]
    fingerprint: str  # of the files, the unreadable folders, the store and the code; inputs.fingerprint
    unstored: int  # files whose result is not in the store (they will be read)
    published_fingerprint: str | None
    unreadable: dict[str, str] = field(default_factory=dict)  # folder → why it could not be listed
    published_files: int | None = None  # files the published warehouse was built from

    def shrink_refusal(self) -> str | None:
        """Why this load must not replace the published warehouse without the operator's word
        (ALLOW_SHRINK=1), or None: it found fewer than SHRINK_MIN_SHARE of the published files."""
        before, now = self.published_files, len(self.files)
        if not shrinks(before, now):
            return None
        return (
            f"DATA_RAW_DIR holds {now} report file(s), the published warehouse was built from {before}: "
            f"fewer than {SHRINK_MIN_SHARE:.0%} are left (a share not mounted? files moved?). Not loading; "
            "set ALLOW_SHRINK=1 to publish the smaller warehouse"
        )

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


def code_version() -> str:
    """32 hex over `code_versions()` alone: equal code versions, equal warehouses from equal files."""
    return inputs.fingerprint([], code_versions())


def plan_load(settings: Settings) -> LoadPlan:
    """Scan DATA_RAW_DIR (hashing only files whose size or mtime changed since the last scan, whose
    index is then updated; a folder that cannot be listed keeps the files it had) and compare
    with the published warehouse. Raises NotADirectoryError when DATA_RAW_DIR is not a folder, and
    LoadRefused when it holds too few of the published files (`LoadPlan.shrink_refusal`) and
    ALLOW_SHRINK is off: refused here, before any run is created."""
    root = settings.data_raw
    if not root.is_dir():
        raise NotADirectoryError(f"DATA_RAW_DIR {root} is not a folder")
    previous = inputs.index_of(inputs.read_manifest(settings.file_index_path))
    scan = inputs.scan_inputs(root, previous)
    files = scan.files
    inputs.write_manifest(files, settings.file_index_path)
    versions = code_versions()
    if scan.unreadable:  # a folder that cannot be read is a change: its error row is recorded
        versions["unreadable_folders"] = json.dumps(sorted(scan.unreadable))
    # The store a load lands from is part of what it builds: a load from another store may have
    # published error rows (timeout, too_large: never stored) for files this one holds results of.
    versions["store"] = str(settings.store_root)
    unstored = sum(
        1
        for f in files
        if not f.sha256 or not store.entry_path(settings.store_root, f.sha256, f.kind).exists()
    )
    fingerprint, published_files = warehouse.published_state(settings)
    plan = LoadPlan(
        files, inputs.fingerprint(files, versions), unstored, fingerprint, scan.unreadable, published_files
    )
    refusal = plan.shrink_refusal()
    if refusal and not settings.allow_shrink:
        raise LoadRefused(refusal)
    return plan
