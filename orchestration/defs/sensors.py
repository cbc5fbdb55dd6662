"""Start a load when a report file lands in DATA_RAW_DIR, changes, or is removed.

The cursor is JSON {"generation": n, "files": {name: [size, mtime_ns, sha256]}} of the files
seen last time. A file whose size and mtime are unchanged is not hashed again; one whose size or
mtime changed is hashed and counts as changed only if its content did (a `touch` starts nothing).
The run key is the cursor's generation, raised by one at every change, and a digest of the new
state: the same tick never starts two runs, and every change starts one — also a change back to
an earlier state (a file removed and restored, changed and reverted), whose digest alone would
repeat an earlier run key that Dagster skips.
"""

import hashlib
import json
from pathlib import Path

import dagster as dg

from ..inputs import index_of, scan_report_files
from ..plan import LoadRefused, plan_load
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


def read_cursor(cursor: str | None) -> tuple[int, State]:
    """(generation, files) of a cursor; (0, {}) for none or one that cannot be read. A cursor of
    the earlier form (the files alone) is generation 0."""
    try:
        data = json.loads(cursor) if cursor else {}
    except ValueError:
        return 0, {}
    if isinstance(data.get("files"), dict) and isinstance(data.get("generation"), int):
        return data["generation"], data["files"]
    return 0, {name: entry for name, entry in data.items() if isinstance(entry, list)}


def write_cursor(generation: int, files: State) -> str:
    return json.dumps({"generation": generation, "files": files}, sort_keys=True)


@dg.sensor(
    name="report_files_sensor",
    job_name=LOAD_JOB,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts a full load when a report file in DATA_RAW_DIR is new, changed or removed.",
)
def report_files_sensor(context: dg.SensorEvaluationContext, settings: Settings):
    generation, previous = read_cursor(context.cursor)
    current = scan_state(settings.data_raw, previous)
    found = changes(previous, current)
    if not any(found.values()):
        context.update_cursor(write_cursor(generation, current))
        return dg.SkipReason("no new, changed or removed report files")
    generation += 1
    # ASCII JSON: a name that is not UTF-8 (surrogate escapes) round-trips through the cursor.
    context.update_cursor(write_cursor(generation, current))
    content = json.dumps({name: entry[2] for name, entry in current.items()}, sort_keys=True)
    summary = ", ".join(f"{len(names)} {kind}" for kind, names in found.items() if names)
    context.log.info(f"report files: {summary}")
    try:
        to_read: int | None = plan_load(settings).unstored
    except (NotADirectoryError, LoadRefused):
        to_read = None  # the run fails in report_files with the reason, visible in the run history
    return dg.RunRequest(
        run_key=f"{generation}-{hashlib.sha256(content.encode()).hexdigest()[:16]}",
        run_config=settings.for_load(to_read).launch_config(),
        tags={"trigger": "report_files_sensor", "report_files_changes": summary, **settings.run_tags()},
    )
