"""The load at scale: workers, whole loads against one `python -m extract`, reloads, peak memory.

    python benchmarks/load_bench.py [--copies 10] [--keep DIR]

Builds its own corpora from the samples: every sample record rendered as a single-form PDF in
every producer style, plus the files of data_raw/ (1×, ≈106 files), and `--copies` distinct copies
of each (10×: a comment naming the copy is appended after %%EOF, so every sha256 differs while
readers see the same document). Each load runs as `python -m orchestration.load` (what `make run`
runs) in a fresh process; each full load into a fresh warehouse and store at the same path, as a
deployment's loads are (only the first one pays dbt's full parse); prints one table. Goals (issue 11):

- extraction with 2 workers ≥ 1.8× as fast as with 1 (the span of the extraction steps);
- full 10× load ≤ 0.8× one `python -m extract` process over the same files;
- 10× reload with nothing changed ≤ 10 % of the full 10× load; one changed file ≤ 15 %;
- peak memory of the 10× load ≤ 1.2× that of the 1× load.

Peak memory is the sum of the resident memory of the load's whole process tree (launcher, step
processes, extraction workers, dbt), sampled every 0.5 s. The machine's free cores are
measured first (one busy loop, then two at once): on a shared machine the worker figures say
more about the neighbours than about the load. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_SAMPLING_S = 0.5


def build_corpus(out: Path, copies: int) -> int:
    """The 1× corpus in out/x1 and `copies` distinct copies of it in out/xN; returns 1× file count."""
    sys.path.insert(0, str(ROOT))
    from sample_pdfs import STYLES, render_pdf

    records = json.loads((ROOT / "tests/fixtures/reports.json").read_text(encoding="utf-8"))
    base = out / "x1"
    (base / "rendered").mkdir(parents=True)
    for style in STYLES:
        for record in records:
            render_pdf([record], base / "rendered" / f"{record['key']}_{style}.pdf", STYLES[style])
    shutil.copytree(ROOT / "data_raw", base / "data_raw", ignore=shutil.ignore_patterns(".*"))
    files = sorted(p for p in base.rglob("*") if p.is_file())
    many = out / f"x{copies}"
    for copy in range(copies):
        for path in files:
            target = many / f"copy{copy:02d}" / path.relative_to(base)
            target.parent.mkdir(parents=True, exist_ok=True)
            data = path.read_bytes()
            # a PDF reader ignores what follows %%EOF; a text dump gets a trailing blank line per copy
            marker = f"\n%copy {copy}\n".encode() if path.suffix == ".pdf" else b"\n" * (copy + 1)
            target.write_bytes(data + marker)
    return len(files)


def _tree_rss_kb(root: int) -> int:
    """Resident memory (kB) of `root` and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines() if ":" in line)
        except OSError:
            continue
        pid = int(status.parent.name)
        children.setdefault(int(fields.get("PPid", "0").strip()), []).append(pid)
        rss[pid] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total


@dataclass
class Run:
    seconds: float
    peak_mb: float
    output: str


def timed(cmd: list[str], env: dict[str, str]) -> Run:
    """Run `cmd`, measuring wall time and the peak resident memory of its process tree."""
    started = time.monotonic()
    process = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _tree_rss_kb(process.pid))
            stop.wait(SAMPLE_SAMPLING_S)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = process.communicate()
    seconds = time.monotonic() - started
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{output[-3000:]}")
    return Run(seconds, peak / 1024, output)


def load(data_raw: Path, warehouse: Path, work: Path, **env_overrides: str) -> Run:
    """`python -m orchestration.load` of `data_raw` into the folder `warehouse` (the warehouse
    file, its extraction store and build file), with the Dagster instance in work/dagster_home."""
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("WAREHOUSE_BUILD_PATH", "DAGSTER_HOME")},
        "DATA_RAW_DIR": str(data_raw),
        "WAREHOUSE_PATH": str(warehouse / "warehouse.duckdb"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        **env_overrides,
    }
    (work / "dagster_home").mkdir(parents=True, exist_ok=True)
    # `make run`'s instance settings (storage, console), as the README asks of a new DAGSTER_HOME
    shutil.copyfile(ROOT / "orchestration" / "dagster.yaml", work / "dagster_home" / "dagster.yaml")
    return timed([sys.executable, "-m", "orchestration.load"], env)


def extraction_span(work: Path) -> float:
    """Seconds from the first extraction step's start to the last one's end, in the last run."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(work / "dagster_home")  # the project's dagster.yaml reads it
    with dg.DagsterInstance.from_config(str(work / "dagster_home")) as instance:
        run = instance.get_runs(limit=1)[0]
        events = [
            e
            for e in instance.all_logs(run.run_id)
            if e.is_dagster_event and "extract_shard" in (e.step_key or "")
        ]
    starts = [e.timestamp for e in events if e.dagster_event.event_type_value == "STEP_START"]
    ends = [e.timestamp for e in events if e.dagster_event.event_type_value == "STEP_SUCCESS"]
    return max(ends) - min(starts)


SPIN = "\n".join(
    [
        "import time",
        "t = time.perf_counter()",
        "x = 0",
        "for i in range(20_000_000): x += i",
        "print(time.perf_counter() - t)",
    ]
)


def parallel_capacity() -> float:
    """How many times the work of one busy process two of them get done in the same time (2.0 on
    two free cores, 1.0 when a neighbour holds one)."""
    one = float(subprocess.run([sys.executable, "-c", SPIN], capture_output=True, text=True).stdout)
    pair = [
        subprocess.Popen([sys.executable, "-c", SPIN], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    return 2 * one / max(float(p.communicate()[0]) for p in pair)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, default=10)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="load-bench-"))
    try:
        base_files = build_corpus(tmp / "corpus", args.copies)
        one, many = tmp / "corpus" / "x1", tmp / "corpus" / f"x{args.copies}"
        n = base_files * args.copies
        print(f"corpora: 1× {base_files} files, {args.copies}× {n} files (in {tmp})", flush=True)

        capacity = parallel_capacity()
        print(f"two busy processes run {capacity:.2f}× as fast as one (2.00 on two free cores)", flush=True)
        rows: list[tuple[str, str, str, str]] = []
        # Every load at one warehouse path, as a deployment's are; a full load starts from an
        # empty folder. dbt's parse cache holds the path (it is in dbt's profile): a load at a new
        # path parses the whole dbt project again (≈ 4 s), so only the first load here does.
        warehouse = tmp / "warehouse"

        def fresh(data_raw: Path, work: Path, **env_overrides: str) -> Run:
            shutil.rmtree(warehouse, ignore_errors=True)
            return load(data_raw, warehouse, work, **env_overrides)

        x1 = fresh(one, tmp / "w1")
        rows.append((f"1× full load ({base_files} files)", f"{x1.seconds:.1f} s", f"{x1.peak_mb:.0f} MB", ""))
        full = fresh(many, tmp / "w10")
        two = extraction_span(tmp / "w10")
        rows.append(
            (f"{args.copies}× full load ({n} files)", f"{full.seconds:.1f} s", f"{full.peak_mb:.0f} MB", "")
        )
        unchanged = load(many, warehouse, tmp / "w10")
        changed_file = next((many / "copy00" / "rendered").glob("*.pdf"))
        changed_file.write_bytes(changed_file.read_bytes() + b"\n%changed\n")
        one_change = load(many, warehouse, tmp / "w10")
        single = fresh(many, tmp / "w10-1worker", EXTRACT_WORKERS="1")
        one_worker = extraction_span(tmp / "w10-1worker")
        bare = timed([sys.executable, "-m", "extract", str(many)], dict(os.environ))

        speedup = one_worker / two
        rows += [
            (
                f"{args.copies}× full load, 1 worker",
                f"{single.seconds:.1f} s",
                f"{single.peak_mb:.0f} MB",
                "",
            ),
            ("extraction, 1 worker", f"{one_worker:.1f} s", "", ""),
            ("extraction, 2 workers", f"{two:.1f} s", "", f"{speedup:.2f}× (goal ≥ 1.8×)"),
            (f"one `python -m extract`, {n} files", f"{bare.seconds:.1f} s", f"{bare.peak_mb:.0f} MB", ""),
            (
                f"{args.copies}× full load / one extract process",
                "",
                "",
                f"{full.seconds / bare.seconds:.2f} (goal ≤ 0.8)",
            ),
            (
                f"{args.copies}× reload, nothing changed",
                f"{unchanged.seconds:.1f} s",
                f"{unchanged.peak_mb:.0f} MB",
                f"{100 * unchanged.seconds / full.seconds:.0f} % of full (goal ≤ 10 %)",
            ),
            (
                f"{args.copies}× reload, one file changed",
                f"{one_change.seconds:.1f} s",
                f"{one_change.peak_mb:.0f} MB",
                f"{100 * one_change.seconds / full.seconds:.0f} % of full (goal ≤ 15 %)",
            ),
            (
                f"peak memory {args.copies}× / 1×",
                "",
                "",
                f"{full.peak_mb / x1.peak_mb:.2f} (goal ≤ 1.2)",
            ),
        ]
        print()
        print(f"{'measure':<44}{'wall':>10}{'peak RSS':>11}  ratio")
        for name, wall, rss, ratio in rows:
            print(f"{name:<44}{wall:>10}{rss:>11}  {ratio}")
        print(
            f"({os.cpu_count()} CPUs; two busy processes ran {capacity:.2f}× as fast as one before, "
            f"{parallel_capacity():.2f}× after; load average {os.getloadavg()[0]:.1f} at the end)"
        )
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main(sys.argv[1:])
