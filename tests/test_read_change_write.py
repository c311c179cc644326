"""The one ETag read-change-write helper: concurrent writers on real Azurite lose no update."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from azure.core.exceptions import ResourceNotFoundError

from shared import fleet
from shared.errors import ConcurrencyConflict
from shared.storage import container, etag_backoff, read_change_write, read_json, update_json, write_json

ROUNDS = 10


def _race(settings, name: str, first_reads_together: threading.Barrier, calls: list[str]):
    """Two writers, each adding ROUNDS items to one JSON list; both read before either writes the first time."""
    client = container(settings.curated_container, settings)

    def writer(tag: str) -> None:
        for i in range(ROUNDS):

            def change(document, item=f"{tag}{i}"):
                calls.append(item)
                if len(calls) <= 2:
                    first_reads_together.wait(timeout=10)
                return {"items": [*(document or {"items": []})["items"], item]}

            update_json(client, name, change)

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(writer, ("a", "b")))
    return read_json(client, name)[0]


def test_two_threads_racing_on_one_blob_lose_no_update(settings):
    calls: list[str] = []
    stored = _race(settings, "counter.json", threading.Barrier(2), calls)
    expected = {f"{tag}{i}" for tag in "ab" for i in range(ROUNDS)}
    assert sorted(stored["items"]) == sorted(expected)  # every write is there, once
    assert len(calls) > 2 * ROUNDS  # and the race was real: at least one change ran again after a lost write


def test_a_change_that_returns_none_writes_nothing(settings):
    client = container(settings.curated_container, settings)
    etag = write_json(client, "doc.json", {"n": 1})
    assert update_json(client, "doc.json", lambda doc: None) == {"n": 1}
    assert read_json(client, "doc.json") == ({"n": 1}, etag)


def test_a_missing_container_is_not_a_race_and_fails_at_once(settings):
    client = container("no-such-container-here", settings)
    calls = []

    def change(document):
        calls.append(document)
        return {"n": 1}

    with pytest.raises(ResourceNotFoundError):
        update_json(client, "doc.json", change)
    assert len(calls) == 1


def test_a_race_lost_every_time_ends_in_a_conflict_naming_the_blob(settings):
    client = container(settings.curated_container, settings)
    write_json(client, "busy.json", {"n": 0})

    def change(document):
        write_json(client, "busy.json", {"n": document["n"] + 100})  # another writer, every time
        return {"n": document["n"] + 1}

    with pytest.raises(ConcurrencyConflict, match=r"busy\.json after 3 attempts"):
        update_json(client, "busy.json", change, attempts=3)
    assert read_json(client, "busy.json")[0] == {"n": 300}


def test_other_errors_propagate_without_retry():
    calls = []

    def attempt():
        calls.append(1)
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        read_change_write(attempt, "thing")
    assert calls == [1]


def test_the_backoff_is_jittered_and_capped():
    assert all(0 <= etag_backoff(0) <= 0.02 for _ in range(50))
    assert all(0 <= etag_backoff(30) <= 0.5 for _ in range(50))
    assert len({etag_backoff(10) for _ in range(20)}) > 1


def test_fleet_entries_written_by_two_threads_keep_both_fields(settings):
    client = container(settings.models_container, settings)
    start = threading.Barrier(2)

    def writer(i: int) -> None:
        start.wait(timeout=10)
        for round_ in range(ROUNDS):
            fleet.record(client, "store-1", {f"field_{i}_{round_}": str(round_)})

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(writer, (0, 1)))
    stored = client.get_blob_client(fleet.entry_name("store-1")).get_blob_properties().metadata
    assert {f"field_{i}_{r}" for i in (0, 1) for r in range(ROUNDS)} <= set(stored)
