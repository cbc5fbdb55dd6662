"""Where things are: input folder, warehouse file, build file, extraction cache.

Every value is read from the environment when it is asked for (not at import), so a test or a
sensor evaluation can point a process at another folder. Relative paths are resolved against the
repository root, never against the current directory.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

DATA_RAW_DIR_ENV = "DATA_RAW_DIR"
WAREHOUSE_PATH_ENV = "WAREHOUSE_PATH"
# Set by the orchestration for dbt (profiles.yml reads it): the file a load builds into.
WAREHOUSE_BUILD_PATH_ENV = "WAREHOUSE_BUILD_PATH"

DEFAULT_DATA_RAW_DIR = "data_raw"
DEFAULT_WAREHOUSE_PATH = "warehouse/warehouse.duckdb"


def _resolve(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def data_raw_dir() -> Path:
    """The folder of report files (.pdf, .txt) to load; `DATA_RAW_DIR`, default `data_raw/`."""
    return _resolve(os.environ.get(DATA_RAW_DIR_ENV) or DEFAULT_DATA_RAW_DIR)


def warehouse_path() -> Path:
    """The published warehouse analysts query; `WAREHOUSE_PATH`, default `warehouse/warehouse.duckdb`."""
    return _resolve(os.environ.get(WAREHOUSE_PATH_ENV) or DEFAULT_WAREHOUSE_PATH)


def build_dir() -> Path:
    """Scratch folder beside the warehouse where a load builds the next version of it."""
    return warehouse_path().parent / ".build"


def build_path() -> Path:
    """The database file a load writes into; `warehouse_published` moves it over the warehouse."""
    return build_dir() / warehouse_path().name


def extract_cache_dir() -> Path:
    """Per-file extraction results, keyed by content hash and extractor version."""
    return warehouse_path().parent / "extract_cache"


def dbt_executable() -> str:
    """The dbt installed beside the running interpreter (the project's virtualenv), else PATH's."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"
