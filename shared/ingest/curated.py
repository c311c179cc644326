"""The curated dataset: one CSV blob per series plus a manifest, every write ETag-guarded."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings

from shared.errors import ConcurrencyConflict
from shared.storage import read_json, write_json

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MAX_ATTEMPTS = 50
CSV_CONTENT = ContentSettings(content_type="text/csv")
WRITE_CONCURRENCY = 8  # parallel per-series requests of one upload (the SDK's connection pool holds 10)
LIST_THRESHOLD = 100  # above this many series, one listing of the curated series beats a request each


def series_blob(series: str) -> str:
    return f"series/{series}.csv"


def content_version(content: bytes) -> str:
    """The version of a curated series: a short hash of its canonical CSV."""
    return hashlib.sha256(content).hexdigest()[:16]


def serialize(days: dict[date, float]) -> bytes:
    lines = ["date,value"] + [f"{d.isoformat()},{days[d]!r}" for d in sorted(days)]
    return ("\n".join(lines) + "\n").encode()


def deserialize(content: bytes) -> dict[date, float]:
    rows = content.decode().splitlines()[1:]
    out: dict[date, float] = {}
    for row in rows:
        day, value = row.split(",")
        out[date.fromisoformat(day)] = float(value)
    return out


@dataclass(frozen=True)
class CuratedSeries:
    """One series as stored: daily values, the blob's ETag and the content version."""

    series: str
    days: dict[date, float]
    version: str
    etag: str


@dataclass(frozen=True)
class MergeOutcome:
    series: str
    changed: bool
    version: str
    rows: int
    added: int
    updated: int


def read_series(client: ContainerClient, series: str) -> CuratedSeries | None:
    try:
        downloader = client.download_blob(series_blob(series))
    except ResourceNotFoundError:
        return None
    content = downloader.readall()
    return CuratedSeries(series, deserialize(content), content_version(content), downloader.properties.etag)


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.5, 0.02 * 2**attempt)))


def _write(client: ContainerClient, series: str, merged: dict[date, float], current: CuratedSeries | None) -> str:
    """Write one series' merged days (create-only, or against the ETag read); returns its version."""
    content = serialize(merged)
    version = content_version(content)
    metadata = {
        "version": version,
        "rows": str(len(merged)),
        "start": min(merged).isoformat(),
        "end": max(merged).isoformat(),
    }
    if current is None:
        client.upload_blob(
            series_blob(series), content, overwrite=False, metadata=metadata, content_settings=CSV_CONTENT
        )
    else:
        client.upload_blob(
            series_blob(series),
            content,
            overwrite=True,
            metadata=metadata,
            content_settings=CSV_CONTENT,
            etag=current.etag,
            match_condition=MatchConditions.IfNotModified,
        )
    return version


def merge_series(
    client: ContainerClient, series: str, new_days: dict[date, float], *, known_new: bool = False
) -> MergeOutcome:
    """Upsert days into one series (a restated date takes the new value), retrying lost races.

    `known_new` (the manifest has no such series) tries a create-only write before any read: one
    request per new series; if the series exists after all, the usual read-merge-write follows.
    """
    if known_new and new_days:
        try:
            version = _write(client, series, new_days, None)
            return MergeOutcome(series, True, version, len(new_days), len(new_days), 0)
        except ResourceExistsError:
            log.info("series %s appeared meanwhile; merging into it", series)
    for attempt in range(MAX_ATTEMPTS):
        current = read_series(client, series)
        old = current.days if current else {}
        merged = {**old, **new_days}
        added = sum(1 for d in new_days if d not in old)
        updated = sum(1 for d, v in new_days.items() if d in old and old[d] != v)
        if current is not None and added == 0 and updated == 0:
            return MergeOutcome(series, False, current.version, len(old), 0, 0)
        try:
            version = _write(client, series, merged, current)
        except (ResourceExistsError, ResourceModifiedError):
            log.info("curated write race on series %s (attempt %d); retrying", series, attempt + 1)
            _backoff(attempt)
            continue
        return MergeOutcome(series, True, version, len(merged), added, updated)
    raise ConcurrencyConflict(f"could not merge into series {series} after {MAX_ATTEMPTS} attempts")


def dataset_version(entries: dict[str, dict]) -> str:
    joined = ";".join(f"{s}={entries[s]['version']}" for s in sorted(entries))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def _entry(metadata: dict[str, str], last_modified: datetime) -> dict:
    return {
        "version": metadata["version"],
        "rows": int(metadata["rows"]),
        "start": metadata["start"],
        "end": metadata["end"],
        "updated_at": last_modified.astimezone(UTC).isoformat(),
    }


def _current_entries(client: ContainerClient, series: list[str]) -> dict[str, dict]:
    """Manifest entries of the given series from their blobs' properties, as stored now.

    Few series: one properties request each (in parallel); many: one listing of the series blobs
    (5,000 per page), so the cost per series stays constant however large the file is.
    """
    if len(series) <= LIST_THRESHOLD:
        with ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY) as pool:
            props = pool.map(lambda name: client.get_blob_client(series_blob(name)).get_blob_properties(), series)
            return {name: _entry(p.metadata, p.last_modified) for name, p in zip(series, props, strict=True)}
    wanted = {series_blob(name): name for name in series}
    entries = {}
    for item in client.list_blobs(name_starts_with="series/", include=["metadata"]):
        name = wanted.get(item.name)
        if name is not None:
            entries[name] = _entry(item.metadata, item.last_modified)
    missing = set(series) - set(entries)
    if missing:
        raise ResourceNotFoundError(f"curated series blob(s) missing: {', '.join(sorted(missing)[:5])}")
    return entries


def update_manifest(client: ContainerClient, series: list[str]) -> dict:
    """Record the current state of the given series in the manifest.

    Each attempt reads the series' blob properties after reading the manifest's ETag, so the
    manifest that wins the race always describes the newest series contents.
    """
    for attempt in range(MAX_ATTEMPTS):
        manifest, etag = read_json(client, MANIFEST)
        manifest = manifest or {"series": {}}
        manifest["series"].update(_current_entries(client, series))
        manifest["dataset_version"] = dataset_version(manifest["series"])
        manifest["updated_at"] = datetime.now(UTC).isoformat()
        try:
            write_json(client, MANIFEST, manifest, etag=etag, create_only=etag is None)
        except (ResourceExistsError, ResourceModifiedError):
            _backoff(attempt)
            continue
        return manifest
    raise ConcurrencyConflict(f"could not update the curated manifest after {MAX_ATTEMPTS} attempts")


def read_manifest(client: ContainerClient) -> dict:
    manifest, _ = read_json(client, MANIFEST)
    return manifest or {"series": {}, "dataset_version": None}


def known_starts(manifest: dict) -> dict[str, date]:
    """The first curated date of every series in a manifest."""
    return {name: date.fromisoformat(entry["start"]) for name, entry in manifest["series"].items()}
