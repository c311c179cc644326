"""Ingestion against a real Azurite: archive, quarantine, curated merge, manifest and retrain requests."""

import json
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest

from localrun.sample import monthly_files
from shared.ingest import process_upload
from shared.ingest.curated import content_version, merge_series, read_manifest, read_series, serialize, shard_of
from shared.ingest.parse import parse_upload
from shared.storage import container, queue

DATA = Path(__file__).resolve().parent.parent / "data"
MONTHS = monthly_files()


def blob_names(settings, name):
    return sorted(b.name for b in container(name, settings).list_blobs())


def retrain_messages(settings):
    q = queue(settings.retrain_queue, settings)
    return [json.loads(m.content) for m in q.peek_messages(max_messages=32)]


def land(settings, name, data):
    container(settings.incoming_container, settings).upload_blob(name, data, overwrite=True)
    return process_upload(name, data, settings=settings)


def test_accepted_month_is_archived_curated_and_requests_one_retrain(settings):
    name, data = MONTHS[1]
    result = land(settings, name, data)
    assert result.status == "accepted"
    archived = container(settings.archive_container, settings).download_blob(result.archived_as).readall()
    assert archived == data
    series = read_series(container(settings.curated_container, settings), "total")
    assert len(series.days) == 31 and series.version == result.series["total"]["version"]
    manifest = read_manifest(container(settings.curated_container, settings))
    assert manifest["series"]["total"]["rows"] == 31
    assert manifest["dataset_version"] == result.dataset_version
    assert retrain_messages(settings) == [
        {
            "series": "total",
            "dataset_version": series.version,
            "reason": "new-data",
            "correlation_id": result.correlation_id,
            "upload": result.archived_as,
        }
    ]
    assert blob_names(settings, settings.incoming_container) == []


@pytest.mark.parametrize("bad", ["bad_values.csv", "bad_schema.csv", "empty.csv", "header_only.csv"])
def test_malformed_file_is_quarantined_and_changes_nothing_else(settings, bad):
    land(settings, *MONTHS[0])
    curated = container(settings.curated_container, settings)
    before_series = curated.download_blob(shard_of("total")).readall()
    before_manifest = read_manifest(curated)
    archive_before = {
        n: container(settings.archive_container, settings).download_blob(n).readall()
        for n in blob_names(settings, settings.archive_container)
    }
    data = (DATA / bad).read_bytes()
    result = land(settings, bad, data)
    assert result.status == "rejected"
    quarantine = container(settings.quarantine_container, settings)
    assert result.quarantined_as.endswith(f"/{bad}")
    assert quarantine.download_blob(result.quarantined_as).readall() == data
    report = json.loads(quarantine.download_blob(f"{result.quarantined_as}.error.json").readall())
    assert report["file"] == bad and report["problems"] and report["archived_as"] == result.archived_as
    assert curated.download_blob(shard_of("total")).readall() == before_series
    assert read_manifest(curated)["dataset_version"] == before_manifest["dataset_version"]
    assert len(retrain_messages(settings)) == 1
    archive = container(settings.archive_container, settings)
    for name, content in archive_before.items():
        assert archive.download_blob(name).readall() == content
    assert archive.download_blob(result.archived_as).readall() == data
    assert blob_names(settings, settings.models_container) == []


def test_bad_values_report_names_rows_and_reasons(settings):
    result = land(settings, "bad_values.csv", (DATA / "bad_values.csv").read_bytes())
    report = json.loads(
        container(settings.quarantine_container, settings)
        .download_blob(f"{result.quarantined_as}.error.json")
        .readall()
    )
    assert [(p["line"], p["reason"]) for p in report["problems"]] == [
        (3, "not an ISO 8601 date (YYYY-MM-DD)"),
        (4, "not a number"),
        (5, "missing value"),
    ]
    assert result.problems == report["problems"]


def test_same_file_twice_is_one_dataset_version_and_one_request(settings):
    first = land(settings, *MONTHS[2])
    second = land(settings, "again-" + MONTHS[2][0], MONTHS[2][1])
    assert (first.status, second.status) == ("accepted", "duplicate")
    assert second.archived_as == first.archived_as
    assert len(retrain_messages(settings)) == 1
    assert read_manifest(container(settings.curated_container, settings))["dataset_version"] == first.dataset_version


def test_restated_date_wins_and_other_rows_are_kept(settings):
    before = land(settings, *MONTHS[3]).series["total"]["version"]
    month = MONTHS[3][1].decode().splitlines()
    day = month[5].split(",")[0]
    result = land(settings, "correction.csv", f"date,value\n{day},12345.0\n".encode())
    expected = {date.fromisoformat(d): float(v) for d, v in (line.split(",") for line in month[1:])}
    expected[date.fromisoformat(day)] = 12345.0
    assert result.series["total"]["version"] != before
    assert result.series["total"] == {
        "version": content_version(serialize(expected)),  # the version names the merged content
        "rows": len(month) - 1,
        "added": 0,
        "updated": 1,
        "changed": True,
    }
    days = read_series(container(settings.curated_container, settings), "total").days
    assert len(days) == len(month) - 1
    assert days[max(days)] == float(month[-1].split(",")[1])
    assert [v for d, v in days.items() if d.isoformat() == day] == [12345.0]
    assert len(retrain_messages(settings)) == 2


def test_eight_months_ingested_concurrently_keep_every_row(settings):
    batch = MONTHS[:8]
    for name, data in batch:
        container(settings.incoming_container, settings).upload_blob(name, data)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda item: process_upload(*item, settings=settings), batch))
    assert all(r.status == "accepted" for r in results)
    expected = {}
    for _, data in batch:
        for row in data.decode().splitlines()[1:]:
            day, value = row.split(",")
            expected[day] = float(value)
    curated = container(settings.curated_container, settings)
    series = read_series(curated, "total")
    assert {d.isoformat(): v for d, v in series.days.items()} == expected
    manifest = read_manifest(curated)
    assert manifest["series"]["total"]["version"] == series.version
    assert manifest["series"]["total"]["rows"] == len(expected)
    assert len(retrain_messages(settings)) == 8
    assert retrain_messages(settings)[-1]["dataset_version"] in {r.series["total"]["version"] for r in results}


def test_series_id_metadata_names_the_series(settings):
    name, data = MONTHS[0]
    result = process_upload(name, data, metadata={"series_id": "web-shop"}, settings=settings)
    assert list(result.series) == ["web-shop"]
    assert read_series(container(settings.curated_container, settings), "web-shop") is not None


def test_an_upload_retried_after_its_merge_still_requests_the_retrain(settings):
    name, data = MONTHS[4]
    parsed = parse_upload(data, default_series="total", max_bytes=settings.max_upload_bytes)
    curated = container(settings.curated_container, settings)
    merged = merge_series(curated, "total", parsed.daily["total"])  # the first attempt merged, then failed
    result = land(settings, name, data)
    assert result.status == "accepted" and result.series["total"]["changed"] is False
    assert [m["dataset_version"] for m in retrain_messages(settings)] == [merged.version]
