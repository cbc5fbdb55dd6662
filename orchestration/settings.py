"""Every setting of a load, read in one place: the `settings` resource.

`Settings.from_env()` reads the environment variables below once (when the code location loads,
or when a launcher builds a run); `Settings.run_config()` carries the values inside the run, so
that every step process — on this machine or on a Dask worker elsewhere — works with the values
the run was launched with, whatever its own environment says. Relative paths are resolved against
the repository root, never against the current directory.

| variable | field | default |
|---|---|---|
| DATA_RAW_DIR | data_raw_dir | data_raw |
| WAREHOUSE_PATH | warehouse_path | warehouse/warehouse.duckdb |
| EXTRACT_STORE | store | extract_store/ beside the warehouse |
| EXTRACT_TIMEOUT_S | extract_timeout_s | 300 (0: no limit) |
| EXTRACT_TIMEOUT_PER_PAGE_S | extract_timeout_per_page_s | 20 (added per page of a PDF: OCR) |
| EXTRACT_MEMORY_MB | extract_memory_mb | 2048 (0: no limit) |
| EXTRACT_MAX_PAGES | extract_max_pages | 5000 |
| LOAD_EXECUTOR | executor | multiprocess (also: in_process, dask) |
| LOAD_IN_PROCESS_FILES | in_process_files | 20 (fewer files to read: steps in process; 0: never) |
| EXTRACT_WORKERS | extract_workers | the machine's cores |
| EXTRACT_SHARDS | extract_shards | EXTRACT_WORKERS |
| ALLOW_SHRINK | allow_shrink | 0 (1: publish although most files are gone or unread) |
| LOAD_WAIT_S | load_wait_s | 60 (how long a load waits for another one on the warehouse) |
| LOAD_PROGRESS_S | progress_interval_s | 2 (a progress line at most this often; 0: one per file) |

No Dagster step writes the environment: extraction workers get the page limit through their
initializer, dbt gets the build file through `--vars`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
from pydantic import Field, ValidationError, field_validator

from extract.pdf.reader import MAX_PAGES, MAX_PAGES_ENV  # the page limit is the extractor's rule

from .workers import Limits

REPO_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"

EXECUTORS = ("multiprocess", "in_process", "dask")
# The file name dbt works on. dbt-duckdb names the database after the file's stem, and the prepared
# manifest (through which dagster-dbt reads row counts and schemas) holds that name: dbt builds a
# file of this name, which the publish moves over the warehouse whatever WAREHOUSE_PATH calls it.
DBT_FILE = "warehouse.duckdb"
MAX_STEPS = 1024  # EXTRACT_WORKERS and EXTRACT_SHARDS at most
WAREHOUSE_TAG = "fiscal_perf/warehouse"  # the run queue's one-run-per-warehouse limit keys on it

# field → environment variable
ENV_VARS = {
    "data_raw_dir": "DATA_RAW_DIR",
    "warehouse_path": "WAREHOUSE_PATH",
    "store": "EXTRACT_STORE",
    "extract_timeout_s": "EXTRACT_TIMEOUT_S",
    "extract_timeout_per_page_s": "EXTRACT_TIMEOUT_PER_PAGE_S",
    "extract_memory_mb": "EXTRACT_MEMORY_MB",
    "extract_max_pages": MAX_PAGES_ENV,
    "executor": "LOAD_EXECUTOR",
    "in_process_files": "LOAD_IN_PROCESS_FILES",
    "extract_workers": "EXTRACT_WORKERS",
    "extract_shards": "EXTRACT_SHARDS",
    "allow_shrink": "ALLOW_SHRINK",
    "load_wait_s": "LOAD_WAIT_S",
    "progress_interval_s": "LOAD_PROGRESS_S",
}


class SettingsError(ValueError):
    """A setting with a value that cannot be used; the message names the variable."""


def _resolve(value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else REPO_ROOT / path


def cores() -> int:
    """CPUs this process may run on (the affinity mask, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Settings(dg.ConfigurableResource):
    """Where a load reads and writes, and the bounds of its extraction."""

    data_raw_dir: str = Field(
        "data_raw", description="Folder of report files (.pdf, .txt), read recursively."
    )
    warehouse_path: str = Field("warehouse/warehouse.duckdb", description="The published DuckDB warehouse.")
    store: str = Field(
        "",
        description="Content-addressed store of extraction results (a folder every worker sees); "
        "empty: extract_store/ beside the warehouse.",
    )
    extract_timeout_s: float = Field(
        300.0, ge=0, allow_inf_nan=False, description="Per-file time limit in seconds; 0: none."
    )
    # A scanned page costs seconds of OCR (README, "Scanned PDFs"), several times that on a loaded
    # machine; a printed page a fraction of one. The bound is for files that hang, not slow ones.
    extract_timeout_per_page_s: float = Field(
        20.0,
        ge=0,
        allow_inf_nan=False,
        description="Seconds added to the per-file limit for each page of a PDF.",
    )
    extract_memory_mb: int = Field(
        2048,
        ge=0,
        description="Per-file memory bound in MB: the address space a worker may add to what it "
        "starts with while it reads a file (RLIMIT_AS); 0: none.",
    )
    extract_max_pages: int = Field(MAX_PAGES, ge=1, description="Files with more pages: too_large.")
    executor: str = Field("multiprocess", description="Dagster executor of the load: " + ", ".join(EXECUTORS))
    # Starting a step process costs ~1 s (seven steps); two cores save half of reading a file
    # (~70 ms): below some tens of files, one process is faster.
    in_process_files: int = Field(
        20,
        ge=0,
        description="With the multiprocess executor, a load with at most this many files to read "
        "runs its steps one after the other in the launching process; 0: never.",
    )
    extract_workers: int = Field(
        0, ge=0, le=MAX_STEPS, description="Extraction steps run at once here; 0: one per core."
    )
    # each shard is a step of the job's graph, built whenever the definitions load
    extract_shards: int = Field(
        0, ge=0, le=MAX_STEPS, description="Extraction steps the files are split into; 0: workers."
    )
    allow_shrink: bool = Field(
        False,
        description="Publish a load that found too few of the files the published warehouse was "
        "built from, or read too few of its report copies (a share below plan.SHRINK_MIN_SHARE); "
        "1/0, true/false or yes/no; 0: refuse it.",
    )
    load_wait_s: float = Field(
        60.0,
        ge=0,
        allow_inf_nan=False,
        description="Seconds a load waits for another load of the same warehouse; then refused.",
    )
    # Each line is an event in the run's event log (a SQLite commit): one per file made the events
    # the larger part of what an extraction step spent beside reading.
    progress_interval_s: float = Field(
        2.0,
        ge=0,
        allow_inf_nan=False,
        description="An extraction progress line at most this often (seconds), and one for every file "
        "with an error and for the last; 0: one per file.",
    )

    @field_validator("store")
    @classmethod
    def _a_folder(cls, value: str) -> str:
        scheme, found, _ = value.partition("://")
        if found and scheme != "file":
            raise ValueError(
                f"the store is a folder every worker sees (a path or a file:// URL), not a {scheme}:// URL"
            )
        return value

    @field_validator("executor")
    @classmethod
    def _known_executor(cls, value: str) -> str:
        if value not in EXECUTORS:
            raise ValueError(f"expected one of {', '.join(EXECUTORS)}")
        return value

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings the environment gives (unset or empty variables keep their defaults).

        Values are parsed by the fields' own types (pydantic): a whole number for a count, a finite
        number for seconds, a yes/no (1/0, true/false, yes/no, on/off) for ALLOW_SHRINK. Raises
        SettingsError naming each variable with a value not of its kind or out of range, and what
        the variable means."""
        environ = os.environ if environ is None else environ
        values = {name: environ.get(variable, "").strip() for name, variable in ENV_VARS.items()}
        try:
            return cls(**{name: raw for name, raw in values.items() if raw})
        except ValidationError as exc:  # the variable, not the field, and what it means
            problems = []
            for error in exc.errors():
                field = str(error["loc"][0]) if error["loc"] else ""
                reason = str(error["msg"]).removeprefix("Value error, ")
                # a type or range error gets what the variable means (our own validators say it)
                own = error["type"] == "value_error" or field not in cls.model_fields
                meaning = None if own else cls.model_fields[field].description
                problem = f"{ENV_VARS.get(field, field)}={values.get(field, '')}: {reason}"
                problems.append(f"{problem} ({meaning})" if meaning else problem)
            raise SettingsError("; ".join(problems)) from None

    def run_config(self) -> dict:
        """This resource's values as run config, so every step of the run sees exactly them."""
        return {"resources": {"settings": {"config": {name: getattr(self, name) for name in ENV_VARS}}}}

    def for_load(self, files_to_read: int | None) -> Settings:
        """The settings of a load that reads `files_to_read` files (None: not known): with the
        multiprocess executor and at most `in_process_files` of them, the in-process executor."""
        if (
            self.executor == "multiprocess"
            and files_to_read is not None
            and files_to_read <= self.in_process_files
        ):
            return self.model_copy(update={"executor": "in_process"})
        return self

    def launch_config(self) -> dict:
        """The run config a launcher starts a load with: `run_config()`, and which of the two
        executors of one machine runs it (`defs.resources.executor_for`)."""
        if self.executor == "dask":
            return self.run_config()
        return {**self.run_config(), "execution": {"config": {"in_process": self.executor == "in_process"}}}

    def run_tags(self) -> dict[str, str]:
        """Tags of a load's run: its warehouse, on which the instance's run queue allows one run
        at a time (orchestration/dagster.yaml)."""
        return {WAREHOUSE_TAG: str(self.warehouse)}

    # ------------------------------------------------------------------ derived paths

    @property
    def data_raw(self) -> Path:
        return _resolve(self.data_raw_dir)

    @property
    def warehouse(self) -> Path:
        return _resolve(self.warehouse_path)

    @property
    def build_dir(self) -> Path:
        """Scratch folder beside the warehouse where a load builds the next version of it
        (.build/, or .build/<file name>/ for a warehouse not named DBT_FILE: one per warehouse)."""
        scratch = self.warehouse.parent / ".build"
        return scratch if self.warehouse.name == DBT_FILE else scratch / self.warehouse.name

    @property
    def build_path(self) -> Path:
        """The database file a load writes into; `warehouse_published` moves it over the warehouse.
        Always named DBT_FILE, whatever the warehouse is called (see DBT_FILE)."""
        return self.build_dir / DBT_FILE

    @property
    def exports_dir(self) -> Path:
        """CSV, Parquet and Excel exports of the marts, beside the warehouse (orchestration/exports.py)."""
        return self.warehouse.parent / "exports"

    @property
    def report_path(self) -> Path:
        """The HTML report of the marts, beside the warehouse (orchestration/report.py)."""
        return self.warehouse.parent / "report.html"

    @property
    def docs_dir(self) -> Path:
        """The dbt docs site and the warehouse copy it is generated from (orchestration/docs.py)."""
        return self.warehouse.parent / ".docs"

    @property
    def store_root(self) -> Path:
        value = self.store.removeprefix("file://")
        return _resolve(value) if value else self.warehouse.parent / "extract_store"

    @property
    def file_index_path(self) -> Path:
        """Sizes, mtimes and sha256 of the last scan, so unchanged files are not hashed again."""
        return self.warehouse.parent / ".file_index.parquet"

    @property
    def workers(self) -> int:
        return self.extract_workers or cores()

    @property
    def shards(self) -> int:
        return self.extract_shards or self.workers

    @property
    def processes_per_step(self) -> int:
        """Worker processes an extraction step reads with: one where the executor runs steps side
        by side, all the workers where it runs them one at a time."""
        return self.workers if self.executor == "in_process" else 1

    def limits(self) -> Limits:
        """The per-file bounds of extraction (the page limit reaches the extractor in its workers)."""
        return Limits(
            timeout_s=self.extract_timeout_s or None,
            timeout_per_page_s=self.extract_timeout_per_page_s,
            memory_mb=self.extract_memory_mb or None,
            env=((MAX_PAGES_ENV, str(self.extract_max_pages)),),
        )


def dbt_executable() -> str:
    """The dbt installed beside the running interpreter (the project's virtualenv), else PATH's."""
    candidate = Path(sys.executable).parent / "dbt"
    return str(candidate) if candidate.exists() else "dbt"
