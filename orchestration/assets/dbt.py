"""dbt models as assets (dagster-dbt), and the final publish of the warehouse.

The dbt sources (schema `staging`) map to the staging assets' keys, so lineage runs unbroken:
report_files → extracted_reports → staging/* → dbt staging views → intermediate → marts →
warehouse_published. dbt tests become asset checks on the models they test.

The manifest is prepared here, when the definitions load: `dbt parse` runs if
dbt_project/target/manifest.json is missing or older than any file of the dbt project. That works
the same in a fresh clone, in CI, under pytest and under `dagster dev` (where a model edit shows up
on the next reload), with no separate build step to forget.
"""

import fcntl
import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from .. import settings, warehouse

KEEP_INVOCATION_DIRS = 3  # dagster-dbt gives each dbt invocation its own target/<name>-<ids>/ (~6 MB)
PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md", ".jinja"}
SKIP_DIRS = {"target", "logs", "dbt_packages"}

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)


def _newest_project_file(project_dir: Path) -> float:
    newest = 0.0
    for dirpath, dirnames, filenames in os.walk(project_dir):
        dirnames[:] = [d for d in dirnames if d not in SKIP_DIRS and not d.startswith(".")]
        for name in filenames:
            if Path(name).suffix in PROJECT_FILE_SUFFIXES:
                newest = max(newest, os.stat(os.path.join(dirpath, name)).st_mtime)
    return newest


def manifest_is_stale(project: DbtProject = dbt_project) -> bool:
    manifest = project.manifest_path
    return not manifest.exists() or manifest.stat().st_mtime < _newest_project_file(project.project_dir)


def prepare_manifest(project: DbtProject = dbt_project, force: bool = False) -> Path:
    """`dbt parse` when the manifest is missing or stale; serialized across processes by a lock."""
    if not force and not manifest_is_stale(project):
        return project.manifest_path
    target = project.project_dir / project.target_path
    target.mkdir(parents=True, exist_ok=True)
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if force or manifest_is_stale(project):
            subprocess.run(
                [
                    settings.dbt_executable(),
                    "parse",
                    "--quiet",
                    "--project-dir",
                    str(project.project_dir),
                    "--profiles-dir",
                    str(project.profiles_dir),
                    "--target-path",
                    str(target),
                ],
                check=True,
                cwd=project.project_dir,
                env={
                    **os.environ,
                    "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                    # the value runs will use, so dbt's partial parse stays valid for them
                    settings.WAREHOUSE_BUILD_PATH_ENV: str(settings.build_path()),
                },
            )
    return project.manifest_path


prepare_manifest()


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Keys are [schema, name] for sources, models and seeds alike: the dbt source `raw.reports`
    is the asset `raw/reports` the staging step materializes."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        return dg.AssetKey([dbt_resource_props["schema"], dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["schema"] == "staging":
            return "staging"
        return "marts"


translator = WarehouseDbtTranslator()


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(
        project_dir=dbt_project,
        profiles_dir=str(settings.DBT_PROJECT_DIR),
        dbt_executable=settings.dbt_executable(),
    )


@dbt_assets(manifest=dbt_project.manifest_path, project=dbt_project, dagster_dbt_translator=translator)
def dbt_models(context: AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build` (models, seeds, tests) on this run's build file."""
    build = warehouse.ensure_build(context.run.run_id)
    os.environ[settings.WAREHOUSE_BUILD_PATH_ENV] = str(build)  # read by dbt_project/profiles.yml
    yield from dbt.cli(["build"], context=context).stream()
    prune_invocation_dirs()


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
    description=(
        "The warehouse analysts query (WAREHOUSE_PATH, default warehouse/warehouse.duckdb): this run's "
        "build file, moved over it in one atomic step once every dbt model and test has run. Readers "
        "holding the old file keep the previous complete load; new readers see the new one."
    ),
)
def warehouse_published(context: AssetExecutionContext) -> dg.MaterializeResult:
    counts = warehouse.publish(context.run.run_id, schemas=("raw", "staging", "intermediate", "marts"))
    path = settings.warehouse_path()
    context.log.info(f"published {path}")
    marts = {name: rows for name, rows in counts.items() if name.startswith("marts.")}
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "tables": len(counts),
            "mart_rows": dg.MetadataValue.json(marts),
            "row_counts": dg.MetadataValue.json(counts),
        }
    )
