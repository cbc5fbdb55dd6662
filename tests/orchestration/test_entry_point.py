"""The load's entry point (`python -m orchestration.load` runs orchestration/load/__main__.py):
multiprocessing runs the parent's main module again in every process it starts by forkserver or
spawn — the extraction workers and the step processes — unless that module is a `__main__`, so
a worker of a load starts without importing the launcher and Dagster. Real worker processes of
`orchestration.workers`, started in a fresh interpreter whose main module is what `-m` sets."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# Run in a fresh interpreter: `__spec__` is what `python -m <main>` gives the main module, and
# multiprocessing reads it when it starts a worker.
SCRIPT = """
import importlib.util, json, sys
sys.modules["__main__"].__spec__ = importlib.util.find_spec({main!r})
from orchestration.workers import Limits, run_bounded
from test_entry_point import worker_modules
[(_, outcome)] = run_bounded(worker_modules, [None], Limits(timeout_s=120, memory_mb=None))
print(json.dumps(outcome.value))
"""


def worker_modules(_) -> dict:
    """In a worker: the module multiprocessing ran again as its main (None: none), and whether
    Dagster is imported."""
    spec = getattr(sys.modules.get("__mp_main__"), "__spec__", None)
    return {"main_run_again": getattr(spec, "name", None), "dagster": "dagster" in sys.modules}


def in_worker(main: str) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(Path(__file__).parent)])}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(main=main)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def test_a_worker_of_the_load_does_not_run_the_launcher_again():
    assert in_worker("orchestration.load.__main__") == {"main_run_again": None, "dagster": False}


def test_a_worker_under_a_plain_module_runs_it_again():
    """The control: with a module as the main (as orchestration/load.py was), the worker runs it
    again, so the check above can fail."""
    assert in_worker("orchestration.lock")["main_run_again"] == "orchestration.lock"


def test_the_command_runs_the_package_entry():
    done = subprocess.run(
        [sys.executable, "-m", "orchestration.load", "--help"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "python -m orchestration.load" in done.stdout and "Exit status" in done.stdout
