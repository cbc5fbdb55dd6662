"""Nightly full load."""

from __future__ import annotations

import dagster as dg

from .jobs import load_warehouse_job

NIGHTLY_CRON = "0 2 * * *"
TIMEZONE = "Asia/Shanghai"

nightly_load_schedule = dg.ScheduleDefinition(
    name="nightly_load",
    job=load_warehouse_job,
    cron_schedule=NIGHTLY_CRON,
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Runs the whole graph every night at 02:00 Shanghai time.",
)
