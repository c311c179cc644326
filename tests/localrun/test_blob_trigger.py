"""Blob trigger through the runner against Azurite: once per version, receipts, parallelism, poison."""

from __future__ import annotations

import json
import time
from urllib.parse import unquote

import pytest

from localrun.blob_trigger import POISON_QUEUE, RECEIPTS_CONTAINER, BlobPath
from localrun.config import ConfigurationError
from tests.localrun.conftest import HOST_ID


def _report(store, env, name: str) -> dict:
    return json.loads(store.container(env["SAMPLE_OUT_CONTAINER"]).download_blob(f"{name}.json").readall())


def _receipt(store, env, name: str) -> dict[str, str]:
    path = f"blobreceipts/{HOST_ID}/on_blob/{env['SAMPLE_IN_CONTAINER']}/{name}"
    return store.container(RECEIPTS_CONTAINER).get_blob_client(path).get_blob_properties().metadata


def test_new_blob_is_processed_once_with_host_style_input(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)
    incoming = store.container(sample_env["SAMPLE_IN_CONTAINER"])
    uploaded = incoming.upload_blob("2024/sales.csv", b"date,value\n", metadata={"source": "test"})

    assert runner.wait_idle(10)
    report = _report(store, sample_env, "2024/sales.csv")
    assert report["name"] == f"{sample_env['SAMPLE_IN_CONTAINER']}/2024/sales.csv"
    assert report["length"] == len(b"date,value\n")
    assert report["content"] == "date,value\n"
    assert report["metadata"] == {"source": "test"}
    assert report["uri"].endswith(f"/{sample_env['SAMPLE_IN_CONTAINER']}/2024/sales.csv")
    receipt = _receipt(store, sample_env, "2024/sales.csv")
    assert receipt["etag"] == uploaded.get_blob_properties().etag.strip('"')
    assert receipt["status"] == "succeeded"

    time.sleep(0.5)  # several more polls see the same version
    assert runner.wait_idle(10)
    assert runner.counter("on_blob").processed == 1


def test_overwritten_blob_is_a_new_version_and_processed_again(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)
    incoming = store.container(sample_env["SAMPLE_IN_CONTAINER"])
    incoming.upload_blob("a.csv", b"first")
    assert runner.wait_idle(10)
    incoming.upload_blob("a.csv", b"second", overwrite=True)
    assert runner.wait_idle(10)

    assert runner.counter("on_blob").processed == 2
    assert _report(store, sample_env, "a.csv")["content"] == "second"


def test_receipts_stop_a_restarted_runner_from_reprocessing(start_runner, sample_env, store):
    incoming = store.container(sample_env["SAMPLE_IN_CONTAINER"])
    first = start_runner(env=sample_env)
    incoming.upload_blob("kept.csv", b"kept")
    assert first.wait_idle(10)
    first.stop()
    report_etag = (
        store.container(sample_env["SAMPLE_OUT_CONTAINER"]).get_blob_client("kept.csv.json").get_blob_properties().etag
    )

    second = start_runner(env=sample_env)
    assert second.wait_idle(10)
    assert second.counter("on_blob").processed == 0
    assert (
        store.container(sample_env["SAMPLE_OUT_CONTAINER"]).get_blob_client("kept.csv.json").get_blob_properties().etag
        == report_etag
    )

    incoming.upload_blob("new.csv", b"new")
    assert second.wait_idle(10)
    assert second.counter("on_blob").processed == 1


def test_blobs_are_handled_in_parallel(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)
    incoming = store.container(sample_env["SAMPLE_IN_CONTAINER"])
    names = [f"slow-{i}.csv" for i in range(4)]
    started = time.monotonic()
    for name in names:
        incoming.upload_blob(name, b"sleep:0.8")

    assert runner.wait_idle(20)
    assert time.monotonic() - started < 4 * 0.8
    reports = [_report(store, sample_env, name) for name in names]
    assert max(r["started"] for r in reports) < min(r["ended"] for r in reports)
    assert len({r["thread"] for r in reports}) == 4
    assert runner.counter("on_blob").processed == 4


def test_failing_blob_goes_to_poison_queue_after_five_attempts(start_runner, sample_env, store):
    runner = start_runner(env=sample_env)
    incoming = store.container(sample_env["SAMPLE_IN_CONTAINER"])
    uploaded = incoming.upload_blob("bad.csv", b"fail please")

    assert runner.wait_idle(15)
    counters = runner.counter("on_blob")
    assert (counters.processed, counters.failed, counters.poisoned) == (0, 5, 1)
    poisoned = [json.loads(m) for m in store.peek(POISON_QUEUE)]
    mine = [m for m in poisoned if m["ContainerName"] == sample_env["SAMPLE_IN_CONTAINER"]]
    assert mine == [
        {
            "Type": "BlobTrigger",
            "FunctionId": "Host.Functions.on_blob",
            "BlobType": "BlockBlob",
            "ContainerName": sample_env["SAMPLE_IN_CONTAINER"],
            "BlobName": "bad.csv",
            "ETag": uploaded.get_blob_properties().etag.strip('"'),
            "Reason": f"ValueError: {sample_env['SAMPLE_IN_CONTAINER']}/bad.csv asked to fail",
        }
    ]
    assert _receipt(store, sample_env, "bad.csv")["status"] == "failed"
    assert not store.container(sample_env["SAMPLE_OUT_CONTAINER"]).get_blob_client("bad.csv.json").exists()


def test_blob_that_cannot_be_read_is_poisoned_with_the_reason_not_retried_forever(start_runner, sample_env, store):
    incoming = store.container(sample_env["SAMPLE_IN_CONTAINER"])
    incoming.create_container()
    blob = incoming.upload_blob("locked.csv", b"date,value\n2014-01-01,1\n")
    blob.set_standard_blob_tier("Archive")  # every download now fails (409 BlobArchived), like a denied read
    runner = start_runner(env=sample_env)

    assert runner.wait_idle(15)
    time.sleep(1.0)  # ten more polls
    assert runner.wait_idle(10)
    counters = runner.counter("on_blob")
    assert (counters.processed, counters.failed, counters.poisoned) == (0, 5, 1)
    poisoned = [json.loads(m) for m in store.peek(POISON_QUEUE)]
    mine = [m for m in poisoned if m["ContainerName"] == sample_env["SAMPLE_IN_CONTAINER"]]
    assert len(mine) == 1 and mine[0]["BlobName"] == "locked.csv"
    assert "BlobArchived" in mine[0]["Reason"]
    receipt = _receipt(store, sample_env, "locked.csv")
    assert receipt["status"] == "failed" and receipt["attempts"] == "5"
    assert "BlobArchived" in unquote(receipt["reason"])


def test_blob_path_pattern_and_prefix():
    path = BlobPath.parse("uploads/incoming/{name}.csv", "test")
    assert (path.container, path.prefix) == ("uploads", "incoming/")
    assert path.match("incoming/2024-01.csv") == {"name": "2024-01"}
    assert path.match("incoming/2024-01.json") is None
    assert path.match("other/2024-01.csv") is None


@pytest.mark.parametrize("bad", ["no-slash", "{name}/x", "container/"])
def test_blob_path_without_container_and_pattern_is_rejected(bad):
    with pytest.raises(ConfigurationError, match="container"):
        BlobPath.parse(bad, "function 'f'")
