"""dbt models as assets (dagster-dbt), and the final publish of the warehouse.

The dbt sources (schema `raw`) map to the landing assets' keys, so lineage runs unbroken:
report_files → extracted_reports → raw/* → dbt staging views → intermediate → marts →
warehouse_published. dbt tests become asset checks on the models they test.

The manifest comes from orchestration/dbt_project.py (`DbtProject.prepare_if_dev()` under
`dagster dev`, `dagster-dbt project prepare-and-package` everywhere else).
"""

import shutil
import time

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ... import store, warehouse
from ...dbt_project import build_vars, dbt_project
from ...settings import Settings
from . import WAREHOUSE_STEP, refuse_after_failures

KEEP_INVOCATION_DIRS = 3  # dagster-dbt gives each dbt invocation its own target/<name>-<ids>/ (~6 MB)


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Keys are [schema, name] for sources, models and seeds alike: the dbt source `raw.reports`
    is the asset `raw/reports` the landing step materializes."""

    def get_asset_key(self, dbt_resource_props) -> dg.AssetKey:
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props) -> str | None:
        if dbt_resource_props["schema"] == "staging":
            return "staging"
        return "marts"


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseDbtTranslator(),
    op_tags=WAREHOUSE_STEP,
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, settings: Settings):
    """`dbt build` (models, seeds, tests) on this run's build file."""
    refuse_after_failures(context)
    build = warehouse.ensure_build(settings, context.run.run_id)
    invocation = dbt.cli(["build", *build_vars(build)], context=context, raise_on_error=False)
    yield from invocation.stream()
    if not invocation.is_successful():
        raise dg.Failure(f"dbt build failed: {dbt_errors(invocation)}", allow_retries=False)
    prune_invocation_dirs()


ERRORS_SHOWN = 3  # dbt nodes whose error a failed build names on the command line


def dbt_errors(invocation) -> str:
    """The first failing dbt nodes and their messages (from run_results.json: the cause, e.g. a
    full disk, that dagster-dbt's own error leaves to the compute logs)."""
    try:
        results = invocation.get_artifact("run_results.json")["results"]
    except Exception:  # noqa: BLE001 - no artifact (dbt did not get that far): dagster-dbt's error
        return str(invocation.get_error() or "no run results")
    failed = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
    parts = [f"{r['unique_id']}: {' '.join(str(r.get('message') or '').split())}" for r in failed]
    more = f" (and {len(parts) - ERRORS_SHOWN} more)" if len(parts) > ERRORS_SHOWN else ""
    return "; ".join(parts[:ERRORS_SHOWN]) + more if parts else str(invocation.get_error())


def prune_invocation_dirs(keep: int = KEEP_INVOCATION_DIRS, min_age_s: float = 3600) -> None:
    """Delete the target folders of old dbt invocations: all but the newest `keep`, if over an hour old."""
    target = dbt_project.project_dir / dbt_project.target_path
    dirs = sorted(
        (d for d in target.glob(f"{dbt_models.op.name}-*") if d.is_dir()),
        key=lambda d: d.stat().st_mtime,
        reverse=True,
    )
    for old in dirs[keep:]:
        if time.time() - old.stat().st_mtime > min_age_s:
            shutil.rmtree(old, ignore_errors=True)


@dg.asset(
    group_name="marts",
    kinds={"duckdb"},
    deps=list(dbt_models.keys),
    op_tags=WAREHOUSE_STEP,
    description=(
        "The warehouse analysts query (WAREHOUSE_PATH, default warehouse/warehouse.duckdb): this run's "
        "build file, moved over it in one atomic step once every dbt model and test has run. Readers "
        "holding the old file keep the previous complete load; new readers see the new one."
    ),
)
def warehouse_published(context: AssetExecutionContext, settings: Settings) -> dg.MaterializeResult:
    refuse_after_failures(context)
    counts = warehouse.publish(settings, context.run.run_id)
    context.log.info(f"published {settings.warehouse}")
    store.prune(settings.store_root)
    store.prune_runs(settings.store_root)
    marts = {name: rows for name, rows in counts.items() if name.startswith("marts.")}
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(settings.warehouse)),
            "tables": len(counts),
            "mart_rows": dg.MetadataValue.json(marts),
            "row_counts": dg.MetadataValue.json(counts),
        }
    )
