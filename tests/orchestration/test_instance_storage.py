"""The instance storage of the project's dagster.yaml (orchestration/instance_storage.py): Dagster's
SQLite storage keeping an engine per database file records what the stock one records.

Real Dagster runs on real SQLite files; the multi-process path (a step per process, Dask workers)
is exercised by the loads of test_reliability.py and the Dask test of test_orchestration.py, which
run with the same dagster.yaml.
"""

import os
import shutil

import dagster as dg
import sqlalchemy
import yaml
from conftest import project_instance
from paths import REPO

from orchestration.instance_storage import (
    ENGINE_KEEPING_STORAGE,
    KEPT_RUN_FILES,
    RUNS_FILE,
    EngineKeepingEventLogStorage,
    EngineKeepingRunStorage,
)


@dg.asset
def numbers() -> list[int]:
    return [1, 2, 3]


@dg.asset_check(asset=numbers)
def numbers_positive(numbers: list[int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=all(n > 0 for n in numbers), metadata={"rows": len(numbers)})


@dg.asset(deps=[numbers])
def total(context: dg.AssetExecutionContext) -> int:
    context.log.info("adding up")
    return 6


JOB = dg.define_asset_job("numbers_job")
DEFS = dg.Definitions(assets=[numbers, total], asset_checks=[numbers_positive], jobs=[JOB])


def _run(instance: dg.DagsterInstance) -> tuple[list[str], dg.DagsterRun]:
    result = DEFS.resolve_job_def("numbers_job").execute_in_process(instance=instance)
    assert result.success
    logs = instance.all_logs(result.run_id)
    events = [e.dagster_event.event_type_value for e in logs if e.is_dagster_event]
    return events, instance.get_run_by_id(result.run_id)


def _project_instance(home, monkeypatch) -> dg.DagsterInstance:
    home.mkdir()
    shutil.copyfile(REPO / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    return project_instance(home, monkeypatch)


def test_the_project_instance_records_what_dagsters_own_sqlite_storage_records(tmp_path, monkeypatch):
    (tmp_path / "stock").mkdir()
    with dg.DagsterInstance.local_temp(str(tmp_path / "stock")) as stock:
        expected, _ = _run(stock)
    instance = _project_instance(tmp_path / "home", monkeypatch)
    try:
        assert isinstance(instance.event_log_storage, EngineKeepingEventLogStorage)
        assert isinstance(instance.run_storage, EngineKeepingRunStorage)
        events, run = _run(instance)
        assert events == expected
        assert run.status == dg.DagsterRunStatus.SUCCESS
        # cross-run queries read the index shard: the latest materialization, the check's verdict
        assert instance.get_latest_materialization_event(dg.AssetKey("total")).run_id == run.run_id
        check = dg.AssetCheckKey(dg.AssetKey("numbers"), "numbers_positive")
        [record] = instance.event_log_storage.get_asset_check_execution_history(check, limit=5)
        assert record.run_id == run.run_id and record.status.value == "SUCCEEDED"
        # Dagster's own layout under DAGSTER_HOME: a reader with the stock storage sees the run
        assert (tmp_path / "home" / "history" / "runs" / f"{run.run_id}.db").exists()
        (tmp_path / "home" / "dagster.yaml").unlink()
        with dg.DagsterInstance.from_config(str(tmp_path / "home")) as plain:
            assert [r.run_id for r in plain.get_runs()] == [run.run_id]
            assert len(plain.all_logs(run.run_id)) == len(instance.all_logs(run.run_id))
    finally:
        instance.dispose()


def test_a_second_run_reuses_the_engines_of_the_files_it_writes(tmp_path, monkeypatch):
    instance = _project_instance(tmp_path / "home", monkeypatch)
    try:
        storage = instance.event_log_storage
        assert isinstance(storage, EngineKeepingEventLogStorage)
        _, first = _run(instance)
        index = storage._engines.by_name["index"]
        _, second = _run(instance)
        # one engine per file: the index shard and each run's own file, kept across runs
        assert set(storage._engines.by_name) == {"index", first.run_id, second.run_id}
        assert storage._engines.by_name["index"] is index
    finally:
        instance.dispose()


def test_a_process_keeps_the_engines_of_its_latest_run_files_only(tmp_path, monkeypatch):
    """A long-lived process (the webserver) reads many runs: the index and the KEPT_RUN_FILES run
    files used last keep an engine, and with it an open connection; the others are closed."""
    instance = _project_instance(tmp_path / "home", monkeypatch)
    try:
        storage = instance.event_log_storage
        runs = [_run(instance)[1].run_id for _ in range(KEPT_RUN_FILES + 2)]
        assert set(storage._engines.by_name) == {"index", *runs[-KEPT_RUN_FILES:]}
        # reading an older run opens its file again, and the least recently used one goes
        assert {e.run_id for e in instance.all_logs(runs[0])} == {runs[0]}
        assert set(storage._engines.by_name) == {"index", *runs[-KEPT_RUN_FILES + 1 :], runs[0]}
        pools = [engine.pool for engine in storage._engines.by_name.values()]
        assert all(pool.checkedin() == 1 for pool in pools)  # an open connection each
    finally:
        instance.dispose()
    assert all(pool.checkedin() == 0 for pool in pools)  # closed with the instance


def test_the_next_run_stores_its_events_through_the_connections_kept_open(tmp_path, monkeypatch):
    instance = _project_instance(tmp_path / "home", monkeypatch)
    try:
        _run(instance)
        opened = []
        for engine in (
            instance.event_log_storage._engines.by_name["index"],
            instance.run_storage._engines.by_name[RUNS_FILE],
        ):
            sqlalchemy.event.listen(engine, "connect", lambda *_: opened.append(1))
        events, _ = _run(instance)
        # a few while connections overlap (one use inside another), not one or more per event
        assert len(events) > 20 and len(opened) * 5 < len(events), opened
    finally:
        instance.dispose()


def test_a_forked_child_never_uses_its_parents_connections(tmp_path, monkeypatch):
    """SQLite forbids using a connection across fork: a child builds engines of its own, stores
    and reads through them, and the parent's stay as they were."""
    instance = _project_instance(tmp_path / "home", monkeypatch)
    try:
        _, run = _run(instance)
        events, runs = instance.event_log_storage, instance.run_storage
        parent = (
            events._engines.by_name["index"],
            events._engines.by_name[run.run_id],
            runs._engines.by_name[RUNS_FILE],
        )
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, then leave without running the parent's cleanup
            ok = False
            try:
                instance.report_engine_event("written by a forked child", run)  # the run's file
                latest = instance.get_latest_materialization_event(dg.AssetKey("numbers"))  # the index
                ok = (
                    latest is not None
                    and len(instance.get_runs()) == 1
                    and all(
                        mine is not theirs
                        for mine, theirs in zip(
                            (
                                events._engines.by_name["index"],
                                events._engines.by_name[run.run_id],
                                runs._engines.by_name[RUNS_FILE],
                            ),
                            parent,
                            strict=True,
                        )
                    )
                )
            finally:
                os.write(write, b"1" if ok else b"0")
                os._exit(0)
        os.close(write)
        assert os.read(read, 1) == b"1"
        os.waitpid(pid, 0)
        assert (
            events._engines.by_name["index"],
            events._engines.by_name[run.run_id],
            runs._engines.by_name[RUNS_FILE],
        ) == parent
        assert "written by a forked child" in [e.message for e in instance.all_logs(run.run_id)]
    finally:
        instance.dispose()


def test_dagster_yaml_names_the_storage_class_the_throwaway_instance_uses():
    """orchestration/load/ builds an instance without DAGSTER_HOME from ENGINE_KEEPING_STORAGE:
    the same class as dagster.yaml's."""
    settings = yaml.safe_load((REPO / "orchestration" / "dagster.yaml").read_text())
    custom = settings["storage"]["custom"]
    assert {k: custom[k] for k in ("module", "class")} == ENGINE_KEEPING_STORAGE
    assert custom["config"] == {"base_dir": {"env": "DAGSTER_HOME"}}
