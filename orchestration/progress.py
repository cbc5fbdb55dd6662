"""Compact progress lines on stdout for `python -m orchestration.load` (a Dagster logger).

Shows what the assets log, and warnings and errors; not Dagster's own step bookkeeping. Each step
process of the run (multiprocess executor) instantiates it and writes to the stdout it inherited.
"""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg


class _ProgressFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        meta = getattr(record, "dagster_meta", None) or {}
        step = meta.get("step_key") or ""
        message = meta.get("orig_message") or record.getMessage()
        stamp = time.strftime("%H:%M:%S", time.localtime(record.created))
        return f"{stamp} {step + ': ' if step else ''}{message}"


class _UserMessages(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        meta = getattr(record, "dagster_meta", None) or {}
        return record.levelno >= logging.WARNING or meta.get("dagster_event") is None


@dg.logger(description="Compact progress lines on stdout for `python -m orchestration.load`.")
def progress_logger(init_context) -> logging.Logger:
    log = logging.getLogger("fiscal_perf.load")
    log.setLevel(logging.INFO)
    log.propagate = False
    if not log.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(_ProgressFormatter())
        handler.addFilter(_UserMessages())
        log.addHandler(handler)
    return log
