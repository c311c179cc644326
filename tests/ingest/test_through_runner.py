"""Messy uploads end to end: the CLI uploads, the real function app ingests them through the local runner."""

import json
from pathlib import Path

import pytest
from azure.core.exceptions import ResourceNotFoundError

from localrun import Runner
from localrun.blob_trigger import POISON_QUEUE
from shared.cli import main as cli
from shared.ingest.curated import read_manifest, read_series
from shared.ingest.rules import decode_metadata
from shared.settings import get_settings
from shared.storage import container, queue
from tests.factories import wait_for

DATA = Path(__file__).resolve().parent.parent / "data"
TWO_DAYS = b"date,value\n2014-03-01,10\n2014-03-02,11\n"  # too short to retrain: the test stays about ingestion
LIMIT = 4096


@pytest.fixture
def stack(app_env, monkeypatch):
    monkeypatch.setenv("MAX_UPLOAD_BYTES", str(LIMIT))
    get_settings.cache_clear()
    with Runner(port=0, poll_interval=0.1) as runner:
        yield runner
    get_settings.cache_clear()


def upload(tmp_path, name: str, data: bytes, *extra: str) -> None:
    folder = tmp_path / f"u{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / name).write_bytes(data)
    assert cli(["upload", str(folder / name), *extra]) == 0


def quarantined(settings, name: str) -> list[tuple[bytes, dict]]:
    """(content, report) of every quarantined upload with this original name."""
    client = container(settings.quarantine_container, settings)
    names = {blob.name for blob in client.list_blobs()}
    found = []
    for upload_name in sorted(n for n in names if f"{n}.error.json" in names):
        report = json.loads(client.download_blob(f"{upload_name}.error.json").readall())
        if report["file"] == name:
            found.append((client.download_blob(upload_name).readall(), report))
    return found


def poison(settings) -> list[dict]:
    """This test's poisoned blobs (the queue is the host's, shared by every test of the session)."""
    try:
        messages = queue(POISON_QUEUE, settings).peek_messages(max_messages=32)
    except ResourceNotFoundError:  # no poison queue: nothing was poisoned
        return []
    bodies = [json.loads(m.content) for m in messages]
    return [b for b in bodies if b["ContainerName"] == settings.incoming_container]


def test_messy_uploads_through_the_runner_are_all_archived_then_ingested_or_quarantined(stack, tmp_path, app_env):
    curated = container(app_env.curated_container, app_env)
    bad = {
        "overflow_total.csv": (DATA / "overflow_total.csv").read_bytes(),
        "implausible_date.csv": (DATA / "implausible_date.csv").read_bytes(),
        "blank_series_id.csv": (DATA / "blank_series_id.csv").read_bytes(),
        "q.csv.error.json": b"not,a,sales,file\n",
        "q.csv": b"date,value\n2014-03-01,twelve\n",
        "huge.csv": b"date,value\n" + b"2014-03-01,1\n" * (LIMIT // 13 + 10),
    }
    upload(tmp_path, "ventes-été-東京.csv", TWO_DAYS.replace(b",11", b",12"))
    upload(tmp_path, "same-a.csv", TWO_DAYS, "--series", "dupA")
    upload(tmp_path, "same-b.csv", TWO_DAYS, "--series", "dupB")
    for name, data in bad.items():
        upload(tmp_path, name, data)
    incoming = container(app_env.incoming_container, app_env)
    wait_for(lambda: not list(incoming.list_blobs()), timeout=60)
    assert stack.wait_idle(60)

    assert set(read_manifest(curated)["series"]) == {"total", "dupA", "dupB"}
    assert read_series(curated, "dupA").days == read_series(curated, "dupB").days
    for name, data in bad.items():
        ((content, report),) = quarantined(app_env, name)
        assert content == data and report["problems"], name
    lines = {name: [p["line"] for p in quarantined(app_env, name)[0][1]["problems"]] for name in bad}
    assert lines["overflow_total.csv"] == [3] and lines["implausible_date.csv"] == [4]
    assert lines["blank_series_id.csv"] == [3, 4]
    archive = container(app_env.archive_container, app_env)
    names = {decode_metadata(b.metadata["original_name"]) for b in archive.list_blobs(include=["metadata"])}
    assert {"ventes-été-東京.csv", "huge.csv"} | set(bad) <= names
    huge = [b for b in archive.list_blobs() if b.name.startswith("oversized/")]
    assert len(huge) == 1 and archive.download_blob(huge[0].name).readall() == bad["huge.csv"]
    assert poison(app_env) == []
