"""Imported once, by the forkserver of `orchestration.bounded` (a preload module), and by nothing else.

multiprocessing makes every child it starts re-import the parent's `__main__` (`python -m
orchestration.load` → Dagster, ~1 s; pytest's runner under pytest) so that functions defined there
can be unpickled. The bounded workers only run functions importable by module name, so in the
forkserver — and hence in every child forked from it — that step is switched off: a child starts
in ~10 ms with the extractor already imported.
"""

from multiprocessing import spawn


def _skip(*_args) -> None:
    return None


spawn._fixup_main_from_name = _skip
spawn._fixup_main_from_path = _skip
