"""The one job: the whole graph, from the files to the published warehouse."""

import dagster as dg

LOAD_JOB = "load_warehouse"

load_warehouse_job = dg.define_asset_job(
    LOAD_JOB,
    selection=dg.AssetSelection.all(),
    description=(
        "Full load: scan DATA_RAW_DIR, extract new or changed files (the rest from the store), land, "
        "run dbt build, publish the warehouse; nothing past the scan when nothing changed."
    ),
    tags={"dagster/max_runtime": str(4 * 3600)},
)
