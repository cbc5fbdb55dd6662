"""`dbt build` at national size: a full build over N synthetic forms, then adding forms to it.

    python benchmarks/warehouse_bench.py [--forms 1000000] [--added 1000] [--keep DIR]

With --keep DIR the generated landing tables are kept in DIR and reused by the next run with the
same --forms; per-node times of both builds are printed from dbt's run_results.json.

The landing tables come from benchmarks/synthetic_warehouse.py (N forms, ≈ 16 indicators each).
Then, as a nightly load does: the warehouse file is copied (the load's build file starts from the
published warehouse), `--added` new forms are landed beside a few changed (re-published) and
removed ones, `loader.report_changes` is written against the published file
(orchestration.warehouse.write_load_state, what a load runs), and `dbt build` runs again with the
var only_changed_reports (the marts keyed by report_id rebuild only those reports). Both builds
run with the arguments a load passes (orchestration.dbt_project: DBT_FLAGS, build_args): the
whole project (seeds, models, data tests, unit tests), and the second, on a copy of the published
warehouse, all but the unit tests; both with the var only_changed_reports, so the second starts
from the first one's parse, as a nightly load starts from the previous night's. Goals (issue 11):
the full build ≤ 5 min and ≤ 6 GB on this 2-core machine; adding 1,000 forms ≤ 10 % of the full
build. Peak memory is the resident memory of dbt's process tree (DuckDB runs inside it). Prints
figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb  # noqa: E402
import synthetic_warehouse as synthetic  # noqa: E402
from load_bench import ROOT, Run, timed  # noqa: E402

from orchestration.dbt_project import DBT_FLAGS, build_args  # noqa: E402
from orchestration.warehouse import write_load_state  # noqa: E402

CHANGED = 10  # forms re-published with new content, and as many removed, beside the added ones


def dbt_command(args: list[str], work: Path) -> Run:
    """`dbt <args>` with the project, the flags a load passes (DBT_FLAGS), target and logs in `work`."""
    dbt = Path(sys.executable).parent / "dbt"
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DO_NOT_TRACK": "1"}
    project = ROOT / "dbt_project"
    cmd = [str(dbt), *DBT_FLAGS, *args]
    cmd += [
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    return timed(cmd, env)


def node_times(work: Path, top: int = 12) -> str:
    """The `top` slowest nodes of the last dbt invocation in `work` (run_results.json), in s."""
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    slowest = sorted(results, key=lambda r: -r["execution_time"])[:top]
    return "\n".join(f"    {r['execution_time']:7.1f} s  {r['unique_id']}" for r in slowest)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--forms", type=int, default=1_000_000)
    parser.add_argument("--added", type=int, default=1_000)
    parser.add_argument(
        "--keep",
        type=Path,
        help="work in this folder and keep it, reusing its landing tables (default: a temp dir)",
    )
    args = parser.parse_args(argv)
    work = args.keep or Path(tempfile.mkdtemp(prefix="warehouse_bench_"))
    work.mkdir(parents=True, exist_ok=True)
    published, build = work / "published.duckdb", work / "build.duckdb"
    try:
        started = time.monotonic()
        # --keep DIR: the generated landing tables (minutes at 1 M forms) are kept in
        # DIR/landing-N.duckdb and reused by the next run with the same N, copied before each build.
        landing = work / f"landing-{args.forms}.duckdb"
        reused = bool(args.keep and landing.exists())
        if reused:
            shutil.copyfile(landing, build)
            counts = synthetic.counts(build)
        else:
            counts = synthetic.create(build, args.forms)
            if args.keep:
                shutil.copyfile(build, landing)
        generated = time.monotonic() - started
        con = duckdb.connect(str(build))
        try:
            write_load_state(con, "full", published)  # no published warehouse: every report added
        finally:
            con.close()
        full = dbt_command(["build", *build_args(build, True, builds_on_published=False)], work)
        full_nodes = node_times(work)
        build.replace(published)

        started = time.monotonic()
        shutil.copyfile(published, build)
        copied = time.monotonic() - started
        started = time.monotonic()
        con = duckdb.connect(str(build))
        try:
            synthetic.load_templates(con)
            synthetic.add_forms(con, range(args.forms, args.forms + args.added))
            synthetic.change_forms(con, range(1, 1 + CHANGED))
            synthetic.remove_forms(con, range(1 + CHANGED, 1 + 2 * CHANGED))
            changes = write_load_state(con, "incremental", published, builds_on_published=True)
        finally:
            con.close()
        landed = time.monotonic() - started
        incremental = dbt_command(["build", *build_args(build, True, builds_on_published=True)], work)
        incremental_nodes = node_times(work)
        size_gb = published.stat().st_size / 1e9
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    ratio = incremental.seconds / full.seconds
    print(
        f"\nsynthetic warehouse: {args.forms:,} forms ("
        + ", ".join(f"{t} {n:,}" for t, n in counts.items())
        + (f"), reused from {landing}" if reused else f"), generated in {generated:.0f} s")
        + f"; warehouse file {size_gb:.1f} GB\n"
    )
    print("| measure | wall | peak RSS (dbt) | goal |")
    print("|---|---:|---:|---|")
    print(
        f"| full `dbt build`, {args.forms:,} forms | {full.seconds:.1f} s | {full.peak_mb:,.0f} MB | "
        f"≤ 300 s, ≤ 6,144 MB: {'met' if full.seconds <= 300 and full.peak_mb <= 6144 else 'not met'} |"
    )
    print(
        f"| `dbt build` after adding {args.added:,} forms ({CHANGED} changed, {CHANGED} removed: "
        + ", ".join(f"{n} {c}" for c, n in sorted(changes.items()))
        + f") | {incremental.seconds:.1f} s | {incremental.peak_mb:,.0f} MB | "
        f"{ratio:.0%} of full (≤ 10 %): {'met' if ratio <= 0.10 else 'not met'} |"
    )
    print(f"| copy of the published warehouse (the build file's start) | {copied:.1f} s | | |")
    print(f"| landing the changes and report_changes | {landed:.1f} s | | |")
    print(f"\nslowest nodes, full build:\n{full_nodes}")
    print(f"slowest nodes, incremental build:\n{incremental_nodes}")


if __name__ == "__main__":
    main(sys.argv[1:])
