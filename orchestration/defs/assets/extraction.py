"""Extraction fanned out over Dagster steps: the files are split into `EXTRACT_SHARDS` shards by
content hash, one step per shard, and the configured executor runs the steps — on this machine's
cores (multiprocess) or on a Dask cluster. Each step reads the files of its shard that have no
stored result, each file under its time and memory bound, writing every result to the store as it
finishes; what passes between steps are paths and counts.

Why a static fan-out and not Dagster's dynamic outputs (DynamicOut → map → collect): the Dask
executor does not run dynamic graphs (dagster-io/dagster#9785), and a fixed set of steps lets the
multiprocess and Dask executors run the same graph. Sharding by content keeps the same bytes
under two names in one step, and a changed file moves only itself. A fixed split leaves the step
whose files cost less idle at the end (a scan's OCR costs a hundred text pages), so a step done
with its shard goes on with the files the others listed as still to read and have not claimed
(`extraction.extract_files`: lists and claims in the run's folder of the store, which every step
shares); the collecting step checks that the steps' entry lists together name every file exactly
once.
"""

import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

from extract.wording import counted

from ... import extraction, inputs
from ...settings import Settings
from .files import FileManifest

PREVIEW_ROWS = 50


@dataclass(frozen=True)
class ShardResult:
    """What one extraction step hands on: the path of its (name, entry) list, and counts."""

    entries: str  # Parquet of (name, entry) for every file the shard's step found stored or read
    files: int
    store_hits: int
    as_landed: int  # of the store hits, taken unverified as the published warehouse was landed from them
    read: int
    read_preview: tuple[str, ...]  # the first PREVIEW_ROWS names read
    errors: tuple[tuple[str, int], ...]  # (error class, files) among the files read


@dataclass(frozen=True)
class ExtractionManifest:
    """What the landing step reads: the shards' entry lists, and the fingerprint to record."""

    entries: tuple[str, ...]
    files: int
    fingerprint: str
    # entries were taken unverified as the published warehouse was landed from them: the landing
    # must build on a copy of that warehouse
    trusts_landed: bool = False


def _shard_op(index: int, shards: int) -> dg.OpDefinition:
    @dg.op(name=f"extract_shard_{index}", description=f"Reads the files of shard {index} of {shards}.")
    def extract_shard(context: dg.OpExecutionContext, settings: Settings, files: FileManifest) -> ShardResult:
        every = inputs.read_manifest(files.path)
        mine = [f for f in every if inputs.shard_of(f, shards) == index]
        others = [f for f in every if inputs.shard_of(f, shards) != index]

        last_line = time.monotonic()

        def progress(done: int, total: int, name: str, summary: extraction.FileSummary) -> None:
            nonlocal last_line
            now = time.monotonic()
            if summary.errors or done == total or now - last_line >= settings.progress_interval_s:
                context.log.info(f"[{done}/{total}] {name}: {summary.describe()}")
                last_line = now

        entries, stats = extraction.extract_files(
            mine,
            settings.store_root,
            Path(files.run_dir),
            settings.limits(),
            max_workers=settings.processes_per_step,
            progress=progress,
            warn=context.log.warning,
            landed=Path(files.landed) if files.landed else None,
            others=others,
            claims=Path(files.run_dir) / "claims" if shards > 1 else None,
        )
        shared = (
            f" ({stats.read_for_others} of other shards; {stats.taken_by_others} of this one read by others)"
            if stats.read_for_others or stats.taken_by_others
            else ""
        )
        context.log.info(
            f"shard {index}: {counted(stats.files, 'file')}, {stats.store_hits} from the store "
            f"({stats.as_landed} as the published warehouse was landed from them), "
            f"{len(stats.read)} read{shared}"
        )
        path = extraction.write_entries(entries, Path(files.run_dir) / f"entries-{index}.parquet")
        return ShardResult(
            str(path),
            stats.files,
            stats.store_hits,
            stats.as_landed,
            len(stats.read),
            tuple(stats.read[:PREVIEW_ROWS]),
            tuple(stats.errors.items()),
        )

    return extract_shard


SHARDS = Settings.from_env().shards
SHARD_OPS = [_shard_op(i, SHARDS) for i in range(SHARDS)]


# One named input per shard, not a fan-in list: the Dask executor plans every step up front and
# would hand a fan-in input an empty list.
@dg.op(
    ins={"files": dg.In(FileManifest), **{f"shard_{i}": dg.In(ShardResult) for i in range(SHARDS)}},
    description="Gathers the shards' entry lists into the manifest the landing step reads.",
)
def collect_extraction(context: dg.OpExecutionContext, files: FileManifest, **by_shard: ShardResult):
    shards = [by_shard[f"shard_{i}"] for i in range(SHARDS)]
    # a shard's entries name the files it read, some of other shards': only all of them name every file
    if missing := extraction.missing_entries(
        inputs.read_manifest(Path(files.path)), [Path(s.entries) for s in shards]
    ):
        raise dg.Failure(
            f"the extraction steps' entry lists do not name {counted(len(missing), 'file')} exactly once "
            f"({', '.join(missing[:3])}{', …' if len(missing) > 3 else ''}): not landing an incomplete load",
            allow_retries=False,
        )
    errors: dict[str, int] = {}
    for shard in shards:
        for error_class, count in shard.errors:
            errors[error_class] = errors.get(error_class, 0) + count
    read = sorted(name for shard in shards for name in shard.read_preview)
    context.add_output_metadata(
        {
            "files": files.files,
            "files_read": sum(s.read for s in shards),
            "store_hits": sum(s.store_hits for s in shards),
            "store_hits_as_landed": sum(s.as_landed for s in shards),
            "shards": len(shards),
            "errors_in_files_read": dg.MetadataValue.json(errors),
            "read": dg.MetadataValue.md("\n".join(f"- {n}" for n in read[:PREVIEW_ROWS]) or "none"),
        }
    )
    entries = tuple(s.entries for s in shards) + ((files.folder_errors,) if files.folder_errors else ())
    return ExtractionManifest(entries, files.files, files.fingerprint, bool(files.landed))


@dg.graph_asset(
    group_name="ingest",
    kinds={"python"},
    description=(
        "Every report file read into canonical records (one per form) or errors, by extract.extract_file, "
        "stored per file content (sha256), kind and extractor version in the extraction store "
        "(EXTRACT_STORE): a load over unchanged files reads nothing again. The files are split into "
        "shards read by parallel steps, each file under its time and memory bound."
    ),
)
def extracted_reports(report_files: FileManifest) -> ExtractionManifest:
    return collect_extraction(
        files=report_files, **{f"shard_{i}": op(report_files) for i, op in enumerate(SHARD_OPS)}
    )
