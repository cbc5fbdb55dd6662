"""The Dagster code location (`[tool.dagster] module_name` in pyproject.toml)."""

from __future__ import annotations

import dagster as dg

from .assets.dbt import dbt_models, dbt_resource, warehouse_published
from .assets.extraction import extracted_reports
from .assets.files import report_files
from .assets.staging import staging_tables
from .jobs import load_warehouse_job
from .schedules import nightly_load_schedule
from .sensors import report_files_sensor

defs = dg.Definitions(
    assets=[report_files, extracted_reports, staging_tables, dbt_models, warehouse_published],
    jobs=[load_warehouse_job],
    schedules=[nightly_load_schedule],
    sensors=[report_files_sensor],
    resources={"dbt": dbt_resource()},
    # One step at a time in one process: DuckDB allows one writer, and the steps form a chain anyway.
    # Extraction parallelises within its step.
    executor=dg.in_process_executor,
)
