"""dbt models as assets (dagster-dbt), and the final publish of the warehouse.

The dbt sources (schema `raw`) map to the landing assets' keys, so lineage runs unbroken:
report_files → extracted_reports → raw/* → dbt staging views → intermediate → marts →
warehouse_published → warehouse_exports, warehouse_report. dbt tests become asset checks on the
models they test.

What the catalog shows as materialized is published: a run that builds dbt models publishes them
(in the publish step, or at the end of the dbt step when the run does not include it), a dbt build
that fails reports no model as materialized, and every publish rewrites the exports and the report.

The manifest comes from orchestration/dbt_project.py (`DbtProject.prepare_if_dev()` under
`dagster dev`, `dagster-dbt project prepare-and-package` everywhere else).
"""

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ... import exports, report, store, warehouse
from ...dbt_project import build_args, dbt_project
from ...settings import Settings
from . import WAREHOUSE_STEP, refuse_after_failures

PARTIAL_PARSE = "partial_parse.msgpack"  # dbt's parse cache
KEEP_INVOCATION_DIRS = 3  # dagster-dbt gives each dbt invocation its own target/<name>-<ids>/ (~6 MB)

PUBLISHED = dg.AssetKey("warehouse_published")
EXPORTS = dg.AssetKey("warehouse_exports")
REPORT = dg.AssetKey("warehouse_report")
PUBLISH_STEP = "warehouse_published"

# Who answers for each layer (Dagster owners), unless a model's dbt meta names its own
# (`meta: {dagster: {owners: [...]}}`): engineers own what mirrors the forms, analysts the marts.
OWNERS_BY_LAYER = {
    "staging": ["team:warehouse-engineering"],
    "intermediate": ["team:warehouse-engineering"],
    "marts": ["team:warehouse-analytics"],
}


def layer_of(dbt_resource_props) -> str:
    """The warehouse layer of a dbt node: its schema (staging, intermediate, marts; seeds live in marts)."""
    return dbt_resource_props["schema"]


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Keys are [schema, name] for sources, models and seeds alike: the dbt source `raw.reports`
    is the asset `raw/reports` the landing step materializes. Every model and seed carries the
    tag `layer` and the owners of its layer; code references point at its SQL (or CSV) file."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_code_references=True))

    def get_asset_key(self, dbt_resource_props) -> dg.AssetKey:
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props) -> str | None:
        if dbt_resource_props["schema"] == "staging":
            return "staging"
        return "marts"

    def get_tags(self, dbt_resource_props) -> dict[str, str]:
        tags = {**super().get_tags(dbt_resource_props), "layer": layer_of(dbt_resource_props)}
        if dbt_resource_props["resource_type"] == "seed":
            tags["dbt_resource"] = "seed"
        return tags

    def get_owners(self, dbt_resource_props) -> list[str] | None:
        return list(super().get_owners(dbt_resource_props) or []) or OWNERS_BY_LAYER.get(
            layer_of(dbt_resource_props)
        )


def run_publishes(context: AssetExecutionContext) -> bool:
    """Whether this run publishes in its publish step (the whole load does; a subset picked in the
    UI may not run that step, or run it for the exports and report alone)."""
    plan = context.instance.get_execution_plan_snapshot(context.run.execution_plan_snapshot_id)
    selection = context.run.asset_selection
    # A run of a whole job has no selection (None, or empty when executed in process).
    return PUBLISH_STEP in plan.step_keys_to_execute and (not selection or PUBLISHED in selection)


def run_rebuilds_everything(context: AssetExecutionContext) -> bool:
    """Whether this run builds every dbt model and publishes: what a run that lands new raw tables
    must do, or the published warehouse would hold marts of another load (or none)."""
    selection = context.run.asset_selection
    return run_publishes(context) and (not selection or set(dbt_models.keys) <= set(selection))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=WarehouseDbtTranslator(),
    op_tags=WAREHOUSE_STEP,
)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource, settings: Settings):
    """`dbt build` (models, seeds, tests) on this run's build file, then each model's row count and
    column schema (`with_shapes`).

    A model counts as materialized only once it is in the published warehouse: when dbt fails,
    only the test results are reported (nothing is published); when the run does not include the
    publish step (a subset materialized in the UI), this step publishes, exports and reports."""
    refuse_after_failures(context)
    build = warehouse.ensure_build(settings, context.run.run_id)
    # only the reports this run's landing listed as changed, when this run landed the raw tables
    # (a subset run from the UI builds on a copy of the published warehouse: everything)
    landed_by, builds_on_published = warehouse.landing(build)
    args = build_args(build, landed_by == context.run.run_id, builds_on_published)
    invocation = dbt.cli(["build", *args], context=context, raise_on_error=False)
    events = list(invocation.stream())
    prune_invocation_dirs()
    keep_partial_parse(invocation.target_path)
    if not invocation.is_successful():
        yield from (e for e in events if isinstance(e, dg.AssetCheckResult | dg.AssetCheckEvaluation))
        raise dg.Failure(
            f"dbt build failed, nothing was published: {dbt_errors(invocation)}",
            allow_retries=False,
        )
    built = [e for e in events if isinstance(e, dg.Output | dg.AssetMaterialization)]
    yield from with_shapes(context, built, build)
    yield from (e for e in events if not isinstance(e, dg.Output | dg.AssetMaterialization))
    if not run_publishes(context):
        context.log.info("this run does not include warehouse_published: publishing from the dbt step")
        for key, metadata in publish_and_export(context, settings):
            context.log_event(dg.AssetMaterialization(asset_key=key, metadata=metadata))


def with_shapes(context: AssetExecutionContext, events: list, build: Path) -> Iterator:
    """Each model's and seed's event with its row count (tables only: a view's count would run its
    query) and column schema (`dagster/row_count`, `dagster/column_schema`), read from the build
    file in one read-only connection once dbt has let go of it (dagster-dbt's own fetch opens a dbt
    adapter connection per model, in threads: 3–4 s a build at 10,000 forms)."""
    keys = [
        e.asset_key if isinstance(e, dg.AssetMaterialization) else context.asset_key_for_output(e.output_name)
        for e in events
    ]
    shapes = warehouse.relation_shapes(build, tuple(sorted({key.path[0] for key in keys})))
    for event, key in zip(events, keys, strict=True):
        if tuple(key.path) not in shapes:
            context.log.warning(f"{key.to_user_string()} is not in the build file: no row count or schema")
            yield event
            continue
        rows, columns = shapes[tuple(key.path)]
        metadata = {"dagster/column_schema": dg.TableSchema([dg.TableColumn(n, t) for n, t in columns])}
        if rows is not None:
            metadata["dagster/row_count"] = rows
        yield event.with_metadata({**event.metadata, **metadata})


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


def keep_partial_parse(invocation_target: Path) -> None:
    """Make this invocation's parse cache (partial_parse.msgpack) the one the next invocation starts
    from: dagster-dbt copies the project's into each invocation's folder, and dbt re-parses the
    whole project (3–4 s) when its vars differ from those the cache was parsed with — the build
    file of a warehouse other than the configured one. Replaced in one step, so a concurrent
    invocation reads the old cache or the new; dbt checks any cache against the files it parses."""
    new = invocation_target / PARTIAL_PARSE
    if new.exists():
        target = dbt_project.project_dir / dbt_project.target_path
        tmp = target / f".{PARTIAL_PARSE}.{os.getpid()}"
        shutil.copyfile(new, tmp)
        os.replace(tmp, target / PARTIAL_PARSE)


def publish_and_export(context, settings: Settings) -> Iterator[tuple[dg.AssetKey, dict]]:
    """Publish this run's build file, then write the exports and the report of the new warehouse;
    yields (asset key, metadata) of the warehouse, the exports and the report, each once done."""
    refuse_after_failures(context)
    counts = warehouse.publish(settings, context.run.run_id)
    context.log.info(f"published {settings.warehouse}")
    store.prune(settings.store_root)
    store.prune_runs(settings.store_root)
    marts = {name: rows for name, rows in counts.items() if name.startswith("marts.")}
    yield (
        PUBLISHED,
        {
            "path": dg.MetadataValue.path(str(settings.warehouse)),
            "tables": len(counts),
            "mart_rows": dg.MetadataValue.json(marts),
            "row_counts": dg.MetadataValue.json(counts),
        },
    )
    yield from write_exports(context, settings)


def write_exports(context, settings: Settings) -> Iterator[tuple[dg.AssetKey, dict]]:
    """The exports and the report of the published warehouse, as (asset key, metadata)."""
    written = exports.export_marts(settings.warehouse, settings.exports_dir)
    context.log.info(f"exported {len(written.rows)} marts to {written.folder}")
    yield (
        EXPORTS,
        {
            "path": dg.MetadataValue.path(str(written.folder)),
            "workbook": dg.MetadataValue.path(str(written.folder / exports.WORKBOOK)),
            "marts": len(written.rows),
            "mart_rows": dg.MetadataValue.json(written.rows),
        },
    )
    page = report.build_report(settings.warehouse, settings.report_path, settings.data_raw)
    context.log.info(f"report at {page.path}")
    yield REPORT, {"path": dg.MetadataValue.path(str(page.path)), "rows": dg.MetadataValue.json(page.rows)}


@dg.multi_asset(
    name=PUBLISH_STEP,
    specs=[
        dg.AssetSpec(
            PUBLISHED,
            group_name="marts",
            kinds={"duckdb"},
            deps=list(dbt_models.keys),
            description=(
                "The warehouse analysts query (WAREHOUSE_PATH, default warehouse/warehouse.duckdb): "
                "this run's build file, moved over it in one atomic step once every dbt model and test "
                "has run. Readers holding the old file keep the previous complete load; new readers see "
                "the new one."
            ),
        ),
        dg.AssetSpec(
            EXPORTS,
            group_name="marts",
            kinds={"csv", "parquet", "excel"},
            deps=[PUBLISHED],
            description=(
                "Every mart of the published warehouse as CSV (UTF-8 with BOM), Parquet and one Excel "
                "workbook (a sheet per mart, the Chinese term under each column name), in exports/ "
                "beside the warehouse file (dbt exposure mart_exports; `make export` on demand)."
            ),
        ),
        dg.AssetSpec(
            REPORT,
            group_name="marts",
            kinds={"html", "plotly"},
            deps=[PUBLISHED],
            description=(
                "report.html beside the warehouse file: charts of execution rate by unit, points lost by "
                "reason category and 一级指标, attainment per department, and the forms that do not add "
                "up with links to their source; self-contained (opens offline). dbt exposure "
                "warehouse_report."
            ),
        ),
    ],
    op_tags=WAREHOUSE_STEP,
    can_subset=True,
)
def warehouse_published(context: AssetExecutionContext, settings: Settings):
    """Publish the build file, then export the marts and build the report from it; the exports and
    the report alone (selected without the warehouse) are rewritten from the published warehouse.
    A publish always rewrites both, so they never lag behind the warehouse."""
    selected = context.selected_asset_keys
    steps = publish_and_export if PUBLISHED in selected else write_exports
    for key, metadata in steps(context, settings):
        if key in selected:
            yield dg.MaterializeResult(asset_key=key, metadata=metadata)
        else:
            context.log_event(dg.AssetMaterialization(asset_key=key, metadata=metadata))
