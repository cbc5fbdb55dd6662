"""Reliability of the load: bounded extraction, bad input, atomic publish under readers, kill -9;
second round: operator faults (names that are not UTF-8, unreadable folders, an emptied share,
store entries that do not verify, foreign writers, two loads at once, a full disk, a dying step).

Real processes, real files, real DuckDB files, real Dagster and dbt; nothing is mocked. Loads run
in-process (`run_load`, conftest) or as `python -m orchestration.load` subprocesses (what `make
run` runs), with DATA_RAW_DIR / WAREHOUSE_PATH / DAGSTER_HOME pointing into temp dirs.

Idempotency is covered in two places: two loads in a row giving identical tables is
test_orchestration.py::test_second_load_extracts_nothing_and_gives_identical_tables; a changed file
replacing its rows and a removed file's rows disappearing is checked in the staging tables there
(test_changed_new_removed_and_duplicate_files) and in the published marts here
(test_readers_see_old_or_new_load_never_a_partial_one).
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import zlib
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLES_DIR, copy_samples, project_instance, run_load, settings_for
from paths import REPO

from extract import sha256_file
from orchestration.extraction import extract_files
from orchestration.inputs import scan_report_files
from orchestration.staging import TABLES, land
from orchestration.workers import Limits, run_bounded

SINGLE = SAMPLES_DIR / "pdf" / "single"
GOOD_PDF = SINGLE / "jd-01_lattice_compact.pdf"
GOOD_TEXT = SAMPLES_DIR / "text" / "jd-03.txt"
LOAD_TIMEOUT_S = 900  # a full load takes ~30 s alone, minutes on a busy shared machine

# ------------------------------------------------------------------ generated pathological PDFs


def pdf_bytes(pages: int, content: bytes, declared_pages: int | None = None) -> bytes:
    """A minimal valid PDF: `pages` pages sharing one Flate-compressed content stream (Helvetica).
    `declared_pages` sets the page tree's /Count (a lying count) when given."""
    objects = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: b"<< /Type /Pages /Count %d /Kids [ %s ] >>"
        % (declared_pages or pages, b" ".join(b"%d 0 R" % (5 + i) for i in range(pages))),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    }
    data = zlib.compress(content, 9)
    objects[4] = b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream" % (len(data), data)
    for i in range(pages):
        objects[5 + i] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [ 0 0 595 842 ] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
        )
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number, body in objects.items():
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offsets[n] for n in sorted(objects))
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def many_pages_pdf(pages: int) -> bytes:
    return pdf_bytes(pages, b"BT /F1 12 Tf 72 720 Td (page) Tj ET")


def huge_stream_pdf(glyphs: int = 1_000_000) -> bytes:
    """One page whose content stream draws `glyphs` characters: a ~3 KB file that takes pdfminer
    ~30 s and gigabytes to lay out (measured: 100k glyphs ≈ 3 s, 260 MB)."""
    line = b"BT /F1 1 Tf 10 10 Td (" + b"x" * 100 + b") Tj ET\n"
    return pdf_bytes(1, line * (glyphs // 100))


# ------------------------------------------------------------------ bounded worker processes

# Run in the bounded worker processes, which import this module by name to find it.


def act(item: tuple[str, object]):
    what, arg = item
    if what == "square":
        return arg * arg
    if what == "raise":
        raise RuntimeError(arg)
    if what == "kill":
        os.kill(os.getpid(), arg)
    if what == "segfault":
        ctypes.string_at(0)
    if what == "sleep":
        time.sleep(arg)
    if what == "allocate_mb":
        return len(bytearray(arg * 1024 * 1024))
    if what == "mark_and_sleep":
        marker, seconds = arg
        Path(marker).write_text(str(os.getpid()))
        time.sleep(seconds)
    if what == "pid":
        return os.getpid()
    return None


def test_a_dying_hanging_or_raising_worker_costs_only_its_own_item():
    items = [
        ("square", 3),
        ("kill", signal.SIGKILL),
        ("segfault", None),
        ("raise", "boom"),
        ("sleep", 60),
        ("allocate_mb", 4000),
        ("square", 4),
    ]
    outcomes = dict(run_bounded(act, items, Limits(timeout_s=3, memory_mb=1000), max_workers=2))
    kinds = {items[i][0]: (o.kind, o.value) for i, o in outcomes.items()}
    assert sorted(outcomes) == list(range(len(items)))
    assert kinds["square"] == ("ok", 16) and outcomes[0].kind == "ok" and outcomes[0].value == 9
    assert kinds["kill"] == ("died", -signal.SIGKILL)
    assert kinds["segfault"] == ("died", -signal.SIGSEGV)
    assert kinds["raise"] == ("error", "RuntimeError: boom")
    assert kinds["sleep"] == ("timeout", None)
    assert kinds["allocate_mb"] == ("memory", None)  # the sleeper's timeout proves the time bound


def test_workers_are_reused_across_items():
    outcomes = dict(
        run_bounded(act, [("pid", None)] * 20, Limits(timeout_s=30, memory_mb=None), max_workers=2)
    )
    pids = {o.value for o in outcomes.values()}
    assert len(outcomes) == 20 and all(o.kind == "ok" for o in outcomes.values())
    assert len(pids) <= 2, f"{len(pids)} processes for 20 items: workers were not reused"


@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="needs Linux /proc")
def test_a_worker_of_a_heavy_forkserver_keeps_its_whole_memory_bound():
    """In a process whose forkserver (one per process) was started for Dagster's step processes
    (the definitions preloaded, over 1 GB of address space), the workers fork from it: the bound
    counts what an item adds, so 600 MB fit under 1,000 MB and 1,500 MB do not."""
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from multiprocessing import forkserver
        from orchestration.defs.resources import STEP_PRELOAD
        forkserver.set_forkserver_preload(STEP_PRELOAD)
        forkserver.ensure_running()
        from orchestration.workers import Limits, run_bounded
        from test_reliability import act
        items = [("allocate_mb", 600), ("allocate_mb", 1500)]
        outcomes = dict(run_bounded(act, items, Limits(timeout_s=120, memory_mb=1000)))
        print([outcomes[i].kind for i in range(2)])
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[-2] == "['ok', 'memory']"


def test_the_page_limit_reaches_the_workers_and_not_the_caller(tmp_path):
    from orchestration.settings import Settings

    limits = Settings(extract_max_pages=7).limits()
    outcomes = dict(run_bounded(os.getenv, ["EXTRACT_MAX_PAGES"], limits))
    assert outcomes[0].value == "7"
    assert os.environ.get("EXTRACT_MAX_PAGES") != "7"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie waiting for a reaper is gone for our purposes


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_workers_do_not_outlive_a_killed_load(tmp_path):
    """kill -9 of the process running the extraction: its worker processes go too."""
    markers = [tmp_path / "a.pid", tmp_path / "b.pid"]
    script = textwrap.dedent(
        f"""
        import sys
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from orchestration.workers import Limits, run_bounded
        from test_reliability import act
        items = [("mark_and_sleep", (m, 120)) for m in {[str(m) for m in markers]!r}]
        list(run_bounded(act, items, Limits(timeout_s=300, memory_mb=None), max_workers=2))
        """
    )
    caller = subprocess.Popen([sys.executable, "-c", script], cwd=REPO)
    try:
        deadline = time.monotonic() + 60
        while not all(m.exists() and m.read_text() for m in markers):
            assert caller.poll() is None, "the caller ended early"
            assert time.monotonic() < deadline, "workers never started"
            time.sleep(0.05)
        workers = [int(m.read_text()) for m in markers]
        assert all(_alive(pid) for pid in workers)
    finally:
        caller.kill()
        caller.wait()
    deadline = time.monotonic() + 15
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers), "worker processes outlived the killed caller"


def _entry(entries: list[tuple[str, str]], name: str) -> dict:
    [path] = [entry for file, entry in entries if file == name]
    [row] = pq.read_table(path).to_pylist()
    return row


def test_memory_bound_gives_too_large_and_the_other_files_are_read(tmp_path):
    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    (data_raw / "huge_stream.pdf").write_bytes(huge_stream_pdf())
    shutil.copy(GOOD_PDF, data_raw / "good.pdf")
    store_root = tmp_path / "store"
    # the bound is what a file adds to the worker's address space: a sample needs less than
    # 150 MB, huge_stream.pdf gigabytes (at 800 MB it sometimes fits, at 250 MB never: measured)
    limits = Limits(timeout_s=120, memory_mb=250)
    entries, stats = extract_files(scan_report_files(data_raw), store_root, tmp_path / "run", limits)
    assert sorted(stats.read) == ["good.pdf", "huge_stream.pdf"]
    [error] = _entry(entries, "huge_stream.pdf")["errors"]
    assert error["error_class"] == "too_large"
    assert "250 MB" in error["message"] or "memory" in error["message"]
    assert error["sha256"] == sha256_file(data_raw / "huge_stream.pdf")
    good = _entry(entries, "good.pdf")
    assert len(good["forms"]) == 1 and not good["errors"]
    # a bound that was hit is not stored: a later load with a higher limit reads the file again
    stored = {p.name.split("-")[0] for p in store_root.rglob("*.parquet")}
    assert stored == {sha256_file(data_raw / "good.pdf")}
    again, stats = extract_files(scan_report_files(data_raw), store_root, tmp_path / "run2", limits)
    assert stats.read == ["huge_stream.pdf"] and stats.store_hits == 1


def _process_reading(path: Path, timeout_s: float = 60) -> int:
    """The pid of the process that has `path` open (a worker reading it), waiting for one."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for pid in filter(str.isdigit, os.listdir("/proc")):
            # a process may end between listing /proc and reading its fds
            try:
                fds = os.listdir(f"/proc/{pid}/fd")
            except OSError:
                continue
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{pid}/fd/{fd}") == str(path):
                        return int(pid)
                except OSError:
                    continue
        time.sleep(0.1)
    raise AssertionError(f"no process opened {path}")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_killed_worker_costs_its_file_only_and_the_file_is_read_again_next_time(tmp_path):
    """kill -9 of the worker process reading one file, in the middle of a batch."""
    import threading

    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    shutil.copy(GOOD_PDF, data_raw / "a_good.pdf")
    (data_raw / "b_slow.pdf").write_bytes(huge_stream_pdf())  # ~30 s of layout: long enough to kill
    shutil.copy(GOOD_TEXT, data_raw / "c_good.txt")
    files = scan_report_files(data_raw)
    store_root = tmp_path / "store"
    killed: list[int] = []

    def kill() -> None:
        worker = _process_reading(data_raw / "b_slow.pdf")
        os.kill(worker, signal.SIGKILL)
        killed.append(worker)

    killer = threading.Thread(target=kill)
    killer.start()

    limits = Limits(timeout_s=120, memory_mb=None)
    entries, stats = extract_files(files, store_root, tmp_path / "run", limits, max_workers=1)
    assert killed, "no worker was found to kill"
    [error] = _entry(entries, "b_slow.pdf")["errors"]
    assert (error["error_class"], error["message"]) == (
        "form_unreadable",
        "extraction process died (killed by signal SIGKILL)",
    )
    assert len(_entry(entries, "a_good.pdf")["forms"]) == 1
    assert len(_entry(entries, "c_good.txt")["forms"]) == 1  # read by a fresh worker after the kill
    # the crash is not the file's result: the next extraction reads it again
    _, again = extract_files(files, store_root, tmp_path / "run2", Limits(timeout_s=2, memory_mb=None))
    assert again.read == ["b_slow.pdf"] and again.store_hits == 2


def test_pathological_files_become_one_error_row_each_and_the_load_completes(tmp_path):
    from test_orchestration import _stage_only

    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    (data_raw / "many_pages.pdf").write_bytes(many_pages_pdf(300))
    (data_raw / "lying_page_count.pdf").write_bytes(pdf_bytes(120, b"", declared_pages=1))
    (data_raw / "huge_stream.pdf").write_bytes(huge_stream_pdf())
    shutil.copy(GOOD_PDF, data_raw / "good.pdf")
    shutil.copy(GOOD_TEXT, data_raw / "good.txt")
    # the good files take ~0.2 s, huge_stream.pdf ~30 s: a 10 s bound (no time per page) tells
    # them apart on a busy machine too. No memory bound: this is the time bound's case (the memory
    # bound has its own test); under one, huge_stream.pdf once ran out of 2,048 MB within the 10 s
    # in a full suite though not alone (how much address space its worker started with, which
    # earlier tests in the same process may change, is the likely cause: not confirmed)
    bounds = {
        "extract_max_pages": 100,
        "extract_timeout_s": 10,
        "extract_timeout_per_page_s": 0,
        "extract_memory_mb": 0,
    }

    result, reports, errors = _stage_only(data_raw, tmp_path / "warehouse" / "warehouse.duckdb", **bounds)
    assert result.success
    assert sorted(errors) == [
        ("huge_stream.pdf", "timeout"),
        ("lying_page_count.pdf", "too_large"),
        ("many_pages.pdf", "too_large"),
    ]
    assert sorted(r[1] for r in reports) == ["good.pdf", "good.txt"]


def test_limits_from_the_environment():
    from orchestration.settings import Settings, SettingsError

    defaults = Settings.from_env({}).limits()
    assert (defaults.timeout_s, defaults.memory_mb, defaults.env) == (
        300,
        2048,
        (("EXTRACT_MAX_PAGES", "5000"),),
    )
    assert defaults.timeout_for(10) == 300 + 20 * 10  # a long scan: seconds of OCR a page
    limits = Settings.from_env(
        {
            "EXTRACT_TIMEOUT_S": "0.5",
            "EXTRACT_MEMORY_MB": "0",
            "EXTRACT_MAX_PAGES": "9",
            "EXTRACT_TIMEOUT_PER_PAGE_S": "0",
        }
    ).limits()
    assert limits == Limits(0.5, None, (("EXTRACT_MAX_PAGES", "9"),))  # 0: no memory bound
    assert Settings.from_env({"EXTRACT_TIMEOUT_S": "0"}).limits().timeout_for(10) is None
    for bad in ("abc", "-1", "nan", "inf", "1e999"):
        with pytest.raises(SettingsError, match="EXTRACT_TIMEOUT_S"):
            Settings.from_env({"EXTRACT_TIMEOUT_S": bad})
    # a count is a whole number: 1.5 pages would refuse every PDF of two
    for variable, bad in (
        ("EXTRACT_MAX_PAGES", "1.5"),
        ("EXTRACT_MEMORY_MB", "inf"),
        ("EXTRACT_WORKERS", "1e30"),
    ):
        with pytest.raises(SettingsError, match=f"^{variable}={bad}: .*integer"):
            Settings.from_env({variable: bad})
    # the message says what the variable means, 0 included
    with pytest.raises(SettingsError, match=r"LOAD_PROGRESS_S=-2: .*\(.*0: one per file\.\)$"):
        Settings.from_env({"LOAD_PROGRESS_S": "-2"})
    with pytest.raises(SettingsError) as bad_executor:
        Settings.from_env({"LOAD_EXECUTOR": "spark"})
    assert str(bad_executor.value) == "LOAD_EXECUTOR=spark: expected one of multiprocess, in_process, dask"
    # each shard is a step of the graph: a million would hang the definitions, not fail
    for variable in ("EXTRACT_SHARDS", "EXTRACT_WORKERS"):
        with pytest.raises(SettingsError, match=f"^{variable}=1000000: .*less than or equal to 1024"):
            Settings.from_env({variable: "1000000"})
    # the store is a folder: an object-store URL would become a folder named "s3:" here
    with pytest.raises(SettingsError, match=r"^EXTRACT_STORE=s3://bucket/x: .*not a s3:// URL"):
        Settings.from_env({"EXTRACT_STORE": "s3://bucket/x"})
    assert Settings.from_env({"EXTRACT_STORE": "file:///srv/store"}).store_root == Path("/srv/store")


def test_page_limit_is_checked_before_pages_are_parsed(tmp_path):
    from extract import extract_file

    # one page under a tree that declares 30,000: walking the tree (~10 s for a real 30,000)
    # would find the one page and read it; the declared /Count refuses the file first
    path = tmp_path / "many.pdf"
    path.write_bytes(pdf_bytes(1, b"BT /F1 12 Tf 72 720 Td (page) Tj ET", declared_pages=30_000))
    [error] = extract_file(path).errors
    assert (error.error_class, error.message) == ("too_large", "30000 pages, over the limit of 5000")


# ------------------------------------------------------------------ a load over bad input


def test_bad_input_load_completes_with_one_error_row_per_bad_file(tmp_path, loaded_warehouse):
    import random

    import dagster as dg

    from orchestration.defs.assets.checks import EXTRACTION_ERRORS_CHECK, STG_REPORTS
    from sample_pdfs import write_bad_inputs
    from sample_pdfs.bad_inputs import DEMO_RECORD, EXPECTED_ERROR_CLASS

    data_raw = copy_samples(tmp_path / "data_raw")
    incoming = data_raw / "incoming"
    written = write_bad_inputs(incoming)
    expected = {f"incoming/{written[kind].name}": error for kind, error in EXPECTED_ERROR_CLASS.items()}
    # garbled text dumps that are valid UTF-8: lines shuffled, and mojibake (UTF-8 read as Latin-1)
    dump = (SAMPLES_DIR / "text" / "jd-05.txt").read_text(encoding="utf-8")
    lines = dump.splitlines()
    random.Random(6).shuffle(lines)
    (incoming / "shuffled dump.txt").write_text("\n".join(lines), encoding="utf-8")
    (incoming / "mojibake.txt").write_text(dump.encode("utf-8").decode("latin-1"), encoding="utf-8")
    expected |= {"incoming/shuffled dump.txt": "scrambled_text", "incoming/mojibake.txt": "no_form"}
    # the same report twice, under two names
    shutil.copy(SINGLE / "jd-04_scrambled.pdf", incoming / "jd-04 副本.pdf")

    result = run_load(data_raw, tmp_path / "warehouse" / "warehouse.duckdb")
    assert result.success, [e.event_specific_data for e in result.get_step_failure_events()]
    con = duckdb.connect(str(tmp_path / "warehouse" / "warehouse.duckdb"), read_only=True)
    try:
        errors = con.execute("SELECT file, sha256, error_class, message FROM raw.extract_errors").fetchall()
        reports = con.execute("SELECT report_id, source_files, project_name FROM raw.reports").fetchall()
        dim_reports = con.execute("SELECT count(*) FROM marts.dim_reports").fetchone()[0]
    finally:
        con.close()

    # every bad file is exactly one error row, with its sha256 and a message
    assert sorted((file, error_class) for file, _, error_class, _ in errors) == sorted(expected.items())
    for file, sha256, _, message in errors:
        assert sha256 == sha256_file(data_raw / file) and message, file

    # every good form is there: the sample forms as in the plain sample load, plus the demo form
    # under a Chinese name with spaces; the duplicate is one report listing both names
    baseline = {row[0] for row in loaded_warehouse.rows("SELECT report_id FROM raw.reports")}
    by_id = {rid: (files, name) for rid, files, name in reports}
    assert baseline <= set(by_id)
    [extra] = set(by_id) - baseline
    assert by_id[extra] == (["incoming/嘉定 区 报告.pdf"], DEMO_RECORD["project_name"])
    [copies] = [files for files, _ in by_id.values() if "incoming/jd-04 副本.pdf" in files]
    assert copies == ["incoming/jd-04 副本.pdf", "pdf/single/jd-04_scrambled.pdf"]
    assert dim_reports == loaded_warehouse.scalar("SELECT count(*) FROM marts.dim_reports") + 1

    # the count shows as a failed WARN check on raw/reports in the Dagster UI
    [check] = [
        e
        for e in result.get_asset_check_evaluations()
        if e.asset_key == STG_REPORTS and e.check_name == EXTRACTION_ERRORS_CHECK
    ]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert check.metadata["errors"].value == check.metadata["files_with_errors"].value == len(expected)


# ------------------------------------------------------------------ readers during a load; kill -9

STATE_SQL = (
    "SELECT (SELECT count(*) FROM marts.dim_reports), (SELECT count(*) FROM marts.fct_funding_execution), "
    "(SELECT string_agg(report_id, ',' ORDER BY report_id) FROM marts.dim_reports)"
)

# An analyst's process: queries the published warehouse in a loop until the stop file appears,
# writing one JSON line per query. mode "held": one read-only connection opened at the start and
# kept open throughout; "fresh": a new read-only connection for every query.
READER = """
import duckdb, json, os, sys, time
path, stop, out, mode, sql = sys.argv[1:6]
held = duckdb.connect(path, read_only=True) if mode == "held" else None
with open(out, "w") as fh:
    while True:
        stopping = os.path.exists(stop)
        try:
            con = held or duckdb.connect(path, read_only=True)
            try:
                row = list(con.execute(sql).fetchone())
            finally:
                if con is not held:
                    con.close()
        except Exception as exc:
            row = ["error", f"{type(exc).__name__}: {exc}"]
        fh.write(json.dumps(row) + "\\n")
        fh.flush()
        if stopping:
            break
        time.sleep(0.05)
"""


class Live:
    """A data folder, its published warehouse and a Dagster home, shared by the tests below."""

    def __init__(self, root: Path):
        self.root = root
        self.data_raw = root / "data_raw"
        self.warehouse = root / "warehouse" / "warehouse.duckdb"
        self.build = self.warehouse.parent / ".build" / self.warehouse.name
        self.dagster_home = root / "dagster_home"

    def state(self) -> list:
        """(forms, funding rows, report ids) of the published marts, on a new connection."""
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return list(con.execute(STATE_SQL).fetchone())
        finally:
            con.close()

    def rows(self, sql: str) -> list[tuple]:
        con = duckdb.connect(str(self.warehouse), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    def start_load(self, log: Path, prefix: tuple[str, ...] = (), **extra_env: str) -> subprocess.Popen:
        """`python -m orchestration.load` (what `make run` runs) in its own process group, run
        through `prefix` (e.g. setpriv) with `extra_env` added to its environment. A process per
        step, however few files it reads, unless `extra_env` sets LOAD_IN_PROCESS_FILES."""
        env = {
            **os.environ,
            "DATA_RAW_DIR": str(self.data_raw),
            "WAREHOUSE_PATH": str(self.warehouse),
            "DAGSTER_HOME": str(self.dagster_home),
            "LOAD_IN_PROCESS_FILES": "0",
            **extra_env,
        }
        env.pop("WAREHOUSE_BUILD_PATH", None)
        with open(log, "w") as out:
            return subprocess.Popen(
                [*prefix, sys.executable, "-m", "orchestration.load"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def load(self, log: Path, expect: int = 0, prefix: tuple[str, ...] = (), **extra_env: str) -> str:
        """Run a command-line load to its end; returns its output (stdout and stderr), asserting
        its exit status is `expect` (0: and that it published)."""
        process = self.start_load(log, prefix, **extra_env)
        return self.finish(process, log, expect)

    def finish(self, process: subprocess.Popen, log: Path, expect: int = 0) -> str:
        try:
            code = process.wait(LOAD_TIMEOUT_S)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        output = log.read_text(encoding="utf-8", errors="replace")
        assert code == expect, output[-3000:]
        if expect == 0:
            assert "Load published" in output or "up to date" in output, output[-3000:]
        return output


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Live:
    """Three single-form PDFs loaded and published (in-process), and a Dagster home like `make run`'s."""
    live = Live(tmp_path_factory.mktemp("live"))
    live.data_raw.mkdir()
    for name in ("a.pdf", "b.pdf", "c.pdf"):
        source = {"a.pdf": "jd-01_lattice_compact.pdf", "b.pdf": "jd-05_hrules_ordered.pdf"}
        shutil.copy(SINGLE / source.get(name, "sj-04_lattice.pdf"), live.data_raw / name)
    live.dagster_home.mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.yaml", live.dagster_home / "dagster.yaml")
    result = run_load(live.data_raw, live.warehouse)
    assert result.success
    return live


def _start_reader(live: Live, mode: str, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / f"reader-{mode}.jsonl"
    args = [str(live.warehouse), str(tmp_path / "stop"), str(out), mode, STATE_SQL]
    process = subprocess.Popen([sys.executable, "-c", READER, *args])
    deadline = time.monotonic() + 60
    while not (out.exists() and out.read_text().strip()):
        assert process.poll() is None and time.monotonic() < deadline, "reader did not start"
        time.sleep(0.05)
    return process, out


def _observations(out: Path) -> list[list]:
    return [json.loads(line) for line in out.read_text().splitlines()]


def test_readers_see_old_or_new_load_never_a_partial_one(live, tmp_path):
    old = live.state()
    old_b = live.rows("SELECT report_id FROM marts.dim_reports WHERE source_file = 'b.pdf'")
    old_ids = dict(live.rows("SELECT source_file, report_id FROM raw.reports"))
    # between the loads: b.pdf changes content, c.pdf is removed, d.pdf and e.pdf are new, and
    # a.pdf arrives again under a second name
    shutil.copy(live.data_raw / "a.pdf", live.data_raw / "z 副本.pdf")
    shutil.copy(SINGLE / "jd-07_lattice_compact.pdf", live.data_raw / "b.pdf")
    (live.data_raw / "c.pdf").unlink()
    shutil.copy(SINGLE / "jd-04_scrambled.pdf", live.data_raw / "d.pdf")
    shutil.copy(SINGLE / "sj-02_hrules_ordered.pdf", live.data_raw / "e.pdf")

    readers = [_start_reader(live, mode, tmp_path) for mode in ("held", "fresh")]
    try:
        # succeeds although a reader holds the warehouse open; few files to read: in one process
        output = live.load(tmp_path / "load.log", LOAD_IN_PROCESS_FILES="20")
        time.sleep(0.3)  # a few more queries after the publish
    finally:
        (tmp_path / "stop").touch()
        for process, _ in readers:
            process.wait(60)
    new = live.state()
    held, fresh = (_observations(out) for _, out in readers)
    assert "files to read: every step in this process" in output and "in subprocess" not in output

    assert new != old and new[0] == old[0] + 1
    # the connection held across the load kept reading the previous complete load
    assert held and all(row == old for row in held), [r for r in held if r != old][:3]
    # new connections saw the old load, then the new one, never anything else (no error, no
    # missing table, no half-built mart), and never went back
    assert all(row in (old, new) for row in fresh), [r for r in fresh if r not in (old, new)][:3]
    assert fresh[0] == old and fresh[-1] == new
    switch = fresh.index(new)
    assert all(row == new for row in fresh[switch:])

    # the changed file's rows are replaced, the removed file's rows are gone, in staging and marts
    sources = {row[0] for row in live.rows("SELECT source_file FROM marts.dim_reports")}
    assert sources == {"a.pdf", "b.pdf", "d.pdf", "e.pdf"}
    new_b = live.rows("SELECT report_id, project_name FROM marts.dim_reports WHERE source_file = 'b.pdf'")
    assert len(new_b) == 1 and new_b[0][0] != old_b[0][0]
    assert old_b[0][0] not in new[2].split(",")
    for table in ("reports", "funding_lines", "indicators", "checks"):
        stale = live.rows(f"SELECT count(*) FROM raw.{table} WHERE report_id = '{old_b[0][0]}'")
        assert stale == [(0,)], table
    assert live.rows("SELECT count(*) FROM raw.reports WHERE list_contains(source_files, 'c.pdf')") == [(0,)]
    # what changed, by report_id, for dbt models that rebuild only that
    new_ids = dict(live.rows("SELECT source_file, report_id FROM raw.reports"))
    assert dict(live.rows("SELECT report_id, change FROM loader.report_changes")) == {
        old_ids["a.pdf"]: "updated",  # same content, one more name
        old_ids["b.pdf"]: "removed",
        new_ids["b.pdf"]: "added",
        old_ids["c.pdf"]: "removed",
        new_ids["d.pdf"]: "added",
        new_ids["e.pdf"]: "added",
    }
    # the reload landed only the changed files on a copy of the last load: the rows of landing all
    assert live.rows("SELECT builds_on_published FROM loader.load_state") == [(True,)]
    landed = {t: live.rows(f"SELECT * FROM raw.{t} ORDER BY ALL") for t in TABLES}
    full = duckdb.connect()
    full.execute("CREATE TABLE e (name VARCHAR, entry VARCHAR)")
    full.executemany(
        "INSERT INTO e VALUES (?, ?)", live.rows("SELECT name, entry FROM loader.landed_entries")
    )
    land(full, "e")
    assert {t: full.execute(f"SELECT * FROM raw.{t} ORDER BY ALL").fetchall() for t in TABLES} == landed
    full.close()


def test_a_load_killed_mid_way_leaves_the_last_warehouse_and_the_next_load_recovers(
    live, tmp_path, monkeypatch
):
    before = live.state()
    # a form in neither state of the folder the tests leave: a completed load would change the marts
    shutil.copy(SAMPLES_DIR / "text" / "jd-09.txt", live.data_raw / "f.txt")

    process = live.start_load(tmp_path / "killed.log")
    try:
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while not live.build.exists():  # the load is building its next warehouse
            assert process.poll() is None, (tmp_path / "killed.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "no build file appeared"
            time.sleep(0.02)
        time.sleep(0.5)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # kill -9 the load and everything it started
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert live.build.exists(), "the killed load left its half-built file behind"
    assert "Load published" not in (tmp_path / "killed.log").read_text()

    assert live.state() == before  # the last published warehouse, readable and unchanged

    output = live.load(tmp_path / "recovery.log")  # no manual step in between
    # The killed run no longer holds the instance's one-run queue (sensor and schedule loads).
    assert "its load process is gone" in output
    instance = project_instance(live.dagster_home, monkeypatch)
    statuses = {r.status for r in instance.get_runs()}
    assert dg.DagsterRunStatus.STARTED not in statuses and dg.DagsterRunStatus.FAILURE in statuses
    after = live.state()
    assert after[0] == before[0] + 1
    assert live.rows("SELECT count(*) FROM marts.dim_reports WHERE source_file = 'f.txt'") == [(1,)]
    assert not live.build.exists()
    # every file but f.txt was taken as the published warehouse had landed it, unverified
    as_landed = re.findall(r"\((\d+) as the published warehouse was landed from them\)", output)
    assert sum(map(int, as_landed)) == len(list(live.data_raw.iterdir())) - 1, output[-3000:]


# ------------------------------------------------------------------ second round: operator faults

TEXT = SAMPLES_DIR / "text"
GBK_NAME = os.fsdecode("中文报告".encode("gbk") + b".txt")  # a name written by a Windows tool in GBK
NEWLINE_NAME = "forged\n12:00:00 report_files: all good.txt"  # a name that would forge a log line
# Run as root, permission bits do not stop a read; without these capabilities they do.
AS_OPERATOR = (
    ("setpriv", "--bounding-set", "-dac_override,-dac_read_search")
    if os.geteuid() == 0 and shutil.which("setpriv")
    else ()
)


@pytest.fixture(scope="module")
def share(tmp_path_factory) -> Live:
    """Four text dumps (one in a sub-folder, one under a GBK name, one whose name holds a newline)
    and a PDF of one of their forms, loaded and published by `python -m orchestration.load`: the
    first test of names, shared by the tests below."""
    share = Live(tmp_path_factory.mktemp("share"))
    (share.data_raw / "sub").mkdir(parents=True)
    shutil.copy(TEXT / "jd-03.txt", share.data_raw / "a.txt")
    shutil.copy(TEXT / "jd-05.txt", share.data_raw / "sub" / "b.txt")
    shutil.copy(TEXT / "jd-06.txt", share.data_raw / GBK_NAME)
    shutil.copy(TEXT / "jd-07.txt", share.data_raw / NEWLINE_NAME)
    shutil.copy(
        SINGLE / "jd-05_hrules_ordered.pdf", share.data_raw / "jd-05.pdf"
    )  # a copy of sub/b.txt's form
    share.dagster_home.mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.yaml", share.dagster_home / "dagster.yaml")
    # a progress line per file, so the newline-named file's line is printed (escaped)
    share.first_output = share.load(share.root / "first.log", LOAD_PROGRESS_S="0")
    return share


@pytest.mark.slow
def test_the_console_shows_what_the_steps_say_and_the_event_log_keeps_every_event(share, monkeypatch):
    """With the project's dagster.yaml (what `make run` uses), the DEBUG bookkeeping each step
    process of the multiprocess executor logs ("Executing step X in subprocess") stays off the
    load's console; the run's event log still holds it."""
    assert " - DEBUG - " not in share.first_output, share.first_output[-3000:]
    instance = project_instance(share.dagster_home, monkeypatch)
    first = instance.get_runs()[-1]  # newest first: the fixture's load
    started = instance.all_logs(first.run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTED)
    assert {e.step_key for e in started} >= {"report_files", "staging_tables", "dbt_models"}


@pytest.mark.slow
def test_file_names_that_are_not_utf8_or_hold_control_characters_load_and_are_shown_escaped(share):
    output = share.first_output
    names = {row[0] for row in share.rows("SELECT source_file FROM raw.reports")}
    # "中文报告" in GBK is d6d0 cec4 b1a8 b8e6, of which c4b1 happens to be UTF-8 (ı); the rest is not
    gbk = r"\xd6\xd0\xce" + "ı" + r"\xa8\xb8\xe6.txt"
    assert names == {"a.txt", "sub/b.txt", gbk, NEWLINE_NAME.replace("\n", r"\n"), "jd-05.pdf"}
    # the summary counts printed forms (copies merged, as the marts do) apart from copies read
    assert "forms:          4 (copies merged; see marts.dim_reports)" in output
    assert "copies:         5 forms read in 5 files" in output
    # the newline never reaches a log line: no line of the output starts with the forged text
    assert r"forged\n12:00:00" in output
    assert not any(line.startswith("12:00:00 report_files: all good") for line in output.splitlines())
    # nothing half-written is left in the store, and the next load finds every result there
    store = share.warehouse.parent / "extract_store"
    assert not list(store.rglob(".tmp-*"))
    again = share.load(share.root / "again.log")
    assert "Warehouse up to date; nothing loaded" in again


@pytest.mark.skipif(
    os.geteuid() == 0 and not AS_OPERATOR, reason="root reads any folder; no setpriv to drop that"
)
def test_an_unreadable_sub_folder_is_an_error_row_and_its_forms_are_kept(share, tmp_path):
    before = share.rows("SELECT report_id, source_file FROM raw.reports ORDER BY 1")
    locked = share.data_raw / "locked.txt"
    shutil.copy(TEXT / "jd-09.txt", locked)
    (share.data_raw / "sub").chmod(0)
    locked.chmod(0)
    try:
        output = share.load(tmp_path / "unreadable.log", prefix=AS_OPERATOR)
    finally:
        (share.data_raw / "sub").chmod(0o755)
        locked.chmod(0o644)
        locked.unlink()
    assert "folder sub of DATA_RAW_DIR cannot be read (PermissionError: Permission denied)" in output
    # the sub-folder's form, loaded last time, is still there; the folder and the file are error rows
    assert share.rows("SELECT report_id, source_file FROM raw.reports ORDER BY 1") == before
    errors = share.rows("SELECT file, error_class, message FROM raw.extract_errors ORDER BY 1")
    assert [(f, c) for f, c, _ in errors] == [("locked.txt", "form_unreadable"), ("sub/", "not_found")]
    assert "1 file(s) it held at the last scan are kept" in errors[1][2]
    # error rows name files relative to DATA_RAW_DIR, never with the machine's path
    assert all(str(share.root) not in message for _, _, message in errors), errors


@pytest.mark.slow
def test_an_empty_data_raw_dir_is_refused_before_any_run_and_the_warehouse_kept(share, tmp_path, monkeypatch):
    from orchestration.plan import LoadRefused, plan_load

    before = share.rows("SELECT report_id FROM raw.reports ORDER BY 1")
    instance = project_instance(share.dagster_home, monkeypatch)
    runs = len(instance.get_runs())
    empty = tmp_path / "not_mounted"
    empty.mkdir()  # the mount point of a share that is not mounted
    output = share.load(tmp_path / "empty.log", expect=1, DATA_RAW_DIR=str(empty))
    assert "error: DATA_RAW_DIR holds 0 report file(s), the published warehouse was built from" in output
    assert "ALLOW_SHRINK=1" in output and "nothing was published" in output
    # refused by the plan: no Dagster run was created, so no step failed and none is in the history
    assert "step report_files failed" not in output and "LOAD FAILED" not in output
    assert len(instance.get_runs()) == runs
    assert "mart rows:" not in output, "a refused load prints no summary (it would be the previous load's)"
    assert share.rows("SELECT report_id FROM raw.reports ORDER BY 1") == before
    # the plan refuses for every launcher, unless the operator allows the smaller warehouse
    with pytest.raises(LoadRefused, match="holds 0 report file"):
        plan_load(settings_for(empty, share.warehouse))
    allowed = plan_load(settings_for(empty, share.warehouse, allow_shrink=True))
    assert allowed.files == [] and allowed.published_files
    # a run started by the UI or the sensor is refused by its first step, with the same reason
    result = run_load(empty, share.warehouse)
    assert not result.success
    (failure,) = result.get_step_failure_events()
    assert failure.step_key == "report_files"
    assert "holds 0 report file(s)" in failure.step_failure_data.error.message
    assert share.rows("SELECT report_id FROM raw.reports ORDER BY 1") == before


@pytest.mark.slow
def test_a_load_that_reads_too_few_report_copies_is_refused_and_the_warehouse_kept(share, tmp_path):
    """Every file found, but (nearly) none read: here a 1 MB memory bound over an empty store makes
    every file too_large. Landing it would replace the published marts with empty ones; the
    landing step refuses, naming the error classes, and nothing is published."""
    before = share.rows("SELECT report_id FROM raw.reports ORDER BY 1")
    output = share.load(
        tmp_path / "bound.log", expect=1, EXTRACT_MEMORY_MB="1", EXTRACT_STORE=str(tmp_path / "store")
    )
    assert f"this load read 0 report copies, the published warehouse holds {len(before)}" in output
    assert "too_large" in output and "ALLOW_SHRINK=1" in output and "nothing was published" in output
    assert share.rows("SELECT report_id FROM raw.reports ORDER BY 1") == before


@pytest.mark.slow
def test_error_rows_a_load_from_another_store_published_are_read_again_from_this_one(share, tmp_path):
    """A load from another store (EXTRACT_STORE) in which every file came out too_large, published
    by the operator's word: its error rows are not stored as the files' results, so the next load
    from the first store, which holds them, must land them again rather than call the warehouse
    up to date (the files and the code did not change)."""
    share.load(tmp_path / "first.log")  # the warehouse as the share's files now give it
    before = share.rows("SELECT report_id FROM raw.reports ORDER BY 1")
    errors = share.rows("SELECT file, error_class FROM raw.extract_errors ORDER BY ALL")
    other = {"EXTRACT_STORE": str(tmp_path / "store"), "EXTRACT_MEMORY_MB": "1", "ALLOW_SHRINK": "1"}
    share.load(tmp_path / "other_store.log", **other)
    assert share.rows("SELECT count(*) FROM raw.reports") == [(0,)]
    assert ("too_large",) in share.rows("SELECT DISTINCT error_class FROM raw.extract_errors")
    output = share.load(tmp_path / "back.log")
    assert "up to date" not in output, output[-3000:]
    assert share.rows("SELECT report_id FROM raw.reports ORDER BY 1") == before
    assert share.rows("SELECT file, error_class FROM raw.extract_errors ORDER BY ALL") == errors


def test_the_report_copies_rule_refuses_only_a_shrink_below_the_share():
    from orchestration.plan import SHRINK_MIN_SHARE, reports_shrink_refusal

    assert reports_shrink_refusal(None, 0, {}) is None  # no published warehouse
    assert reports_shrink_refusal(0, 0, {}) is None
    assert reports_shrink_refusal(44, int(SHRINK_MIN_SHARE * 44), {"timeout": 3}) is None
    refusal = reports_shrink_refusal(44, int(SHRINK_MIN_SHARE * 44) - 1, {"too_large": 26, "timeout": 2})
    assert refusal and "holds 44" in refusal and "timeout 2, too_large 26" in refusal


def test_allow_shrink_is_read_from_the_environment():
    from orchestration.settings import Settings, SettingsError

    assert not Settings.from_env({}).allow_shrink
    assert Settings.from_env({"ALLOW_SHRINK": "1"}).allow_shrink
    with pytest.raises(SettingsError, match="ALLOW_SHRINK"):
        Settings.from_env({"ALLOW_SHRINK": "maybe"})


# Holds a read-write connection on a DuckDB file until its stop file appears.
WRITER = """
import duckdb, os, sys, time
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS main.my_notes AS SELECT 1 AS note")
open(sys.argv[2] + ".ready", "w").close()
while not os.path.exists(sys.argv[2]):
    time.sleep(0.05)
"""


@pytest.mark.slow
def test_a_foreign_writer_is_named_and_a_published_load_never_reports_failure(share, tmp_path):
    from orchestration.load import summary
    from orchestration.settings import Settings

    stop = tmp_path / "stop"
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(share.warehouse), str(stop)])
    try:
        deadline = time.monotonic() + 60
        while not Path(str(stop) + ".ready").exists():
            assert writer.poll() is None and time.monotonic() < deadline, "writer did not start"
            time.sleep(0.05)
        # the summary, run while a writer holds the warehouse, says so and does not raise
        text = summary(Settings(data_raw_dir=str(share.data_raw), warehouse_path=str(share.warehouse)))
        assert "cannot be read now for the summary" in text
        # a load would replace the file the writer writes into: it is refused, naming the writer
        shutil.copy(TEXT / "jd-10.txt", share.data_raw / "c.txt")
        output = share.load(tmp_path / "foreign.log", expect=1)
    finally:
        stop.touch()
        writer.wait(60)
        (share.data_raw / "c.txt").unlink(missing_ok=True)
    assert "step report_files failed: PublishError: another process holds a write connection" in output
    assert f"PID {writer.pid}" in output
    assert "nothing was published" in output


def test_a_warehouse_changed_during_a_load_is_not_replaced(tmp_path):
    from orchestration import warehouse
    from orchestration.settings import Settings

    settings = Settings(warehouse_path=str(tmp_path / "w" / "warehouse.duckdb"))
    settings.warehouse.parent.mkdir()
    duckdb.connect(str(settings.warehouse)).close()
    build = warehouse.start_build(settings, "run-1")
    duckdb.connect(str(build)).close()
    con = duckdb.connect(str(settings.warehouse))  # someone writes, and closes, while the load runs
    con.execute("CREATE TABLE notes AS SELECT 1 AS note")
    con.close()
    with pytest.raises(warehouse.PublishError, match="was changed by another process while this load ran"):
        warehouse.publish(settings, "run-1")
    assert duckdb.connect(str(settings.warehouse), read_only=True).execute("FROM notes").fetchall() == [(1,)]


@pytest.mark.slow
def test_two_loads_at_once_one_waits_or_is_refused_naming_the_other(share, tmp_path):
    shutil.copy(TEXT / "jd-11.txt", share.data_raw / "d.txt")
    holder = share.warehouse.with_name(share.warehouse.name + ".load.holder")
    first = share.start_load(tmp_path / "first.log")
    try:
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        while not holder.exists():
            assert first.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the first load never took the lock"
            time.sleep(0.05)
        refused = share.load(tmp_path / "refused.log", expect=1, LOAD_WAIT_S="1")
        waiting = share.start_load(tmp_path / "waiting.log", LOAD_WAIT_S=str(LOAD_TIMEOUT_S))
        share.finish(first, tmp_path / "first.log")
        waited = share.finish(waiting, tmp_path / "waiting.log")
    finally:
        (share.data_raw / "d.txt").unlink()
    assert "run failed: LoadLocked: another load of" in refused
    assert f"pid {first.pid}" in refused and "LOAD_WAIT_S=1" in refused
    assert f"{share.warehouse} is unchanged, still the previous complete load" in refused
    assert "waiting up to" in waited
    assert share.rows("SELECT count(*) FROM raw.reports WHERE source_file = 'd.txt'") == [(1,)]


@pytest.mark.slow
def test_a_first_load_locked_out_says_no_warehouse_is_published_yet(tmp_path):
    from orchestration.lock import warehouse_lock

    fresh = Live(tmp_path)
    fresh.data_raw.mkdir()
    shutil.copy(GOOD_TEXT, fresh.data_raw / "a.txt")
    fresh.dagster_home.mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.yaml", fresh.dagster_home / "dagster.yaml")
    with warehouse_lock(settings_for(fresh.data_raw, fresh.warehouse), "holding-run", wait_s=0):
        output = fresh.load(tmp_path / "locked.log", expect=1, LOAD_WAIT_S="1")
    assert "run failed: LoadLocked: another load of" in output and "run holding-run" in output
    # there is no previous load to keep: the message must not promise one
    assert f"nothing was published: no warehouse has been published at {fresh.warehouse} yet" in output
    assert "previous complete load" not in output
    assert not fresh.warehouse.exists()


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_step_process_that_dies_fails_the_load_and_publishes_nothing(share, tmp_path):
    """Not the whole load killed: only the process of the step writing the build file dies."""
    before = share.rows("SELECT report_id FROM raw.reports ORDER BY 1")
    shutil.copy(TEXT / "jd-18.txt", share.data_raw / "e.txt")
    try:
        process = share.start_load(tmp_path / "crash.log")
        try:
            os.kill(_process_reading(share.build, timeout_s=LOAD_TIMEOUT_S), signal.SIGKILL)
        finally:
            output = share.finish(process, tmp_path / "crash.log", expect=1)
    finally:
        (share.data_raw / "e.txt").unlink()
    assert "LOAD FAILED in step(s)" in output and "nothing was published" in output
    assert share.rows("SELECT report_id FROM raw.reports ORDER BY 1") == before


@pytest.mark.slow
def test_bad_settings_and_a_missing_folder_exit_2_with_the_reason(share, tmp_path):
    output = share.load(tmp_path / "timeout.log", expect=2, EXTRACT_TIMEOUT_S="abc")
    assert "EXTRACT_TIMEOUT_S=abc: Input should be a valid number" in output
    output = share.load(tmp_path / "missing.log", expect=2, DATA_RAW_DIR=str(tmp_path / "nowhere"))
    assert f"DATA_RAW_DIR {tmp_path / 'nowhere'} is not a folder" in output
    (tmp_path / "a_file").write_text("")  # a folder inside a file cannot be made, even by root
    output = share.load(tmp_path / "store.log", expect=2, EXTRACT_STORE=str(tmp_path / "a_file" / "store"))
    assert (
        f"EXTRACT_STORE: the load cannot make or write the folder {tmp_path / 'a_file' / 'store'} "
        f"({tmp_path / 'a_file'} is a file)"
    ) in output
    output = share.load(tmp_path / "folder.log", expect=2, WAREHOUSE_PATH=str(tmp_path))
    assert f"WAREHOUSE_PATH: {tmp_path} is a folder; it names the warehouse's DuckDB file" in output
    output = share.load(
        tmp_path / "dask.log", expect=2, LOAD_EXECUTOR="dask", DASK_SCHEDULER_ADDRESS="scheduler-host"
    )
    assert "DASK_SCHEDULER_ADDRESS=scheduler-host: not a scheduler address" in output


def test_help_prints_the_usage_and_loads_nothing(tmp_path):
    env = {**os.environ, "DATA_RAW_DIR": str(tmp_path / "nowhere")}
    run = [sys.executable, "-m", "orchestration.load"]
    shown = subprocess.run([*run, "--help"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "Exit status" in shown.stdout and "Loading" not in shown.stdout
    wrong = subprocess.run([*run, "--bogus"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert wrong.returncode == 2 and "unrecognized arguments: --bogus" in wrong.stderr


def test_a_dbt_cli_run_beside_the_project_does_not_change_its_code_version(tmp_path):
    """dbt's CLI writes .user.yml into the project on its first run: tool state, not code, so the
    next load is still up to date."""
    from orchestration.inputs import tree_version

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "m.sql").write_text("select 1")
    before = tree_version(tmp_path, {".sql", ".yml"})
    (tmp_path / ".user.yml").write_text("id: 5d1b\n")
    assert tree_version(tmp_path, {".sql", ".yml"}) == before
    (tmp_path / "models" / "m.sql").write_text("select 2")
    assert tree_version(tmp_path, {".sql", ".yml"}) != before


def _mount_tmpfs(where: Path, size: str) -> bool:
    where.mkdir()
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True
    )
    return done.returncode == 0


@pytest.mark.slow
def test_a_full_disk_fails_the_load_naming_step_and_cause(tmp_path):
    full = tmp_path / "full"
    if not _mount_tmpfs(full, "4m"):
        pytest.skip("needs root and a tmpfs mount to make a small disk")
    try:
        live = Live(tmp_path)
        live.warehouse = full / "warehouse.duckdb"
        live.data_raw.mkdir()
        shutil.copy(TEXT / "jd-13.txt", live.data_raw / "a.txt")
        live.dagster_home.mkdir()
        # room for the file index, not for a warehouse
        (full / "ballast").write_bytes(b"\0" * (4 * 1024 * 1024 - 256 * 1024))
        output = live.load(tmp_path / "full.log", expect=1, EXTRACT_STORE=str(tmp_path / "store"))
        [line] = [line for line in output.splitlines() if line.startswith("error: step ")]
        # the step that hit the full disk (landing or dbt, by how much room was left) and the cause
        assert line.startswith(("error: step staging_tables failed", "error: step dbt_models failed")), line
        assert "no space left on device" in line.lower() or "disk is full" in line.lower(), line
        assert "nothing was published" in output
        assert not live.warehouse.exists()
    finally:
        subprocess.run(["umount", str(full)], check=False)


# ------------------------------------------------------------------ second round: the store, one file


def test_store_entries_that_do_not_verify_are_read_again(tmp_path):
    from orchestration import store

    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    for name, source in (("edited.txt", "jd-14.txt"), ("typed.txt", "jd-16.txt"), ("old.txt", "jd-17.txt")):
        shutil.copy(TEXT / source, data_raw / name)
    files = scan_report_files(data_raw)
    store_root, limits = tmp_path / "store", Limits(timeout_s=120, memory_mb=None)
    entries, _ = extract_files(files, store_root, tmp_path / "run1", limits)
    good = {name: _entry(entries, name) for name in ("edited.txt", "typed.txt", "old.txt")}
    paths = dict(entries)

    # edited by hand (a changed project name), metadata kept: the checksum no longer matches
    table = pq.read_table(paths["edited.txt"])
    rows = table.to_pylist()
    rows[0]["forms"][0]["project_name"] = "改过的项目"
    pq.write_table(type(table).from_pylist(rows, schema=table.schema), paths["edited.txt"])
    # wrong types (fiscal_year "2024年"), metadata and checksum of the edited content
    import pyarrow as pa

    rows = pq.read_table(paths["typed.txt"]).to_pylist()
    rows[0]["forms"][0]["fiscal_year"] = "2024年"
    typed = pa.Table.from_pylist(rows).replace_schema_metadata(
        {
            **pq.read_schema(paths["typed.txt"]).metadata,
            b"fiscal_perf.checksum": store.checksum(rows[0]).encode(),
        }
    )
    pq.write_table(typed, paths["typed.txt"])
    # an entry in an older format
    table = pq.read_table(paths["old.txt"])
    pq.write_table(
        table.replace_schema_metadata({**table.schema.metadata, b"fiscal_perf.schema_version": b"0"}),
        paths["old.txt"],
    )

    warnings: list[str] = []
    entries, stats = extract_files(files, store_root, tmp_path / "run2", limits, warn=warnings.append)
    assert sorted(stats.read) == sorted(stats.rejected) == ["edited.txt", "old.txt", "typed.txt"]
    assert {name: _entry(entries, name) for name in good} == good
    assert len(warnings) == 3 and all("does not verify" in w for w in warnings)
    assert any("checksum does not match" in w for w in warnings)
    assert any("column types" in w for w in warnings)
    assert any("schema version '0'" in w for w in warnings)


def test_entries_the_published_warehouse_was_landed_from_are_taken_as_landed(tmp_path):
    """A content whose entry the published warehouse (of the same code) was landed from under
    exactly its names is not verified again (the landing keeps its rows and never reads it); a
    content under other names is, and so is every content when that list cannot be read."""
    from orchestration.extraction import write_entries

    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    shutil.copy(TEXT / "jd-14.txt", data_raw / "a.txt")
    shutil.copy(TEXT / "jd-16.txt", data_raw / "b.txt")
    store_root, limits = tmp_path / "store", Limits(timeout_s=120, memory_mb=None)
    entries, _ = extract_files(scan_report_files(data_raw), store_root, tmp_path / "run1", limits)
    landed = write_entries(entries, tmp_path / "landed.parquet")
    for _, path in entries:  # edited by hand since: neither verifies any more
        table = pq.read_table(path)
        rows = table.to_pylist()
        rows[0]["forms"][0]["project_name"] = "改过的项目"
        pq.write_table(type(table).from_pylist(rows, schema=table.schema), path)
    shutil.copy(data_raw / "b.txt", data_raw / "b copy.txt")  # b's content under one more name
    files = scan_report_files(data_raw)

    again, stats = extract_files(files, store_root, tmp_path / "run2", limits, landed=landed)
    assert (stats.store_hits, stats.as_landed, stats.rejected, stats.read) == (
        1,
        1,
        ["b copy.txt"],
        ["b copy.txt"],
    )
    assert dict(again)["a.txt"] == dict(entries)["a.txt"]

    _, unlisted = extract_files(
        files, store_root, tmp_path / "run3", limits, landed=tmp_path / "gone.parquet"
    )
    assert (unlisted.as_landed, unlisted.rejected, unlisted.read) == (0, ["a.txt"], ["a.txt"])


def test_a_timeout_is_not_cached_and_the_file_is_read_again(tmp_path):
    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    (data_raw / "slow.pdf").write_bytes(huge_stream_pdf())
    files = scan_report_files(data_raw)
    store_root, limits = tmp_path / "store", Limits(timeout_s=1, memory_mb=None)
    entries, stats = extract_files(files, store_root, tmp_path / "run1", limits)
    [error] = _entry(entries, "slow.pdf")["errors"]
    assert error["error_class"] == "timeout"
    assert not list(store_root.rglob("*.parquet")), "the timeout was stored as the file's result"
    _, again = extract_files(files, store_root, tmp_path / "run2", limits)
    assert again.read == ["slow.pdf"] and again.store_hits == 0


def test_a_form_with_no_readable_field_is_form_unreadable_never_a_record(tmp_path):
    from reportlab.pdfgen import canvas

    from extract import extract_file
    from sample_pdfs.text import ensure_font

    path = tmp_path / "title_only.pdf"
    c = canvas.Canvas(str(path), pagesize=(595, 842), invariant=1)
    c.setFont(ensure_font(), 16)
    c.drawString(150, 800, "2024年度项目支出绩效自评表")
    c.setFont(ensure_font(), 10)
    c.drawString(50, 760, "项目名称")
    c.save()
    result = extract_file(path)
    assert result.records == []
    [error] = result.errors
    assert error.error_class == "form_unreadable" and "no field could be read" in error.message
