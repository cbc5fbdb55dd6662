"""The dbt CLI as the tests run it: a real `dbt` process on a real DuckDB file (one place)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from paths import DBT_PROJECT, REPO


def dbt_cli(
    args: list[str], workdir: Path, warehouse: Path, project: Path = DBT_PROJECT
) -> subprocess.CompletedProcess:
    """`dbt <args>` on the DuckDB file `warehouse` with `project`, its target and logs under `workdir`."""
    dbt = Path(sys.executable).parent / "dbt"
    env = {
        **os.environ,
        "WAREHOUSE_BUILD_PATH": str(warehouse),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DO_NOT_TRACK": "1",
    }
    cmd = [
        str(dbt) if dbt.exists() else "dbt",
        *args,
        "--project-dir",
        str(project),
        "--profiles-dir",
        str(project),
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
    ]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
