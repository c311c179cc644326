"""The curated dataset: one CSV blob per series plus a manifest, every write ETag-guarded."""

from __future__ import annotations

import hashlib
import logging
import random
import time
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


def merge_series(client: ContainerClient, series: str, new_days: dict[date, float]) -> MergeOutcome:
    """Upsert days into one series (a restated date takes the new value), retrying lost races."""
    for attempt in range(MAX_ATTEMPTS):
        current = read_series(client, series)
        old = current.days if current else {}
        merged = {**old, **new_days}
        added = sum(1 for d in new_days if d not in old)
        updated = sum(1 for d, v in new_days.items() if d in old and old[d] != v)
        if current is not None and added == 0 and updated == 0:
            return MergeOutcome(series, False, current.version, len(old), 0, 0)
        content = serialize(merged)
        version = content_version(content)
        metadata = {
            "version": version,
            "rows": str(len(merged)),
            "start": min(merged).isoformat(),
            "end": max(merged).isoformat(),
        }
        try:
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
        except (ResourceExistsError, ResourceModifiedError):
            log.info("curated write race on series %s (attempt %d); retrying", series, attempt + 1)
            _backoff(attempt)
            continue
        return MergeOutcome(series, True, version, len(merged), added, updated)
    raise ConcurrencyConflict(f"could not merge into series {series} after {MAX_ATTEMPTS} attempts")


def dataset_version(entries: dict[str, dict]) -> str:
    joined = ";".join(f"{s}={entries[s]['version']}" for s in sorted(entries))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def update_manifest(client: ContainerClient, series: list[str]) -> dict:
    """Record the current state of the given series in the manifest.

    Each attempt reads the series' blob properties after reading the manifest's ETag, so the
    manifest that wins the race always describes the newest series contents.
    """
    for attempt in range(MAX_ATTEMPTS):
        manifest, etag = read_json(client, MANIFEST)
        manifest = manifest or {"series": {}}
        for name in series:
            props = client.get_blob_client(series_blob(name)).get_blob_properties()
            meta = props.metadata
            manifest["series"][name] = {
                "version": meta["version"],
                "rows": int(meta["rows"]),
                "start": meta["start"],
                "end": meta["end"],
                "updated_at": props.last_modified.astimezone(UTC).isoformat(),
            }
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
