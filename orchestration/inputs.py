"""The report files of a load: scanning DATA_RAW_DIR, the file manifest, the load's fingerprint.

A scan lists the .pdf/.txt files with size, mtime and sha256. A file whose size and mtime are
those of the previous scan keeps its sha256 without being read again (as make and rsync do), so
a load over an unchanged folder reads no file. The list travels between steps as a Parquet
manifest (a path), never as a Python list through Dagster's IO manager.

No Dagster import here: the sensor, the assets and the benchmarks share it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from extract import iter_report_files, kind_of, sha256_file


@dataclass(frozen=True)
class ReportFile:
    """A report file in DATA_RAW_DIR: `name` is its path relative to that folder, `path` absolute;
    `sha256` is "" when the file could not be read (extraction then records why)."""

    name: str
    path: str
    sha256: str
    size: int
    mtime_ns: int = 0

    @property
    def kind(self) -> str:
        return kind_of(self.name)

    @property
    def digest(self) -> str:
        """The content's sha256, or for a file that could not be read, one of its name."""
        return (
            self.sha256
            or "unread-" + hashlib.sha256(self.name.encode("utf-8", "surrogateescape")).hexdigest()
        )

    @property
    def content_key(self) -> str:
        """What identifies the result: the same bytes of the same kind give the same result."""
        return f"{self.digest}-{self.kind}"


MANIFEST_SCHEMA = pa.schema(
    [
        ("name", pa.string()),
        ("path", pa.string()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("kind", pa.string()),
    ]
)

Index = Mapping[str, tuple[int, int, str]]  # name → (size, mtime_ns, sha256) of a previous scan


def scan_report_files(root: Path, previous: Index | None = None) -> list[ReportFile]:
    """The report files under `root` (recursively), in a stable order, with sha256 and size.

    A file listed in `previous` with the same size and mtime keeps that sha256 unread."""
    previous = previous or {}
    files = []
    for path in iter_report_files([root]):
        name = path.relative_to(root).as_posix()
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue  # vanished between listing and reading; the next load sees the folder as it is
        before = previous.get(name)
        if before and before[0] == stat.st_size and before[1] == stat.st_mtime_ns and before[2]:
            digest = before[2]
        else:
            try:
                digest = sha256_file(path)
            except OSError:
                digest = ""  # unreadable: extraction records the error, the store is bypassed
        files.append(ReportFile(name, str(path), digest, stat.st_size, stat.st_mtime_ns))
    return files


def index_of(files: Iterable[ReportFile]) -> dict[str, tuple[int, int, str]]:
    return {f.name: (f.size, f.mtime_ns, f.sha256) for f in files}


def write_manifest(files: list[ReportFile], path: Path) -> Path:
    """The files as a Parquet manifest at `path` (written atomically); returns `path`."""
    table = pa.Table.from_pylist([{**f.__dict__, "kind": f.kind} for f in files], schema=MANIFEST_SCHEMA)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".parquet")
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_manifest(path: Path) -> list[ReportFile]:
    """The files of a manifest; [] if there is none (or it cannot be read: the index is a cache)."""
    try:
        rows = pq.read_table(path).to_pylist()
    except (OSError, pa.ArrowException):
        return []
    return [ReportFile(r["name"], r["path"], r["sha256"], r["size"], r["mtime_ns"]) for r in rows]


def shard_of(file: ReportFile, shards: int) -> int:
    """Which of `shards` extraction steps reads the file: by content, so the same bytes under two
    names land in one step (read once), and a changed file moves only itself."""
    return int(file.digest.removeprefix("unread-")[:8], 16) % shards


def fingerprint(files: Iterable[ReportFile], versions: Mapping[str, str]) -> str:
    """32 hex over every file's (name, kind, sha256) and the code versions that shape the
    warehouse (extractor, landing tables, dbt project): equal fingerprints, equal warehouses."""
    digest = hashlib.sha256(json.dumps(dict(sorted(versions.items()))).encode())
    for file in sorted(files, key=lambda f: f.name):
        digest.update(f"{file.name}\0{file.kind}\0{file.sha256}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:32]


def tree_version(root: Path, suffixes: Iterable[str], skip_dirs: Iterable[str] = ()) -> str:
    """12 hex over the relative paths and bytes of the files under `root` with these suffixes."""
    suffixes, skip = set(suffixes), set(skip_dirs)
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in skip and not d.startswith("."))
        for name in sorted(filenames):
            if Path(name).suffix in suffixes:
                path = Path(dirpath, name)
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
