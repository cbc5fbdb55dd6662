"""The dbt project as dagster-dbt sees it (absolute imports only: `dagster-dbt project
prepare-and-package --file orchestration/dbt_project.py` loads this file by path).

`prepare_if_dev()` re-parses the project under `dagster dev`, so a model edit shows up on the next
reload; everywhere else the manifest is built beforehand by that command (`make install` runs it
whenever a file of the dbt project changed; a deploy runs it once).

The build file reaches dbt as the var `warehouse_build_path` (read by dbt_project/profiles.yml),
not through the environment. The manifest is parsed with the var of the configured warehouse, so
dbt's partial parsing stays valid for the loads into it (another value costs one full parse).
"""

import json
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.settings import DBT_PROJECT_DIR, Settings

BUILD_PATH_VAR = "warehouse_build_path"
ONLY_CHANGED_VAR = "only_changed_reports"


def build_vars(build_path: Path, only_changed_reports: bool = True) -> list[str]:
    """The dbt arguments that point dbt at `build_path`, and the var only_changed_reports
    (dbt_project/macros/incremental.sql): true when the load landed the raw tables of that file and
    wrote its `loader.report_changes` (what its marts miss: on a copy of the published warehouse,
    the changes; on a fresh file, every report). The manifest is parsed with it true, as every load
    of a file it landed runs: dbt parses again whenever the vars differ (≈ 2.7 s)."""
    return [
        "--vars",
        json.dumps({BUILD_PATH_VAR: str(build_path), ONLY_CHANGED_VAR: only_changed_reports}),
    ]


# dbt's own log file (target/<invocation>/dbt.log) at info: the nodes, their results and errors.
# At its default, debug, it also logs every statement dbt sends and each step around it, ~14,000
# lines a build that cost ~1.5 s of the ~15 s dbt spends on 200 nodes; each node's SQL is kept
# anyway in the invocation's target/run/ and target/compiled/.
DBT_FLAGS = ["--log-level-file", "info"]


# What a build on a copy of the published warehouse leaves out: the unit tests. That copy was
# built by the same dbt project (plan.code_version covers every file of it), and a unit test reads
# no warehouse data, only its SQL and fixtures: it passed on the same code. Every data test runs.
# (Seeds run too: left out, their assets would not be materialized and the publish, downstream of
# every dbt asset, would be skipped.)
ALREADY_TESTED = ["--exclude", "resource_type:unit_test"]


def build_args(build_path: Path, only_changed_reports: bool, builds_on_published: bool) -> list[str]:
    """The arguments of a load's `dbt build` after "build" on `build_path`: `build_vars`, with
    `only_changed_reports` when this load landed it, and `ALREADY_TESTED` (the unit tests left out)
    when it also started as a copy of the published warehouse (`builds_on_published`,
    loader.load_state)."""
    on_published = only_changed_reports and builds_on_published
    return [*build_vars(build_path, only_changed_reports), *(ALREADY_TESTED if on_published else [])]


dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    prepare_project_cli_args=["parse", "--quiet", *build_vars(Settings.from_env().build_path)],
)
dbt_project.prepare_if_dev()
