"""Classes of messy uploads against a real Azurite: names, dedupe, quarantine names, size, many series."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest

from shared.ingest import ingest_blob, process_upload
from shared.ingest.curated import read_manifest, read_series
from shared.ingest.pipeline import quarantine_name
from shared.ingest.rules import decode_metadata, encode_metadata
from shared.storage import container, queue

MONTH = "".join(f"2014-03-{d:02d},{100 + d}\n" for d in range(1, 32))
FILE = ("date,value\n" + MONTH).encode()


def land(settings, name, data, metadata=None):
    container(settings.incoming_container, settings).upload_blob(name, data, overwrite=True, metadata=metadata)
    return process_upload(name, data, metadata=metadata, settings=settings)


def messages(settings):
    return [json.loads(m.content) for m in queue(settings.retrain_queue, settings).peek_messages(max_messages=32)]


def blobs(settings, name):
    return {b.name for b in container(name, settings).list_blobs()}


@pytest.mark.parametrize(
    "name",
    [
        "ventes-été-東京.csv",
        "sales with spaces (copy).csv",
        "🛒/march\u00a02014.CSV",
        "x" * 1000 + ".csv",
        "dir/" * 240 + "deep.csv",
    ],
)
def test_any_file_name_is_archived_and_then_ingested_or_quarantined(settings, name):
    result = process_upload(name, FILE, settings=settings)
    assert result.status == "accepted"
    archive = container(settings.archive_container, settings).get_blob_client(result.archived_as)
    assert archive.download_blob().readall() == FILE
    stored = archive.get_blob_properties().metadata["original_name"]
    assert stored.isascii() and (decode_metadata(stored) == name or len(name) > 600)

    bad = process_upload(name, b"date,value\n2014-03-01,abc\n", settings=settings)
    assert bad.status == "rejected"
    quarantine = container(settings.quarantine_container, settings)
    assert quarantine.download_blob(bad.quarantined_as).readall() == b"date,value\n2014-03-01,abc\n"
    report = json.loads(quarantine.download_blob(bad.quarantined_as + ".error.json").readall())
    assert report["file"] == name


def test_metadata_encoding_round_trips_and_stays_within_limits():
    for text in ["plain-id", "été 東京 50%", "a%20b", "x" * 5000]:
        encoded = encode_metadata(text)
        assert encoded.isascii() and len(encoded) <= 2048
        if len(text) < 600:
            assert decode_metadata(encoded) == text
    assert encode_metadata("é" * 2000).endswith("...") and "%" not in encode_metadata("é" * 2000)[-4:-3]


def test_series_id_metadata_is_percent_decoded(settings):
    result = land(settings, "m.csv", FILE, metadata={"series_id": encode_metadata("web-shop")})
    assert list(result.series) == ["web-shop"]


def test_same_bytes_for_another_series_is_not_a_duplicate(settings):
    first = land(settings, "a.csv", FILE, metadata={"series_id": "dupA"})
    second = land(settings, "b.csv", FILE, metadata={"series_id": "dupB"})
    third = land(settings, "c.csv", FILE, metadata={"series_id": "dupB"})
    assert (first.status, second.status, third.status) == ("accepted", "accepted", "duplicate")
    assert first.archived_as == second.archived_as  # one archive copy of the bytes
    curated = container(settings.curated_container, settings)
    assert read_series(curated, "dupA").days == read_series(curated, "dupB").days
    assert sorted(m["series"] for m in messages(settings)) == ["dupA", "dupB"]


def test_same_bytes_under_other_upload_rules_is_not_a_duplicate(settings):
    from dataclasses import replace

    first = land(settings, "a.csv", FILE)
    looser = replace(settings, upload_max_future_days=7)
    again = process_upload("a.csv", FILE, settings=looser)
    assert (first.status, again.status) == ("accepted", "accepted")
    assert again.series["total"]["changed"] is False


def test_no_two_uploads_share_a_quarantine_name(settings):
    report_named = land(settings, "q.csv.error.json", b"not,a,csv\n")
    plain = land(settings, "q.csv", b"date,value\n2014-03-01,x\n")
    other_bytes = land(settings, "q.csv", b"date,value\n2014-03-01,y\n")
    assert {r.status for r in (report_named, plain, other_bytes)} == {"rejected"}
    names = [r.quarantined_as for r in (report_named, plain, other_bytes)]
    assert len(set(names)) == 3
    quarantine = container(settings.quarantine_container, settings)
    assert quarantine.download_blob(names[0]).readall() == b"not,a,csv\n"
    assert quarantine.download_blob(names[1]).readall() == b"date,value\n2014-03-01,x\n"
    assert quarantine.download_blob(names[2]).readall() == b"date,value\n2014-03-01,y\n"
    everything = blobs(settings, settings.quarantine_container)
    assert everything == set(names) | {f"{n}.error.json" for n in names} and len(everything) == 6


def test_quarantine_names_fit_storage_limits():
    for name in ["a.csv", "x" * 1024, "d/" * 300 + "f.csv", "é" * 1020 + ".csv"]:
        quarantined = quarantine_name("k" * 64, name)
        assert len(quarantined + ".error.json") <= 1024 and quarantined.count("/") <= 251
    assert quarantine_name("k", "a.csv").endswith("/a.csv")
    assert quarantine_name("k", "a.csv") != quarantine_name("k", "b.csv")


def test_a_file_reaching_far_before_a_known_series_is_rejected_with_the_line(settings):
    land(settings, "march.csv", FILE)
    body = b"date,value\n2014-04-01,5\n2012-01-01,6\n"
    result = land(settings, "typo.csv", body)
    assert result.status == "rejected"
    assert [p["line"] for p in result.problems] == [3]
    assert "before the first date of series total (2014-03-01)" in result.problems[0]["reason"]
    assert len(read_series(container(settings.curated_container, settings), "total").days) == 31


def test_oversized_blob_is_kept_without_being_read(settings):
    from dataclasses import replace

    small = replace(settings, max_upload_bytes=100)
    body = b"date,value\n" + b"2014-03-01,1\n" * 50
    container(settings.incoming_container, settings).upload_blob("big.csv", body)

    def unread():
        raise AssertionError("an oversized blob must not be read")

    result = ingest_blob("big.csv", len(body), unread, settings=small)
    assert result.status == "rejected" and result.archived_as.startswith("oversized/")
    archive = container(settings.archive_container, settings).get_blob_client(result.archived_as)
    assert archive.download_blob().readall() == body
    assert decode_metadata(archive.get_blob_properties().metadata["original_name"]) == "big.csv"
    quarantine = container(settings.quarantine_container, settings)
    assert quarantine.download_blob(result.quarantined_as).readall() == body
    report = json.loads(quarantine.download_blob(result.quarantined_as + ".error.json").readall())
    assert report["problems"][0]["reason"] == f"{len(body)} bytes exceeds the limit of 100"
    assert blobs(settings, settings.incoming_container) == set()
    assert blobs(settings, settings.curated_container) == set()


def _estate_file(series: list[str], days: int = 3) -> bytes:
    start = date(2024, 1, 1)
    rows = [f"{s},{start + timedelta(days=d)},{i + d}" for i, s in enumerate(series) for d in range(days)]
    return ("series_id,date,value\n" + "\n".join(rows) + "\n").encode()


def test_eight_concurrent_uploads_of_disjoint_series_keep_every_series(settings):
    parts = [[f"p{k}-s{i:03d}" for i in range(40)] for k in range(8)]
    files = [(f"part{k}.csv", _estate_file(series)) for k, series in enumerate(parts)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda f: process_upload(*f, settings=settings), files))
    assert [r.status for r in results] == ["accepted"] * 8
    manifest = read_manifest(container(settings.curated_container, settings))
    assert set(manifest["series"]) == {s for part in parts for s in part}
    assert all(manifest["series"][s]["rows"] == 3 for part in parts for s in part)
    assert sum(len(r.retrain_requests) for r in results) == 8 * 40
