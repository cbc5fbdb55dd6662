"""Dagster's SQLite instance storage, keeping one SQLAlchemy engine per database file, and its
connections open.

Dagster's SQLite run and event log storages create a new engine for every connection, with
`NullPool`: every event a run stores (about 700 in a one-file reload, 770 in a full load) pays
SQLAlchemy's first-connect dialect set-up, compiles its INSERT again (the compiled-statement
cache belongs to the engine), opens the file and closes it, and the close of a file's last
connection checkpoints its write-ahead log and syncs it to disk. These subclasses keep an engine
per file with SQLAlchemy's default pool for SQLite files (`QueuePool`, connections shared by
threads one at a time, `check_same_thread` off, as SQLAlchemy sets it for file databases), so a
connection stays open from one event to the next: 300 events stored took 1.7–2.1 s on this
machine's disk with an engine kept but no pool, 0.7 s pooled (in /dev/shm 0.8 and 0.3 s). A
pooled connection is returned rolled back, so it holds no lock between events, and other
processes see each commit as before. Engines of at most `KEPT_RUN_FILES` run files stay open (a
long-lived webserver reads many), and a forked child never uses its parent's connections (SQLite
forbids it): it builds its own and leaves the inherited ones untouched. Files, schema and
locking are Dagster's. `orchestration/dagster.yaml` selects this storage as `storage: custom`; an
instance without that setting works as well, at Dagster's own speed.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
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
from sqlalchemy.pool import QueuePool

# how dagster.yaml's `storage: custom` names EngineKeepingSqliteStorage (orchestration/dagster.yaml)
ENGINE_KEEPING_STORAGE = {"module": __name__, "class": "EngineKeepingSqliteStorage"}
KEPT_RUN_FILES = 4  # run event-log files whose engine (and open connection) a process keeps
RUNS_FILE = "runs"  # the run storage's one file, by name among its engines
_INHERITED: list[object] = []  # a forked child's parent engines: kept from the collector, never used


class ProcessEngines:
    """This process's pooled engines by name (one per database file), each built on first use and
    keeping one idle connection open (more while threads overlap, closed on return). At most
    `keep` of them besides the `pinned` names (None: no bound), the least recently used closed
    first; in a forked child, engines of its own (SQLite forbids using a parent's connection)."""

    def __init__(self, keep: int | None = None, pinned: frozenset[str] = frozenset()):
        self._keep, self._pinned = keep, pinned
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @property
    def by_name(self) -> dict[str, Engine]:
        """The engines kept, least recently used first."""
        return dict(self._engines)

    def get(self, name: str, conn_string: str, **connect_args) -> Engine:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's connections are not ours
                _INHERITED.append(self._engines)
                self._engines, self._pid = OrderedDict(), os.getpid()
            engine = self._engines.get(name)
            if engine is None:
                engine = self._engines[name] = create_engine(
                    conn_string, poolclass=QueuePool, pool_size=1, max_overflow=-1, connect_args=connect_args
                )
                if self._keep is not None:
                    unpinned = [n for n in self._engines if n not in self._pinned]
                    for old in unpinned[: max(0, len(unpinned) - self._keep)]:
                        self._engines.pop(old).dispose()  # a connection in use closes when returned
            self._engines.move_to_end(name)
            return engine

    def dispose(self) -> None:
        """Close the connections kept open (this process's; a forked child leaves its parent's)."""
        with self._lock:
            if self._pid == os.getpid():
                for engine in self._engines.values():
                    engine.dispose()
            self._engines.clear()


class EngineKeepingEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` (one SQLite file per run plus `index.db` under `base_dir`) with
    one pooled engine per file instead of a new engine per connection."""

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None):
        self._engines = ProcessEngines(keep=KEPT_RUN_FILES, pinned=frozenset({INDEX_SHARD_NAME}))
        super().__init__(base_dir, inst_data)

    def _engine(self, shard: str) -> Engine:
        return self._engines.get(
            shard, self.conn_string_for_shard(shard), timeout=SQLITE_BUSY_TIMEOUT_SECONDS
        )

    def dispose(self) -> None:
        """Also close the connections kept open (the instance is done with this storage)."""
        super().dispose()
        self._engines.dispose()

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
    """`SqliteRunStorage` (`runs.db` under its base_dir) with one pooled engine for its file."""

    def __init__(self, conn_string: str, inst_data: ConfigurableClassData | None = None):
        self._engines = ProcessEngines()
        super().__init__(conn_string, inst_data)  # sets self._conn_string

    def dispose(self) -> None:
        """Also close the connection kept open (the instance is done with this storage)."""
        super().dispose()
        self._engines.dispose()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self._engines.get(RUNS_FILE, self._conn_string).connect() as conn, conn.begin():
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
