"""Asset definitions, one module per stage: files → extraction → landing tables → dbt → publish."""

import json

# Tags of the steps that read DATA_RAW_DIR or touch the warehouse: under the Dask executor they run
# only on a worker offering the Dask resource `warehouse` (started on the warehouse's machine with
# `--resources warehouse=1`), so one machine owns the warehouse; no effect under other executors.
WAREHOUSE_STEP = {"dagster-dask/resource_requirements": json.dumps({"warehouse": 1})}


def refuse_after_failures(context) -> None:
    """Raise if a step of this run failed. Executors that plan every step up front (Dask) start a
    step even when a step it depends on only by order (a `deps` edge) has failed; the dbt build and
    the publish must never run on the remains of a failed load."""
    import dagster as dg

    failed = sorted(
        {
            e.step_key
            for e in context.instance.all_logs(context.run.run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        }
    )
    if failed:
        raise dg.Failure(f"not run: step(s) {', '.join(failed)} of this load failed", allow_retries=False)
