"""The report files of a load: scanning DATA_RAW_DIR, the file manifest, the load's fingerprint.

A scan lists the .pdf/.txt files with size, mtime and sha256. A file whose size and mtime are
those of the previous scan keeps its sha256 without being read again (as make and rsync do), so
a load over an unchanged folder reads no file. The list travels between steps as a Parquet
manifest (a path), never as a Python list through Dagster's IO manager.

Names are bytes-safe: a name whose bytes are not UTF-8 (a share written in GBK) is carried as
Python's surrogate-escaped text for opening the file, as its raw bytes in manifests, and as
`display_name` (undecodable bytes as \\xNN, control characters escaped) in tables and logs, so a
name can neither break a write nor forge a log line. A sub-folder that cannot be listed is
reported (`Scan.unreadable`) and the files it held at the previous scan are kept as they were.

No Dagster import here: the sensor, the assets and the benchmarks share it.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from extract import kind_of, sha256_file
from extract.api import REPORT_SUFFIXES


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
    def label(self) -> str:
        """The name as tables and log lines show it (`display_name`)."""
        return display_name(self.name)

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


def display_name(name: str) -> str:
    """`name` as safe one-line text: bytes that were not UTF-8 (surrogate escapes) as \\xNN, and
    control characters (newline, tab, escape, …) as \\n, \\t, \\x1b, so the text names the same bytes
    and never splits or colours a log line."""
    text = name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


# Names and paths are stored as their bytes (os.fsencode), so any name the file system holds fits.
MANIFEST_SCHEMA = pa.schema(
    [
        ("name", pa.binary()),
        ("path", pa.binary()),
        ("sha256", pa.string()),
        ("size", pa.int64()),
        ("mtime_ns", pa.int64()),
        ("kind", pa.string()),
    ]
)

Index = Mapping[str, tuple[int, int, str]]  # name → (size, mtime_ns, sha256) of a previous scan


@dataclass(frozen=True)
class Scan:
    """What a scan found: the files (those of unreadable folders kept from the previous scan),
    and each sub-folder that could not be listed with why (relative name → "PermissionError: …")."""

    files: list[ReportFile]
    unreadable: dict[str, str]


def scan_inputs(root: Path, previous: Index | None = None) -> Scan:
    """The report files under `root` (recursively), in a stable order, with sha256 and size.

    A file listed in `previous` with the same size and mtime keeps that sha256 unread. A folder
    that cannot be listed (permissions, a dead mount) is in `Scan.unreadable`, and the files
    `previous` had under it are kept as they were, so a folder that cannot be read this time
    does not take its forms out of the warehouse."""
    previous = previous or {}
    unreadable: dict[str, str] = {}

    def refused(exc: OSError) -> None:
        folder = Path(exc.filename or root)
        name = "." if folder == root else folder.relative_to(root).as_posix()
        unreadable[name] = f"{type(exc).__name__}: {exc.strerror or exc}"

    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=refused):
        dirnames.sort()
        found += (Path(dirpath, n) for n in filenames if Path(n).suffix.lower() in REPORT_SUFFIXES)
    files = []
    for path in found:
        name = path.relative_to(root).as_posix()
        try:
            info = path.stat()
        except FileNotFoundError:
            continue  # vanished between listing and reading; the next load sees the folder as it is
        if not stat.S_ISREG(info.st_mode):
            continue
        before = previous.get(name)
        if before and before[0] == info.st_size and before[1] == info.st_mtime_ns and before[2]:
            digest = before[2]
        else:
            try:
                digest = sha256_file(path)
            except OSError:
                digest = ""  # unreadable: extraction records the error, the store is bypassed
        files.append(ReportFile(name, str(path), digest, info.st_size, info.st_mtime_ns))
    for name, (size, mtime_ns, digest) in previous.items():
        if any(_under(name, folder) for folder in unreadable):
            files.append(ReportFile(name, str(root / name), digest, size, mtime_ns))
    files.sort(key=lambda f: f.name)
    return Scan(files, unreadable)


def _under(name: str, folder: str) -> bool:
    return folder == "." or name.startswith(folder + "/")


def scan_report_files(root: Path, previous: Index | None = None) -> list[ReportFile]:
    """The files of `scan_inputs` (unreadable folders aside)."""
    return scan_inputs(root, previous).files


def index_of(files: Iterable[ReportFile]) -> dict[str, tuple[int, int, str]]:
    return {f.name: (f.size, f.mtime_ns, f.sha256) for f in files}


def write_manifest(files: list[ReportFile], path: Path) -> Path:
    """The files as a Parquet manifest at `path` (written atomically); returns `path`."""
    rows = [
        {**f.__dict__, "name": os.fsencode(f.name), "path": os.fsencode(f.path), "kind": f.kind}
        for f in files
    ]
    table = pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)
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
        return [
            ReportFile(_decode(r["name"]), _decode(r["path"]), r["sha256"], r["size"], r["mtime_ns"])
            for r in rows
        ]
    except (OSError, pa.ArrowException, KeyError, TypeError):
        return []


def _decode(value: bytes | str) -> str:
    return value if isinstance(value, str) else os.fsdecode(value)


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
            # dotfiles are tool state, not project code (dbt writes .user.yml on its first CLI run)
            if Path(name).suffix in suffixes and not name.startswith("."):
                path = Path(dirpath, name)
                digest.update(path.relative_to(root).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]
