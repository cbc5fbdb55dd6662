"""Start a load when a report file lands in DATA_RAW_DIR, changes, or is removed.

The cursor is JSON {name: [size, mtime_ns, sha256]} of the files seen last time. A file whose size
and mtime are unchanged is not hashed again; one whose size or mtime changed is hashed and counts
as changed only if its content did (a `touch` starts nothing). The run key is a digest of the new
state, so the same change never starts two runs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg

from extract import iter_report_files, sha256_file

from . import settings
from .jobs import load_warehouse_job

State = dict[str, list]  # name → [size, mtime_ns, sha256]


def scan_state(root: Path, previous: State) -> State:
    state: State = {}
    if not root.is_dir():
        return state
    for path in iter_report_files([root]):
        name = path.relative_to(root).as_posix()
        try:
            stat = path.stat()
            before = previous.get(name)
            if before and before[0] == stat.st_size and before[1] == stat.st_mtime_ns:
                digest = before[2]
            else:
                digest = sha256_file(path)
        except OSError:
            continue
        state[name] = [stat.st_size, stat.st_mtime_ns, digest]
    return state


def changes(previous: State, current: State) -> dict[str, list[str]]:
    return {
        "new": sorted(set(current) - set(previous)),
        "changed": sorted(n for n in set(current) & set(previous) if current[n][2] != previous[n][2]),
        "removed": sorted(set(previous) - set(current)),
    }


@dg.sensor(
    name="report_files_sensor",
    job=load_warehouse_job,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a full load when a report file in DATA_RAW_DIR is new, changed or removed.",
)
def report_files_sensor(context: dg.SensorEvaluationContext):
    try:
        previous: State = json.loads(context.cursor) if context.cursor else {}
    except ValueError:
        previous = {}
    current = scan_state(settings.data_raw_dir(), previous)
    found = changes(previous, current)
    context.update_cursor(json.dumps(current, sort_keys=True, ensure_ascii=False))
    if not any(found.values()):
        return dg.SkipReason("no new, changed or removed report files")
    content = json.dumps({name: entry[2] for name, entry in current.items()}, sort_keys=True)
    summary = ", ".join(f"{len(names)} {kind}" for kind, names in found.items() if names)
    context.log.info(f"report files: {summary}")
    return dg.RunRequest(
        run_key=hashlib.sha256(content.encode()).hexdigest()[:16],
        tags={"trigger": "report_files_sensor", "report_files_changes": summary},
    )
