"""Run a function on many items in a pool of reused worker processes, each item under a time and a
memory bound: pebble's ProcessPool, plus the few things it leaves to its caller.

- Time: pebble's per-task timeout; a task past it has its worker stopped (and replaced).
- Memory: an address-space limit (RLIMIT_AS) set by the worker initializer, of the address space
  the worker starts with plus the item's bound: an allocation over it raises MemoryError. (A
  worker starts with its forkserver's mappings, ≈ 350 MB of preloaded reader — or, in a process
  whose forkserver was started for Dagster's step processes, the definitions too, over 1 GB; they
  are shared, and counting them would leave an item less than its bound.) CPython sometimes
  cannot even build that exception and aborts instead (SIGABRT, "Cannot recover from
  MemoryErrors"); so each worker notes, in a file named after its pid, the item during which it
  came within 10 % of its bound, and a worker that died on that item counts as over the memory
  bound rather than as a crash. Before each item a worker hands freed memory back to the system,
  so the next item gets the whole bound.
- A worker that dies (a crash, a signal, the kernel's OOM killer) costs only its own task.
- Reuse: a worker reads up to `MAX_TASKS` items, then is replaced (bounds the growth of a
  long-lived process).
- Orphans: every worker watches the process that started the pool (a pidfd, Linux) and exits the
  moment it is gone, whatever the worker is busy with, so a killed load leaves no worker behind.
  (A worker's parent is the forkserver, which outlives the caller while its workers live, so the
  kernel's parent-death signal would not do.)

Workers start from a multiprocessing *forkserver* (safe in a Dagster step, which runs threads)
with the extractor preloaded, so a worker starts in a fraction of a second.

No Dagster import here: the forkserver preloads this module.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import multiprocessing
import os
import resource
import select
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pebble import ProcessExpired, ProcessPool

MAX_TASKS = 200  # items one worker reads before it is replaced
IN_FLIGHT = 2  # items handed to the pool per worker: one running, one queued behind it
NEAR_LIMIT = 0.9  # share of the memory bound past which a worker's death is put down to memory
WATCH_S = 0.05  # how often a worker samples its address-space size
# What the forkserver imports once for all its workers: the extractor, and pandas, which pyarrow
# imports on the first array it builds from Python values (each stored file's), ≈ 0.3 s a worker.
PRELOAD = [
    "orchestration.workers",
    "orchestration.extraction",
    "extract.pdf.reader",
    "extract.text.reader",
    "pandas",
]
EXIT_ORPHANED = 70  # exit status of a worker whose caller went away


@dataclass(frozen=True)
class Limits:
    """Per-item bounds; None means unbounded. `env` is set in each worker before its first item
    (e.g. the extractor's page limit), never in the caller."""

    timeout_s: float | None = 300.0
    memory_mb: int | None = 2048
    env: tuple[tuple[str, str], ...] = ()
    timeout_per_page_s: float = 0.0  # added to timeout_s per page of the item (`timeout_for`)

    def timeout_for(self, pages: int) -> float | None:
        """The time limit (s) of an item of `pages` pages (0: not known): timeout_s and
        timeout_per_page_s per page (a long scan is read by OCR at seconds a page); None: none."""
        return None if self.timeout_s is None else self.timeout_s + self.timeout_per_page_s * pages


@dataclass(frozen=True)
class Outcome:
    """What became of one item.

    kind: "ok" (value is the function's return value), "timeout" (stopped at the time limit),
    "memory" (over the memory limit), "error" (the function raised; value is "Type: message"),
    "died" (the worker ended without a result; value is its exit code, negative for a signal).
    """

    kind: str
    value: Any = None


def _exit_with(caller: int) -> None:
    """Exit at once when process `caller` ends (a thread blocked on its pidfd)."""
    try:
        pidfd = os.pidfd_open(caller)
    except (AttributeError, OSError):  # not Linux ≥ 5.3, or the caller is already gone
        if not pid_alive(caller):
            os._exit(EXIT_ORPHANED)
        return

    def watch() -> None:
        select.select([pidfd], [], [])
        os._exit(EXIT_ORPHANED)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def pid_alive(pid: int) -> bool:
    """Whether process `pid` exists (signal 0)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_task = {"id": -1, "marked": -2}  # the item this worker is on, and the last one marked near the limit


def _address_space() -> int | None:
    """This process's address-space size in bytes (/proc/self/statm); None where there is none."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _watch_memory(budget_bytes: int, marker: Path) -> None:
    """Bound this process's address space to what it has now plus `budget_bytes` (RLIMIT_AS), and
    write the current item's id to `marker` when it grows past NEAR_LIMIT of the budget during
    that item. The watching thread starts first: its stack would not fit under a small bound."""
    bounds: dict[str, int] = {}
    ready = threading.Event()

    def watch() -> None:
        ready.wait()
        while (size := _address_space()) is not None:
            task = _task["id"]
            if size - bounds["start"] >= NEAR_LIMIT * budget_bytes and _task["marked"] != task:
                marker.write_text(str(task))
                _task["marked"] = task
            time.sleep(WATCH_S)

    threading.Thread(target=watch, name="memory-watch", daemon=True).start()
    start = _address_space()
    resource.setrlimit(resource.RLIMIT_AS, ((start or 0) + budget_bytes,) * 2)
    if start is not None:
        bounds["start"] = start
        ready.set()


def _release_memory() -> None:
    """Hand what the previous item freed back to the system, so a reused worker starts each item
    with its whole memory bound (glibc keeps freed heap otherwise)."""
    gc.collect()
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _system_allocator() -> None:
    """pyarrow's default allocator (mimalloc) reserves about a gigabyte of address space up front,
    which an address-space limit counts in full; the system allocator reserves what it uses."""
    try:
        import pyarrow
    except ImportError:
        return
    pyarrow.set_memory_pool(pyarrow.system_memory_pool())


def _initialize(limits: Limits, marker_dir: str, caller: int) -> None:
    # The preloaded extractor's objects live as long as the worker: out of the collector's reach,
    # `_release_memory`'s collection between items walks only what an item left (~20 ms → ~0.3).
    gc.freeze()
    _exit_with(caller)
    os.environ.update(dict(limits.env))
    if limits.memory_mb:
        _system_allocator()
        _watch_memory(limits.memory_mb * 1024 * 1024, Path(marker_dir) / str(os.getpid()))


def _run(func: Callable, index: int, item: Any) -> tuple[str, Any]:
    _release_memory()
    _task["id"] = index
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
    items: Iterable[Any],
    limits: Limits,
    max_workers: int = 1,
    pages: Callable[[Any], int] | None = None,
    admit: Callable[[int], bool] | None = None,
) -> Iterator[tuple[int, Outcome]]:
    """(index, Outcome) for every item (index: its place in `items`), in the order they finish;
    `func` must be importable by name (a module-level function) and its argument and result
    picklable. `pages(item)` (0: not known) lengthens an item's time limit (`Limits.timeout_for`).
    `items` is read lazily, in order, as workers free up (`IN_FLIGHT` items per worker handed
    over at a time), so it may grow while it is read; `admit(index)`, when given, is asked just
    before an item is handed over, and an item it refuses gets no outcome (a claim on work shared
    with other pools: what is not handed over yet can still go elsewhere). Nothing a worker does
    raises here; stopping the iteration early stops the workers."""
    numbered = enumerate(items)
    first = next(numbered, None)
    if first is None:
        return
    waiting = itertools.chain([first], numbered)
    with tempfile.TemporaryDirectory(prefix="bounded-") as marker_dir:
        pool = ProcessPool(
            max_workers=max(1, max_workers),
            max_tasks=MAX_TASKS,
            initializer=_initialize,
            initargs=(limits, marker_dir, os.getpid()),
            context=_context(),
        )
        futures: dict = {}  # handed over → index

        unscheduled: list[tuple[int, Outcome]] = []  # items a broken pool would not take

        def hand_over() -> None:
            for i, item in waiting:
                if admit is None or admit(i):
                    timeout = limits.timeout_for(pages(item) if pages else 0)
                    try:
                        futures[pool.schedule(_run, (func, i, item), timeout=timeout)] = i
                    except RuntimeError as exc:  # the pool broke (no worker could start)
                        unscheduled.append((i, Outcome("error", f"worker pool broken: {exc}")))
                    return

        try:
            for _ in range(IN_FLIGHT * max(1, max_workers)):
                hand_over()
            while futures or unscheduled:
                while unscheduled:
                    yield unscheduled.pop()
                    hand_over()
                if not futures:
                    continue
                done, _ = wait(futures, return_when="FIRST_COMPLETED")
                for future in done:
                    index = futures.pop(future)
                    hand_over()  # before the caller handles this outcome: no worker waits on it
                    yield index, _outcome(future, index, Path(marker_dir))
        finally:
            pool.stop()
            pool.join()


def _outcome(future, index: int, marker_dir: Path) -> Outcome:
    try:
        kind, value = future.result()
        return Outcome(kind, value)
    except FutureTimeout:
        return Outcome("timeout")
    except ProcessExpired as exc:
        marker = marker_dir / str(exc.pid)
        if exc.pid and marker.exists() and marker.read_text() == str(index):
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
