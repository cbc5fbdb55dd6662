"""Run a function on each item in its own short-lived process, under a time and a memory bound.

One process per item, at most `max_workers` alive at a time. A process that runs past its time
limit is killed (SIGKILL); a process over its memory limit (RLIMIT_AS, set inside it) gets a
MemoryError; a process that dies (a crash, the kernel's OOM killer) costs only its own item. Each
item yields exactly one `Outcome`; nothing a child does can raise in the caller or stop the rest.

Processes are forked from a multiprocessing *forkserver* with the extractor modules preloaded: a
clean single-threaded parent (safe to fork, unlike a Dagster step with its threads) and ~10 ms per
process instead of ~200 ms for a fresh interpreter, or ~1 s when multiprocessing re-imports the
caller's `__main__` in every child (switched off: orchestration/forkserver_init.py; so `func` must
be importable by module name). The forkserver keeps the environment it was started with, so each
child is handed the caller's current environment.

Orphans: if the caller is killed (kill -9), each child notices its result pipe lost its reader
and exits at once (a watcher thread); the forkserver exits once its last child has. RLIMIT_CPU (a
little over the time limit) is a further backstop: the kernel stops a child that spins on.

No Dagster import here: the forkserver preloads this module.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import resource
import select
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

TIMEOUT_ENV = "EXTRACT_TIMEOUT_S"
MEMORY_ENV = "EXTRACT_MEMORY_MB"
DEFAULT_TIMEOUT_S = 300.0
DEFAULT_MEMORY_MB = 2048
# Modules the forkserver imports once, so that every forked child starts with them loaded.
PRELOAD = [
    "orchestration.forkserver_init",
    "orchestration.bounded",
    "orchestration.extract_cache",
    "extract.pdf.reader",
    "extract.text.reader",
]
EXIT_ORPHANED = 70  # exit status of a child whose caller went away
POLL_S = 0.2  # how often a child's memory high-water mark is read (Linux /proc)
CPU_GRACE_S = 5  # RLIMIT_CPU = time limit + this (soft: SIGXCPU), + 2 × this (hard: SIGKILL)
EXIT_WAIT_S = 5.0  # after its result arrived, how long a child may take to exit before it is killed


@dataclass(frozen=True)
class Limits:
    """Per-item bounds; 0 / None means unbounded."""

    timeout_s: float | None = DEFAULT_TIMEOUT_S
    memory_mb: int | None = DEFAULT_MEMORY_MB


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if value < 0 or math.isnan(value):
        raise ValueError(f"{name}={raw!r} must be ≥ 0 (0 means no limit)")
    return value


def limits_from_env() -> Limits:
    """`EXTRACT_TIMEOUT_S` (seconds, default 300) and `EXTRACT_MEMORY_MB` (default 2048); 0 = none."""
    timeout = _env_number(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)
    memory = int(_env_number(MEMORY_ENV, DEFAULT_MEMORY_MB))
    return Limits(timeout_s=timeout or None, memory_mb=memory or None)


@dataclass(frozen=True)
class Outcome:
    """What became of one item.

    kind: "ok" (value is the function's return value), "timeout" (killed at the time limit),
    "memory" (MemoryError under the memory limit), "error" (the function raised; value is
    "Type: message"), "died" (the process ended without a result; value is its exit code,
    negative for a signal). `peak_mb`: the highest address-space size seen while it ran (Linux).
    """

    kind: str
    value: Any = None
    seconds: float = 0.0
    peak_mb: float = 0.0

    def near_memory_limit(self, limits: Limits) -> bool:
        """Whether the process came close to its memory limit: under RLIMIT_AS, CPython can abort
        (SIGABRT, "Cannot recover from MemoryErrors") instead of raising MemoryError."""
        return bool(limits.memory_mb) and self.peak_mb >= 0.9 * limits.memory_mb


def _exit_when_orphaned(conn: Connection) -> None:
    """Exit at once if the caller goes away (its end of the result pipe closes), whatever this
    process is busy with: a watcher thread blocks in poll() on the pipe until the kernel reports
    the reading end gone (POLLERR). Without it an orphan would run its item to the end."""

    def watch() -> None:
        poller = select.poll()
        poller.register(conn.fileno(), 0)  # no events asked: returns on POLLERR / POLLHUP only
        while True:
            for _fd, event in poller.poll():
                if event & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
                    os._exit(EXIT_ORPHANED)

    if hasattr(select, "poll"):
        threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _child(conn: Connection, func: Callable, item: Any, limits: Limits, env: dict) -> None:
    _exit_when_orphaned(conn)
    os.environ.clear()
    os.environ.update(env)
    if limits.memory_mb:
        limit = limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    if limits.timeout_s:
        soft = math.ceil(limits.timeout_s) + CPU_GRACE_S
        resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + CPU_GRACE_S))
    try:
        message = ("ok", func(item))
    except MemoryError:
        message = ("memory", None)
    except BaseException as exc:  # noqa: BLE001 - reported to the caller as this item's outcome
        message = ("error", f"{type(exc).__name__}: {exc}")
    try:
        try:
            conn.send(message)
        except MemoryError:
            conn.send(("memory", None))
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller is gone: nothing to report to
        except Exception as exc:  # noqa: BLE001 - e.g. a result that cannot be pickled
            conn.send(("error", f"result could not be sent: {type(exc).__name__}: {exc}"))
    except OSError:
        pass
    finally:
        conn.close()


@dataclass
class _Job:
    index: int
    process: Any  # multiprocessing Process
    reader: Connection
    started: float
    deadline: float
    peak_mb: float = 0.0

    def sample_memory(self) -> None:
        """Record the process's VmPeak (Linux); a no-op where /proc is missing or it has exited."""
        try:
            with open(f"/proc/{self.process.pid}/status", "rb") as fh:
                for line in fh:
                    if line.startswith(b"VmPeak:"):
                        self.peak_mb = max(self.peak_mb, int(line.split()[1]) / 1024)
                        break
        except (OSError, ValueError, IndexError):
            pass


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)  # no effect once the forkserver runs
    return context


def _start(context, func: Callable, index: int, item: Any, limits: Limits) -> _Job:
    reader, writer = context.Pipe(duplex=False)
    process = context.Process(
        target=_child,
        args=(writer, func, item, limits, dict(os.environ)),
        name=f"bounded-{index}",
        daemon=True,
    )
    process.start()
    writer.close()  # the child holds the only writer: its death reads as EOF here
    started = time.monotonic()
    deadline = started + limits.timeout_s if limits.timeout_s else math.inf
    return _Job(index, process, reader, started, deadline)


def _stop(job: _Job, kill: bool) -> int | None:
    """Reap the job's process (killing it first if asked or if it does not exit); its exit code."""
    if kill:
        job.process.kill()
    job.process.join(EXIT_WAIT_S)
    if job.process.exitcode is None:
        job.process.kill()
        job.process.join()
    job.reader.close()
    exitcode = job.process.exitcode
    job.process.close()
    return exitcode


def _collect(job: _Job, readable: bool) -> Outcome | None:
    """The job's outcome if it has one now (result, death or deadline passed), else None."""
    now = time.monotonic()
    if readable or job.reader.poll():
        try:
            kind, value = job.reader.recv()
        except Exception:  # noqa: BLE001 - EOF (died) or a message cut short
            return Outcome("died", _stop(job, kill=False), now - job.started, job.peak_mb)
        _stop(job, kill=False)
        return Outcome(kind, value, now - job.started, job.peak_mb)
    if now >= job.deadline:
        _stop(job, kill=True)
        return Outcome("timeout", None, now - job.started, job.peak_mb)
    job.sample_memory()
    return None


def run_bounded(
    func: Callable[[Any], Any],
    items: Sequence[Any],
    limits: Limits | None = None,
    max_workers: int = 2,
) -> Iterator[tuple[int, Outcome]]:
    """(index, Outcome) for every item, in the order they finish; `func` must be importable by name
    (a module-level function) and its argument and result picklable."""
    limits = limits or limits_from_env()
    context = _context()
    pending = deque(enumerate(items))
    running: list[_Job] = []
    try:
        while pending or running:
            while pending and len(running) < max(1, max_workers):
                index, item = pending.popleft()
                running.append(_start(context, func, index, item, limits))
            timeout = max(0.0, min(job.deadline for job in running) - time.monotonic())
            ready = wait([job.reader for job in running], min(timeout, POLL_S))
            for job in list(running):
                outcome = _collect(job, job.reader in ready)
                if outcome is not None:
                    running.remove(job)
                    yield job.index, outcome
    finally:
        for job in running:  # the caller stopped early or was interrupted: no child outlives it
            _stop(job, kill=True)


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "no exit code"
    if exitcode < 0:
        try:
            return f"killed by signal {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"exit code {exitcode}"
