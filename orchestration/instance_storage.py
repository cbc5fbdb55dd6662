"""Dagster's SQLite instance storage, keeping one SQLAlchemy engine per database file.

Dagster's SQLite run and event log storages create a new engine for every connection: every
event a run stores (about 700 in a one-file reload, 770 in a full load) pays SQLAlchemy's
first-connect dialect set-up and compiles its INSERT again, because the compiled-statement cache
belongs to the engine.
These subclasses keep the engine (still `NullPool`: each connection is a fresh SQLite connection,
so nothing open crosses a fork and concurrent processes see each other's commits) and change
nothing else: same files, same schema, same locking. `orchestration/dagster.yaml` selects them as
`storage: custom`; an instance without that setting works as well, at Dagster's own speed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SQLITE_BUSY_TIMEOUT_SECONDS,
)
from dagster._core.storage.runs import SqliteRunStorage
from dagster._core.storage.schedules import SqliteScheduleStorage
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite_storage import (
    DagsterSqliteStorage,
    _event_logs_directory,
    _runs_directory,
    _schedule_directory,
)
from dagster._serdes import ConfigurableClassData
from dagster._utils import mkdir_p
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

# how dagster.yaml's `storage: custom` names EngineKeepingSqliteStorage (orchestration/dagster.yaml)
ENGINE_KEEPING_STORAGE = {"module": __name__, "class": "EngineKeepingSqliteStorage"}


class EngineKeepingEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` (one SQLite file per run plus `index.db` under `base_dir`) with
    one engine per file instead of one per connection."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines: dict[str, Engine] = {}
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        engine = self._engines.get(shard)
        if engine is None:
            engine = self._engines[shard] = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=NullPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
            )
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def has_table(self, table_name: str) -> bool:
        # asked on every asset check event (supports_asset_checks)
        engine = self._engine(INDEX_SHARD_NAME)
        with engine.connect() as conn:
            return bool(engine.dialect.has_table(conn, table_name))


class EngineKeepingRunStorage(SqliteRunStorage):
    """`SqliteRunStorage` (`runs.db` under its base_dir) with one engine for its file."""

    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None):
        self._engine = create_engine(conn_string, poolclass=NullPool)
        super().__init__(conn_string, inst_data)

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._engine.connect() as conn, conn.begin():
            yield conn


class EngineKeepingSqliteStorage(DagsterSqliteStorage):
    """`DagsterSqliteStorage` (Dagster's default layout under `base_dir`: history/runs.db,
    history/runs/<run id>.db, schedules/) built from the engine-keeping run and event log storages.

    dagster.yaml::

        storage:
          custom:
            module: orchestration.instance_storage
            class: EngineKeepingSqliteStorage
            config:
              base_dir: {env: DAGSTER_HOME}
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self.base_dir = base_dir
        mkdir_p(base_dir)
        self._run_storage = EngineKeepingRunStorage.from_local(_runs_directory(base_dir))
        self._event_log_storage = EngineKeepingEventLogStorage(_event_logs_directory(base_dir))
        self._schedule_storage = SqliteScheduleStorage.from_local(_schedule_directory(base_dir))
        self._inst_data = inst_data
        super(DagsterSqliteStorage, self).__init__()

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData, config_value: dict
    ) -> EngineKeepingSqliteStorage:
        return cls(inst_data=inst_data, **config_value)
