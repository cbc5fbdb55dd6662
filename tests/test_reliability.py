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

import duckdb
import pytest
from conftest import REPO, SAMPLES_DIR, copy_samples, run_load

from extract import sha256_file
from orchestration.bounded import Limits, run_bounded
from orchestration.extract_cache import extract_files, scan_report_files

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

# Run in the bounded child processes, which import this module by name to find it.


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
    assert 3 <= outcomes[4].seconds < 10
    assert elapsed < 30


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
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from orchestration.bounded import Limits, run_bounded
        from test_reliability import act
        items = [("mark_and_sleep", (m, 120)) for m in {[str(m) for m in markers]!r}]
        list(run_bounded(act, items, Limits(timeout_s=300, memory_mb=None)))
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


def test_memory_bound_gives_too_large_and_the_other_files_are_read(tmp_path):
    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    (data_raw / "huge_stream.pdf").write_bytes(huge_stream_pdf())
    shutil.copy(GOOD_PDF, data_raw / "good.pdf")
    cache = tmp_path / "cache"
    results, stats = extract_files(
        scan_report_files(data_raw), cache, limits=Limits(timeout_s=120, memory_mb=400)
    )
    by_name = {Path(r.path).name: r for r in results}
    [error] = by_name["huge_stream.pdf"].errors
    assert (error.error_class, error.file) == ("too_large", "huge_stream.pdf")
    assert "400 MB" in error.message or "memory" in error.message
    assert error.sha256 == sha256_file(data_raw / "huge_stream.pdf")
    assert len(by_name["good.pdf"].records) == 1 and not by_name["good.pdf"].errors
    # a bound that was hit is not cached: a later load with a higher limit reads the file again
    cached = {p.name.split("-")[0] for p in cache.rglob("*.json")}
    assert cached == {sha256_file(data_raw / "good.pdf")}


def test_pathological_files_become_one_error_row_each_and_the_load_completes(tmp_path, monkeypatch):
    from test_orchestration import _stage_only

    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    (data_raw / "many_pages.pdf").write_bytes(many_pages_pdf(300))
    (data_raw / "lying_page_count.pdf").write_bytes(pdf_bytes(120, b"", declared_pages=1))
    (data_raw / "huge_stream.pdf").write_bytes(huge_stream_pdf())
    shutil.copy(GOOD_PDF, data_raw / "good.pdf")
    shutil.copy(GOOD_TEXT, data_raw / "good.txt")
    monkeypatch.setenv("EXTRACT_MAX_PAGES", "100")
    monkeypatch.setenv("EXTRACT_TIMEOUT_S", "2")

    started = time.monotonic()
    result, reports, errors = _stage_only(data_raw, tmp_path / "warehouse" / "warehouse.duckdb")
    elapsed = time.monotonic() - started
    assert result.success
    assert sorted(errors) == [
        ("huge_stream.pdf", "timeout"),
        ("lying_page_count.pdf", "too_large"),
        ("many_pages.pdf", "too_large"),
    ]
    assert sorted(r[1] for r in reports) == ["good.pdf", "good.txt"]
    assert elapsed < 60, f"the 2 s timeout did not bound the load ({elapsed:.0f}s)"


def test_page_limit_is_checked_before_pages_are_parsed(tmp_path):
    from extract import extract_file

    path = tmp_path / "many.pdf"
    path.write_bytes(many_pages_pdf(30_000))  # parsing every page would take ~10 s
    started = time.monotonic()
    [error] = extract_file(path).errors
    elapsed = time.monotonic() - started
    assert (error.error_class, error.message) == ("too_large", "30000 pages, over the limit of 5000")
    assert elapsed < 2.0, f"{elapsed:.1f}s: the pages were walked, not the page tree's /Count read"
