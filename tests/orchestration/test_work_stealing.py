"""Work stealing between the extraction steps of a load (`extract_files` with `claims`): each
content is read by exactly one step, a step that is done with its own shard reads what the others
have not started yet, and the steps' entry lists together name every file exactly once. Real
worker pools on real text dumps."""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path

import pyarrow.parquet as pq
from conftest import SAMPLES_DIR

from orchestration.extraction import extract_files, missing_entries, offer, write_entries
from orchestration.inputs import scan_report_files
from orchestration.workers import IN_FLIGHT, Limits, run_bounded

TEXT = SAMPLES_DIR / "text"
LIMITS = Limits(timeout_s=120, memory_mb=None)


def _files(tmp_path: Path, count: int):
    data_raw = tmp_path / "data_raw"
    data_raw.mkdir()
    for source in sorted(TEXT.glob("*.txt"))[:count]:
        shutil.copy(source, data_raw / source.name)
    files = scan_report_files(data_raw)
    assert len(files) == count
    return files


def test_an_item_the_pool_is_refused_gets_no_outcome_and_items_are_handed_over_as_workers_free():
    handed_when: dict[int, int] = {}  # item → outcomes yielded when it was offered
    yielded = 0

    def admit(index: int) -> bool:
        handed_when[index] = yielded
        return index % 2 == 0

    outcomes = []
    for index, outcome in run_bounded(time.sleep, [0.05] * 10, LIMITS, max_workers=1, admit=admit):
        outcomes.append((index, outcome.kind))
        yielded += 1
    assert sorted(outcomes) == [(i, "ok") for i in range(0, 10, 2)]
    # offered lazily: never more than IN_FLIGHT per worker ahead of what has finished
    admitted = [i for i in sorted(handed_when) if i % 2 == 0]
    assert all(handed_when[i] >= admitted.index(i) - IN_FLIGHT for i in admitted), handed_when
    assert handed_when[8] > 0


def test_a_step_done_with_its_own_shard_reads_what_the_others_listed_and_nothing_twice(tmp_path):
    """The second step has listed what it has to read but not started (a step queued behind
    others): the first reads its own shard, then those; the second then finds them claimed."""
    files = _files(tmp_path, 6)
    first, second = files[:1], files[1:]
    store, run_dir, claims = tmp_path / "store", tmp_path / "run", tmp_path / "run" / "claims"
    offer(claims, sorted(f.content_key for f in second))
    entries_1, stats_1 = extract_files(first, store, run_dir, LIMITS, others=second, claims=claims)
    entries_2, stats_2 = extract_files(second, store, run_dir, LIMITS, others=first, claims=claims)
    assert len(stats_1.read) == 6 and stats_1.read_for_others == 5 and stats_1.taken_by_others == 0
    assert stats_2.read == [] and stats_2.taken_by_others == 5 and entries_2 == []
    lists = [
        write_entries(e, tmp_path / f"entries-{i}.parquet") for i, e in enumerate((entries_1, entries_2))
    ]
    assert missing_entries(files, lists) == []
    # steps one after the other (the in-process executor): nothing listed yet, nothing stolen
    run_2, claims_2 = tmp_path / "run2", tmp_path / "run2" / "claims"
    alone, stats = extract_files(first, tmp_path / "store2", run_2, LIMITS, others=second, claims=claims_2)
    assert len(alone) == 1 and stats.read_for_others == 0
    # a later load, every content stored: each step takes its own from the store, lists nothing
    entries_3, stats_3 = extract_files(
        second, store, tmp_path / "run3", LIMITS, others=first, claims=claims_2
    )
    assert stats_3.store_hits == 5 and stats_3.read == [] and len(entries_3) == 5


def test_steps_side_by_side_read_every_content_once_and_name_every_file(tmp_path):
    files = _files(tmp_path, 12)
    shards = [files[:3], files[3:]]  # uneven: the step with the small shard steals (timing allowing)
    store, run_dir, claims = tmp_path / "store", tmp_path / "run", tmp_path / "run" / "claims"
    results: dict[int, tuple] = {}

    def step(index: int) -> None:
        others = [f for i, shard in enumerate(shards) if i != index for f in shard]
        results[index] = extract_files(shards[index], store, run_dir, LIMITS, others=others, claims=claims)

    threads = [threading.Thread(target=step, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    reads = [name for _, stats in results.values() for name in stats.read]
    assert sorted(reads) == sorted(f.label for f in files)  # each content read once, by one step
    assert results[0][1].read_for_others == results[1][1].taken_by_others
    assert results[1][1].read_for_others == results[0][1].taken_by_others
    lists = [write_entries(results[i][0], tmp_path / f"entries-{i}.parquet") for i in range(2)]
    assert missing_entries(files, lists) == []
    names = [n for path in lists for n in pq.read_table(path)["name"].to_pylist()]
    assert sorted(names) == sorted(f.label for f in files)


def test_entry_lists_that_miss_a_file_or_name_one_twice_are_caught(tmp_path):
    files = _files(tmp_path, 3)
    entries, _ = extract_files(files, tmp_path / "store", tmp_path / "run", LIMITS)
    whole = write_entries(entries, tmp_path / "whole.parquet")
    assert missing_entries(files, [whole]) == []
    short = write_entries(entries[1:], tmp_path / "short.parquet")
    assert missing_entries(files, [short]) == [entries[0][0]]
    assert missing_entries(files, [whole, short]) == sorted(name for name, _ in entries[1:])
