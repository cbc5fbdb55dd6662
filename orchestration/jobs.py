"""The one job: the whole graph, from the files to the published warehouse."""

from __future__ import annotations

import dagster as dg

load_warehouse_job = dg.define_asset_job(
    "load_warehouse",
    selection=dg.AssetSelection.all(),
    description=(
        "Full load: scan DATA_RAW_DIR, extract new or changed files (the rest from the cache), stage, "
        "run dbt build, publish the warehouse."
    ),
    tags={"dagster/max_runtime": str(4 * 3600)},
)
