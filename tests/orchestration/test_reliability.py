"""Reliability of the load: bounded extraction, bad input, atomic publish under readers, kill -9.

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
from conftest import SAMPLES_DIR, copy_samples, run_load
from paths import REPO

from extract import sha256_file
from orchestration.extraction import extract_files
from orchestration.inputs import scan_report_files
from orchestration.workers import Limits, run_bounded

SINGLE = SAMPLES_DIR / "pdf" / "single"
GOOD_PDF = SINGLE / "jd-01_lattice_compact.pdf"
GOOD_TEXT = SAMPLES_DIR / "text" / "jd-03.txt"
LOAD_TIMEOUT_S = 300

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
    started = time.monotonic()
    outcomes = dict(run_bounded(act, items, Limits(timeout_s=3, memory_mb=1000), max_workers=2))
    elapsed = time.monotonic() - started
    kinds = {items[i][0]: (o.kind, o.value) for i, o in outcomes.items()}
    assert sorted(outcomes) == list(range(len(items)))
    assert kinds["square"] == ("ok", 16) and outcomes[0].kind == "ok" and outcomes[0].value == 9
    assert kinds["kill"] == ("died", -signal.SIGKILL)
    assert kinds["segfault"] == ("died", -signal.SIGSEGV)
    assert kinds["raise"] == ("error", "RuntimeError: boom")
    assert kinds["sleep"] == ("timeout", None)
    assert kinds["allocate_mb"] == ("memory", None)
    assert elapsed < 30


def test_workers_are_reused_across_items():
    outcomes = dict(
        run_bounded(act, [("pid", None)] * 20, Limits(timeout_s=30, memory_mb=None), max_workers=2)
    )
    pids = {o.value for o in outcomes.values()}
    assert len(outcomes) == 20 and all(o.kind == "ok" for o in outcomes.values())
    assert len(pids) <= 2, f"{len(pids)} processes for 20 items: workers were not reused"


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
    # a worker reading a sample needs ~450 MB of address space; huge_stream.pdf gigabytes
    limits = Limits(timeout_s=120, memory_mb=800)
    entries, stats = extract_files(scan_report_files(data_raw), store_root, tmp_path / "run", limits)
    assert sorted(stats.read) == ["good.pdf", "huge_stream.pdf"]
    [error] = _entry(entries, "huge_stream.pdf")["errors"]
    assert error["error_class"] == "too_large"
    assert "800 MB" in error["message"] or "memory" in error["message"]
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
        for fd in Path("/proc").glob("[0-9]*/fd/*"):
            try:
                if os.readlink(fd) == str(path):
                    return int(fd.parent.parent.name)
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
    # the good files take ~0.2 s, huge_stream.pdf ~30 s
    bounds = {"extract_max_pages": 100, "extract_timeout_s": 3}

    started = time.monotonic()
    result, reports, errors = _stage_only(data_raw, tmp_path / "warehouse" / "warehouse.duckdb", **bounds)
    elapsed = time.monotonic() - started
    assert result.success
    assert sorted(errors) == [
        ("huge_stream.pdf", "timeout"),
        ("lying_page_count.pdf", "too_large"),
        ("many_pages.pdf", "too_large"),
    ]
    assert sorted(r[1] for r in reports) == ["good.pdf", "good.txt"]
    assert elapsed < 60, f"the 3 s timeout did not bound the load ({elapsed:.0f}s)"


def test_limits_from_the_environment():
    from orchestration.settings import Settings, SettingsError

    defaults = Settings.from_env({}).limits()
    assert (defaults.timeout_s, defaults.memory_mb, defaults.env) == (
        300,
        2048,
        (("EXTRACT_MAX_PAGES", "5000"),),
    )
    limits = Settings.from_env(
        {"EXTRACT_TIMEOUT_S": "0.5", "EXTRACT_MEMORY_MB": "0", "EXTRACT_MAX_PAGES": "9"}
    ).limits()
    assert limits == Limits(0.5, None, (("EXTRACT_MAX_PAGES", "9"),))  # 0: no memory bound
    for bad in ("abc", "-1", "nan"):
        with pytest.raises(SettingsError, match="EXTRACT_TIMEOUT_S"):
            Settings.from_env({"EXTRACT_TIMEOUT_S": bad})
    with pytest.raises(SettingsError, match="executor"):
        Settings.from_env({"LOAD_EXECUTOR": "spark"})


def test_page_limit_is_checked_before_pages_are_parsed(tmp_path):
    from extract import extract_file

    path = tmp_path / "many.pdf"
    path.write_bytes(many_pages_pdf(30_000))  # parsing every page would take ~10 s
    started = time.monotonic()
    [error] = extract_file(path).errors
    elapsed = time.monotonic() - started
    assert (error.error_class, error.message) == ("too_large", "30000 pages, over the limit of 5000")
    assert elapsed < 2.0, f"{elapsed:.1f}s: the pages were walked, not the page tree's /Count read"


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

    def start_load(self, log: Path) -> subprocess.Popen:
        """`python -m orchestration.load` (what `make run` runs) in its own process group."""
        env = {
            **os.environ,
            "DATA_RAW_DIR": str(self.data_raw),
            "WAREHOUSE_PATH": str(self.warehouse),
            "DAGSTER_HOME": str(self.dagster_home),
        }
        env.pop("WAREHOUSE_BUILD_PATH", None)
        with open(log, "w") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "orchestration.load"],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def load(self, log: Path) -> str:
        process = self.start_load(log)
        try:
            code = process.wait(LOAD_TIMEOUT_S)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        output = log.read_text(encoding="utf-8", errors="replace")
        assert code == 0, output[-3000:]
        assert "Load published" in output
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
        live.load(tmp_path / "load.log")  # succeeds although a reader holds the warehouse open
        time.sleep(0.3)  # a few more queries after the publish
    finally:
        (tmp_path / "stop").touch()
        for process, _ in readers:
            process.wait(60)
    new = live.state()
    held, fresh = (_observations(out) for _, out in readers)

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


def test_a_load_killed_mid_way_leaves_the_last_warehouse_and_the_next_load_recovers(live, tmp_path):
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
    instance = dg.DagsterInstance.from_config(str(live.dagster_home))
    statuses = {r.status for r in instance.get_runs()}
    assert dg.DagsterRunStatus.STARTED not in statuses and dg.DagsterRunStatus.FAILURE in statuses
    after = live.state()
    assert after[0] == before[0] + 1
    assert live.rows("SELECT count(*) FROM marts.dim_reports WHERE source_file = 'f.txt'") == [(1,)]
    assert not live.build.exists()
