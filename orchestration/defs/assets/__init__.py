"""Asset definitions, one module per stage: files → extraction → landing tables → dbt → publish."""

import json

# Tags of the steps that read DATA_RAW_DIR or touch the warehouse: under the Dask executor they run
# only on a worker offering the Dask resource `warehouse` (started on the warehouse's machine with
# `--resources warehouse=1`), so one machine owns the warehouse; no effect under other executors.
WAREHOUSE_STEP = {"dagster-dask/resource_requirements": json.dumps({"warehouse": 1})}
