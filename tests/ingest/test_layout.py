"""The curated layout against a real Azurite: shard blobs, batched retrain requests, the layout before shards."""

import json
import math
from datetime import date, timedelta

from shared.ingest import process_upload
from shared.ingest.curated import (
    LEGACY_PREFIX,
    SHARD_PREFIX,
    content_version,
    legacy_blob,
    read_manifest,
    read_many,
    read_series,
    serialize,
    shard_of,
)
from shared.retrain import expand
from shared.retrain_requests import batch_size
from shared.storage import container, queue


def estate_file(series: list[str], days: int, start: date = date(2024, 1, 1), base: int = 0) -> bytes:
    rows = [f"{s},{start + timedelta(days=d)},{base + i + d}" for i, s in enumerate(series) for d in range(days)]
    return ("series_id,date,value\n" + "\n".join(rows) + "\n").encode()


def all_messages(settings) -> list[dict]:
    retrain = queue(settings.retrain_queue, settings)
    bodies = [json.loads(m.content) for m in retrain.receive_messages(messages_per_page=32, visibility_timeout=60)]
    return bodies


def test_a_many_series_upload_writes_shards_and_batched_requests(settings):
    series = [f"store{i // 10:02d}-sku{i % 10}" for i in range(300)]
    result = process_upload("estate.csv", estate_file(series, 3), settings=settings)
    assert result.status == "accepted"
    curated = container(settings.curated_container, settings)
    names = {b.name for b in curated.list_blobs()}
    shards = {n for n in names if n.startswith(SHARD_PREFIX)}
    assert shards == {shard_of(s) for s in series} and len(shards) < len(series)
    assert not any(n.startswith(LEGACY_PREFIX) for n in names)
    manifest = read_manifest(curated)
    for i, name in enumerate(series):
        stored = read_series(curated, name)
        assert stored.days == {date(2024, 1, 1) + timedelta(days=d): float(i + d) for d in range(3)}
        assert stored.version == manifest["series"][name]["version"] == result.series[name]["version"]

    bodies = all_messages(settings)
    assert len(bodies) == math.ceil(300 / batch_size(300)) < 300
    requests = [request for body in bodies for request in expand(body)]
    assert sorted(r["series"] for r in requests) == sorted(series)
    assert all(r["dataset_version"] == manifest["series"][r["series"]]["version"] for r in requests)
    assert all(r["correlation_id"] == result.correlation_id and r["reason"] == "new-data" for r in requests)


def test_a_small_multi_series_upload_sends_one_message_per_series(settings):
    series = [f"s{i}" for i in range(9)]
    process_upload("few.csv", estate_file(series, 3), settings=settings)
    bodies = all_messages(settings)
    assert sorted(b["series"] for b in bodies) == series and all("batch" not in b for b in bodies)


def _legacy(settings, series: str, days: dict, seq: int) -> str:
    """A series stored as before shards: one CSV blob with its manifest entry's fields as metadata."""
    content = serialize(days)
    metadata = {
        "version": content_version(content),
        "rows": str(len(days)),
        "start": min(days).isoformat(),
        "end": max(days).isoformat(),
        "seq": str(seq),
    }
    container(settings.curated_container, settings).upload_blob(legacy_blob(series), content, metadata=metadata)
    return content_version(content)


def test_a_series_of_the_layout_before_shards_is_read_then_moved_into_its_shard(settings):
    curated = container(settings.curated_container, settings)
    old_days = {date(2024, 1, 1) + timedelta(days=d): 10.0 + d for d in range(5)}
    old_version = _legacy(settings, "old-one", old_days, seq=3)
    kept_version = _legacy(settings, "old-two", old_days, seq=2)
    legacy_bytes = curated.download_blob(legacy_blob("old-one")).readall()
    before = read_series(curated, "old-one")
    assert (before.days, before.version, before.seq) == (old_days, old_version, 3)

    restated = {date(2024, 1, 5): 99.0, date(2024, 1, 6): 7.0}  # one restated day, one new day
    upload = "series_id,date,value\n" + "".join(f"old-one,{d},{v}\n" for d, v in restated.items())
    upload += "".join(f"old-two,{d},{v}\n" for d, v in old_days.items())  # the same values: nothing changes
    result = process_upload("next.csv", upload.encode(), settings=settings)

    after = read_series(curated, "old-one")
    assert after.days == {**old_days, **restated} and after.seq == 4
    assert result.series["old-one"]["changed"] and result.series["old-one"]["added"] == 1
    assert result.series["old-one"]["updated"] == 1
    moved = read_series(curated, "old-two")
    assert moved.version == kept_version and moved.seq == 2 and not result.series["old-two"]["changed"]
    shard = json.loads(curated.download_blob(shard_of("old-two")).readall())
    assert "old-two" in shard["series"]  # moved, so the old blob is no longer read
    assert curated.download_blob(legacy_blob("old-one")).readall() == legacy_bytes  # never deleted or changed
    assert read_manifest(curated)["series"]["old-two"]["version"] == kept_version


def test_read_many_reads_each_shard_once_and_finds_every_layout(settings):
    series = [f"m{i}" for i in range(40)]
    process_upload("estate.csv", estate_file(series, 2), settings=settings)
    _legacy(settings, "legacy-only", {date(2024, 1, 1): 1.0}, seq=1)
    curated = container(settings.curated_container, settings)
    names = [*series, "legacy-only", "nowhere"]
    found = dict(read_many(curated, names))
    assert found.keys() == set(names) and found["nowhere"] is None
    assert all(found[n] == read_series(curated, n) for n in names)


def test_the_batcher_sends_each_full_batch_as_soon_as_it_is_complete():
    from shared.retrain_requests import Batcher

    sent: list[dict] = []
    batcher = Batcher(lambda raw: sent.append(json.loads(raw)), {"reason": "new-data"}, size=20)
    batcher.add([{"series": f"s{i}", "dataset_version": "v"} for i in range(15)])
    assert sent == []  # not full yet
    batcher.add([{"series": f"s{i}", "dataset_version": "v"} for i in range(15, 45)])
    assert [len(body["batch"]) for body in sent] == [20, 20]  # sent while the upload goes on
    batcher.flush()
    assert [len(body["batch"]) for body in sent] == [20, 20, 5] and batcher.sent == 3
    assert [r["series"] for body in sent for r in expand(body)] == [f"s{i}" for i in range(45)]
    assert all(body["reason"] == "new-data" for body in sent)
    batcher.add([{"series": "last", "dataset_version": "v"}])
    batcher.flush()
    assert sent[-1] == {"series": "last", "dataset_version": "v", "reason": "new-data"}  # one series: the single form
