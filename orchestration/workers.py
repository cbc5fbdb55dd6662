"""Run a function on many items in a pool of reused worker processes, each item under a time and a
memory bound: pebble's ProcessPool, plus the few things it leaves to its caller.

- Time: pebble's per-task timeout; a task past it has its worker stopped (and replaced).
- Memory: an address-space limit (RLIMIT_AS) set by the worker initializer: an allocation over it
  raises MemoryError. CPython sometimes cannot even build that exception and aborts instead
  (SIGABRT, "Cannot recover from MemoryErrors"); so each worker notes, in a file named after its
  pid, when it came within 10 % of its limit, and a worker that died after that counts as over
  the memory bound rather than as a crash.
- A worker that dies (a crash, a signal, the kernel's OOM killer) costs only its own task.
- Reuse: a worker reads up to `MAX_TASKS` items, then is replaced (bounds the growth of a
  long-lived process).
- Orphans: every worker asks the kernel to kill it when its parent dies (PR_SET_PDEATHSIG), so a
  killed load leaves no worker behind.

Workers start from a multiprocessing *forkserver* (safe in a Dagster step, which runs threads)
with the extractor preloaded, so a worker starts in a fraction of a second.

No Dagster import here: the forkserver preloads this module.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import resource
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pebble import ProcessExpired, ProcessPool

MAX_TASKS = 200  # items one worker reads before it is replaced
NEAR_LIMIT = 0.9  # share of the memory limit past which a worker's death is put down to memory
WATCH_S = 0.05  # how often a worker samples its address-space size
PRELOAD = ["orchestration.workers", "orchestration.extraction", "extract.pdf.reader", "extract.text.reader"]
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Limits:
    """Per-item bounds; None means unbounded. `env` is set in each worker before its first item
    (e.g. the extractor's page limit), never in the caller."""

    timeout_s: float | None = 300.0
    memory_mb: int | None = 2048
    env: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Outcome:
    """What became of one item.

    kind: "ok" (value is the function's return value), "timeout" (stopped at the time limit),
    "memory" (over the memory limit), "error" (the function raised; value is "Type: message"),
    "died" (the worker ended without a result; value is its exit code, negative for a signal).
    """

    kind: str
    value: Any = None


def _die_with_parent() -> None:
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            return
        if os.getppid() == 1:  # the parent died before the request took effect
            os._exit(70)


def _watch_memory(limit_bytes: int, marker: Path) -> None:
    """Note (once) in `marker` when this process's address space passes NEAR_LIMIT of its limit."""
    page = os.sysconf("SC_PAGE_SIZE")

    def watch() -> None:
        while True:
            try:
                with open("/proc/self/statm", "rb") as fh:
                    size = int(fh.read().split()[0]) * page
            except (OSError, ValueError, IndexError):
                return
            if size >= NEAR_LIMIT * limit_bytes:
                marker.write_text(str(size))
                return
            time.sleep(WATCH_S)

    if Path("/proc/self/statm").exists():
        threading.Thread(target=watch, name="memory-watch", daemon=True).start()


def _initialize(limits: Limits, marker_dir: str) -> None:
    _die_with_parent()
    os.environ.update(dict(limits.env))
    if limits.memory_mb:
        limit = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        _watch_memory(limit, Path(marker_dir) / str(os.getpid()))


def _run(func: Callable, item: Any) -> tuple[str, Any]:
    try:
        return "ok", func(item)
    except MemoryError:
        return "memory", None


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # no effect once the forkserver runs
    return context


def run_bounded(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    limits: Limits,
    max_workers: int = 1,
) -> Iterator[tuple[int, Outcome]]:
    """(index, Outcome) for every item, in the order they finish; `func` must be importable by name
    (a module-level function) and its argument and result picklable. Nothing a worker does raises
    here; stopping the iteration early stops the workers."""
    if not items:
        return
    with tempfile.TemporaryDirectory(prefix="bounded-") as marker_dir:
        pool = ProcessPool(
            max_workers=max(1, max_workers),
            max_tasks=MAX_TASKS,
            initializer=_initialize,
            initargs=(limits, marker_dir),
            context=_context(),
        )
        try:
            futures = {
                pool.schedule(_run, (func, item), timeout=limits.timeout_s): i for i, item in enumerate(items)
            }
            pending = set(futures)
            while pending:
                done, pending = wait(pending, return_when="FIRST_COMPLETED")
                for future in done:
                    yield futures[future], _outcome(future, Path(marker_dir))
        finally:
            pool.stop()
            pool.join()


def _outcome(future, marker_dir: Path) -> Outcome:
    try:
        kind, value = future.result()
        return Outcome(kind, value)
    except FutureTimeout:
        return Outcome("timeout")
    except ProcessExpired as exc:
        if exc.pid and (marker_dir / str(exc.pid)).exists():
            return Outcome("memory", exc.exitcode)
        return Outcome("died", exc.exitcode)
    except MemoryError:
        return Outcome("memory")
    except Exception as exc:  # noqa: BLE001 - the function raised: this item's outcome
        return Outcome("error", f"{type(exc).__name__}: {exc}")


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "no exit code"
    if exitcode < 0:
        try:
            return f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"
