"""Start a load when a report file lands in DATA_RAW_DIR, changes, or is removed.

The cursor is JSON {name: [size, mtime_ns, sha256]} of the files seen last time. A file whose size
and mtime are unchanged is not hashed again; one whose size or mtime changed is hashed and counts
as changed only if its content did (a `touch` starts nothing). The run key is a digest of the new
state, so the same change never starts two runs.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from ..inputs import index_of, scan_report_files
from ..settings import Settings
from .jobs import LOAD_JOB

State = dict[str, list]  # name → [size, mtime_ns, sha256]


def scan_state(root: Path, previous: State) -> State:
    """The report files under `root` as cursor state; a file not hashed before, or changed in size
    or mtime, is hashed (inputs.scan_report_files)."""
    if not root.is_dir():
        return {}
    files = scan_report_files(root, {name: tuple(entry) for name, entry in previous.items()})
    return {name: list(entry) for name, entry in index_of(files).items()}


def changes(previous: State, current: State) -> dict[str, list[str]]:
    return {
        "new": sorted(set(current) - set(previous)),
        "changed": sorted(n for n in set(current) & set(previous) if current[n][2] != previous[n][2]),
        "removed": sorted(set(previous) - set(current)),
    }


@dg.sensor(
    name="report_files_sensor",
    job_name=LOAD_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a full load when a report file in DATA_RAW_DIR is new, changed or removed.",
)
def report_files_sensor(context: dg.SensorEvaluationContext, settings: Settings):
    try:
        previous: State = json.loads(context.cursor) if context.cursor else {}
    except ValueError:
        previous = {}
    current = scan_state(settings.data_raw, previous)
    found = changes(previous, current)
    context.update_cursor(json.dumps(current, sort_keys=True, ensure_ascii=False))
    if not any(found.values()):
        return dg.SkipReason("no new, changed or removed report files")
    content = json.dumps({name: entry[2] for name, entry in current.items()}, sort_keys=True)
    summary = ", ".join(f"{len(names)} {kind}" for kind, names in found.items() if names)
    context.log.info(f"report files: {summary}")
    return dg.RunRequest(
        run_key=hashlib.sha256(content.encode()).hexdigest()[:16],
        run_config=settings.run_config(),
        tags={"trigger": "report_files_sensor", "report_files_changes": summary},
    )
