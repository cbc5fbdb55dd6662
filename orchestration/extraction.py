"""Extraction of report files into the store, each file under a time and a memory bound.

`extract_files` reads the files whose content has no store entry yet, in bounded worker processes
(`orchestration.workers`): each worker extracts one file, turns the result into its store row and
writes the entry itself, so results stream to disk as files finish and only a few counts come
back. The same content under several names is read once. A file over a bound, or whose worker
dies, becomes an error of that file — written to the run's folder, not to the store, so the next
load tries it again — and the other files carry on. A store entry is verified before it is used
(`store.verify_entry`: schema and results version, column types, checksum); one that does not
verify is logged and its file read again, so an old or hand-edited entry is never published —
except the entries the published warehouse was landed from, under the same names, by the same
code (`landed`): the landing keeps those rows as they are on its copy and never reads the entry,
so neither is it verified again (at national size that verification would cost more than the
night's new files).

No Dagster import here: worker processes import this module.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from extract import extract_file
from extract.record import ExtractError, FileResult
from extract.wording import counted

from .inputs import ReportFile, display_name
from .staging import file_row
from .store import entry_path, is_storable, verify_entry, write_entry
from .workers import Limits, Outcome, describe_exit, run_bounded

ENTRIES_SCHEMA = pa.schema([("name", pa.string()), ("entry", pa.string())])


@dataclass(frozen=True)
class Job:
    """One content to read: from `path` (its first name), into the store at `entry` when the
    result may be stored, else into `transient`."""

    key: str  # ReportFile.content_key
    name: str
    path: str
    sha256: str
    kind: str
    entry: str
    transient: str
    pages: int = 0  # the PDF's page count (0: not a PDF, or not known): its time limit grows with it


@dataclass(frozen=True)
class FileSummary:
    """What one read gave: where its entry is, and counts for the progress line."""

    entry: str
    forms: int
    indicators: int
    forms_with_failed_checks: int
    errors: tuple[tuple[str, str], ...]  # (error_class, message)

    def describe(self) -> str:
        parts = []
        if self.forms:
            parts.append(f"{counted(self.forms, 'form')}, {counted(self.indicators, 'indicator')}")
            if self.forms_with_failed_checks:
                parts.append(f"{self.forms_with_failed_checks} with failed checks")
        parts += [f"ERROR {error_class}: {message}" for error_class, message in self.errors]
        return "; ".join(parts) or "no form found"


@dataclass
class ExtractStats:
    files: int = 0
    store_hits: int = 0  # files whose content had an entry already
    as_landed: int = 0  # of those, files taken as the published warehouse was landed from them
    read: list[str] = field(default_factory=list)  # names read this time (one per content)
    rejected: list[str] = field(default_factory=list)  # names whose store entry did not verify
    read_for_others: int = 0  # of the contents read, those of other shards (`claims`)
    taken_by_others: int = 0  # contents of these files that other shards' calls claimed first
    errors: dict[str, int] = field(default_factory=dict)  # error class → files, of those read


def page_count(path: str) -> int:
    """A PDF's page count from its page tree (pypdfium2, without reading a page), 0 when it does
    not open: the reader reports why, under the time limit of a file of unknown length."""
    import pypdfium2

    try:
        with pypdfium2.PdfDocument(path) as pdf:
            return len(pdf)
    except Exception:  # noqa: BLE001 - any file pdfium refuses: its reader gives the error
        return 0


def _summary(entry: Path, row: dict) -> FileSummary:
    forms = row["forms"]
    return FileSummary(
        str(entry),
        len(forms),
        sum(len(f["indicators"]) for f in forms),
        sum(1 for f in forms if f["checks_failed"]),
        tuple((e["error_class"], e["message"]) for e in row["errors"]),
    )


def _write(job: Job, result: FileResult, read: bool = True) -> FileSummary:
    """Write the result's entry: into the store if it is what reading these bytes gives (`read`,
    the bytes the manifest named, no transient error), else into the run's folder."""
    row = file_row(result)
    storable = read and bool(job.sha256) and result.sha256 == job.sha256 and is_storable(row)
    path = Path(job.entry if storable else job.transient)
    return _summary(write_entry(path, result.sha256 or "", result.kind, row), row)


def extract_to_store(job: Job) -> FileSummary:
    """Worker entry point (module-level so a worker process finds it by name).

    `extract_file` turns every exception into an error of the file, a MemoryError included; one
    raised under the memory limit is reported as `too_large`, not as an unexplained failure."""
    result = extract_file(job.path)
    for error in result.errors:
        if error.error_class == "form_unreadable" and error.message.startswith("unexpected MemoryError"):
            error.error_class = "too_large"
            error.message = "ran out of memory while reading the file (EXTRACT_MEMORY_MB)"
        # An OSError's message quotes the absolute path: rows name files relative to DATA_RAW_DIR.
        error.message = display_name(error.message.replace(job.path, job.name))
    result.path = display_name(job.name)
    return _write(job, result)


def _failed(job: Job, outcome: Outcome, limits: Limits) -> FileSummary:
    """The entry of a file whose worker gave no result (timeout, memory, crash): never stored, so
    the next load tries the file again."""
    if outcome.kind == "timeout":
        error_class = "timeout"
        bound = limits.timeout_for(job.pages) or 0.0
        per_page = (
            f" + EXTRACT_TIMEOUT_PER_PAGE_S × {job.pages} pages"
            if job.pages and limits.timeout_per_page_s
            else ""
        )
        message = f"extraction stopped after {bound:g} s (EXTRACT_TIMEOUT_S{per_page})"
    elif outcome.kind == "memory":
        error_class = "too_large"
        message = f"extraction needed more than {limits.memory_mb} MB of memory (EXTRACT_MEMORY_MB)"
    elif outcome.kind == "error":
        error_class = "form_unreadable"
        message = f"extraction process failed: {outcome.value}"
    else:
        error_class = "form_unreadable"
        message = f"extraction process died ({describe_exit(outcome.value)})"
    name = display_name(job.name)
    error = ExtractError(Path(name).name, job.sha256 or None, error_class, message)
    result = FileResult(name, job.sha256 or None, job.kind, errors=[error])
    return _write(job, result, read=False)


def extract_files(
    files: Sequence[ReportFile],
    store_root: Path,
    run_dir: Path,
    limits: Limits,
    max_workers: int = 1,
    progress: Callable[[int, int, str, FileSummary], None] | None = None,
    warn: Callable[[str], None] | None = None,
    landed: Path | None = None,
    others: Sequence[ReportFile] = (),
    claims: Path | None = None,
) -> tuple[list[tuple[str, str]], ExtractStats]:
    """The store entry of every file this call read or found stored, as (display name, entry
    path), reading only content with no entry that verifies.

    Each content is read once, in a bounded worker, up to `max_workers` at a time;
    `progress(done, total, display name, summary)` is called as each read finishes (`total`: the
    reads made or to make as far as known: with `claims`, its own contents not taken by other
    calls yet and the others' it took), `warn(line)` for each store entry that did not verify
    (the file is read again). `landed`: the (name, entry) pairs (`write_entries`' shape) the published
    warehouse was landed from, given only when this code built it; a content whose entry it lists
    under exactly the content's names is taken as it is, unverified (its rows are in the copy the
    landing builds on).

    `claims`: a folder shared by the calls of one load, each over its own `files` (a shard), for
    work stealing. A call lists there the contents it has to read (`offer`); a content is read by
    the call that first claims it there (`claim`), just before a worker takes it up; a call done
    with its own contents goes on with those the other calls listed, from the back of their lists
    (`others`: the other shards' files, for their names). The entries of a content are returned
    by the call that read it, so only the union of the calls' entries covers every file
    (`missing_entries` checks it)."""
    stats = ExtractStats(files=len(files))
    mine = _by_content(files)
    stored_at = {key: _entry_of(store_root, group[0]) for key, group in mine.items()}
    as_landed = landed_names(landed, {str(p) for p in stored_at.values() if p}) if landed else {}
    entries: list[tuple[str, str]] = []
    jobs: list[Job] = []
    groups: list[list[ReportFile]] = []  # the names of each job's content
    for key, group in mine.items():
        first = group[0]
        stored = stored_at[key]
        if stored is not None and as_landed.get(str(stored)) == {f.label for f in group}:
            stats.store_hits += len(group)
            stats.as_landed += len(group)
            entries += [(f.label, str(stored)) for f in group]
            continue
        if stored is not None and stored.exists():
            # written in this load by the call that claimed it first (a claim precedes its entry)
            if claims is not None and _claim_path(claims, key).exists():
                stats.taken_by_others += 1
                continue
            problem = verify_entry(stored, first.sha256, first.kind)
            if problem is None:
                stats.store_hits += len(group)
                entries += [(f.label, str(stored)) for f in group]
                continue
            stats.rejected.append(first.label)
            if warn:
                warn(f"store entry {stored} of {first.label} does not verify ({problem}): reading it again")
        jobs.append(_job(key, first, stored, run_dir))
        groups.append(group)
    own = len(jobs)
    offered = offer(claims, [job.key for job in jobs]) if claims is not None else None

    def to_read() -> Iterator[Job]:
        yield from jobs[:own]
        if claims is None:
            return
        theirs = _by_content(others)
        for key in offered_elsewhere(claims, offered):
            if key in theirs and not _claim_path(claims, key).exists():
                group = theirs[key]
                jobs.append(_job(key, group[0], _entry_of(store_root, group[0]), run_dir))
                groups.append(group)
                yield jobs[-1]

    def admit(index: int) -> bool:
        if claims is None or claim(claims, jobs[index].key):
            return True
        stats.taken_by_others += index < own
        return False

    for done, (index, outcome) in enumerate(
        run_bounded(extract_to_store, to_read(), limits, max_workers, lambda job: job.pages, admit), start=1
    ):
        job = jobs[index]
        summary = outcome.value if outcome.kind == "ok" else _failed(job, outcome, limits)
        entries += [(f.label, summary.entry) for f in groups[index]]
        stats.read.append(display_name(job.name))
        stats.read_for_others += index >= own
        for error_class in {e[0] for e in summary.errors}:
            stats.errors[error_class] = stats.errors.get(error_class, 0) + 1
        if progress:
            total = own - stats.taken_by_others + stats.read_for_others
            progress(done, total, display_name(job.name), summary)
    return sorted(entries), stats


def _by_content(files: Sequence[ReportFile]) -> dict[str, list[ReportFile]]:
    names: dict[str, list[ReportFile]] = {}
    for file in files:
        names.setdefault(file.content_key, []).append(file)
    return names


def _entry_of(store_root: Path, file: ReportFile) -> Path | None:
    """Where the store keeps the result of the file's content (None: its bytes could not be read)."""
    return entry_path(store_root, file.sha256, file.kind) if file.sha256 else None


def _job(key: str, first: ReportFile, stored: Path | None, run_dir: Path) -> Job:
    transient = run_dir / "transient" / f"{key}.parquet"
    pages = page_count(first.path) if first.kind == "pdf" else 0
    return Job(
        key, first.name, first.path, first.sha256, first.kind, str(stored or transient), str(transient), pages
    )


OFFERS = "offers"  # the folder of `claims` where each call lists the contents it has to read


def offer(claims: Path, keys: list[str]) -> Path:
    """List `keys` (the contents this call has to read) in `claims`, one file per call, written
    whole before it appears; returns its path."""
    folder = claims / OFFERS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{os.getpid()}-{uuid.uuid4().hex}.txt"
    tmp = folder / f".{path.name}"
    tmp.write_text("".join(f"{key}\n" for key in keys), encoding="ascii")
    os.replace(tmp, path)
    return path


def offered_elsewhere(claims: Path, own: Path | None) -> Iterator[str]:
    """The contents the other calls of the load listed (`offer`) by now, each list from its back."""
    for path in sorted((claims / OFFERS).glob("*.txt")):
        if path != own:
            yield from reversed(path.read_text(encoding="ascii").split())


def claim(claims: Path, key: str) -> bool:
    """Whether this call is the first to claim the content `key` in the folder `claims` (one
    empty file per content, created exclusively: atomic on a local or NFS file system)."""
    path = _claim_path(claims, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _claim_path(claims: Path, key: str) -> Path:
    return claims / key[:2] / key


def missing_entries(files: Sequence[ReportFile], entry_lists: Sequence[Path]) -> list[str]:
    """The display names of `files` that the (name, entry) lists do not name exactly once, sorted:
    [] when the calls of a load (`extract_files` with `claims`) covered every file."""
    named: dict[str, int] = {}
    for path in entry_lists:
        for name in pq.read_table(path, columns=["name"], schema=ENTRIES_SCHEMA)["name"].to_pylist():
            named[name] = named.get(name, 0) + 1
    return sorted(f.label for f in files if named.pop(f.label, 0) != 1) + sorted(named)


def landed_names(path: Path, entries: set[str]) -> dict[str, set[str]]:
    """Entry path → the names it was landed under, read from the (name, entry) pairs at `path`
    for the `entries` asked about only; {} when the file cannot be read (every entry is then
    verified as usual)."""
    if not entries:
        return {}
    try:
        table = pq.read_table(path, schema=ENTRIES_SCHEMA, filters=[("entry", "in", sorted(entries))])
    except (OSError, pa.ArrowException):
        return {}
    found: dict[str, set[str]] = {}
    for name, entry in zip(table["name"].to_pylist(), table["entry"].to_pylist(), strict=True):
        found.setdefault(entry, set()).add(name)
    return found


def write_entries(entries: list[tuple[str, str]], path: Path) -> Path:
    """(name, entry) pairs as a Parquet file: what the landing step reads."""
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist([{"name": n, "entry": e} for n, e in entries], schema=ENTRIES_SCHEMA)
    pq.write_table(table, path)
    return path
