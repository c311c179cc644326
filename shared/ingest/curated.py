"""The curated dataset: one CSV blob per series plus a manifest, every write ETag-guarded."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import ContainerClient, ContentSettings

from shared.storage import read_change_write, read_json, update_json

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
CSV_CONTENT = ContentSettings(content_type="text/csv")
WRITE_CONCURRENCY = 8  # parallel per-series requests of one upload (the SDK's connection pool holds 10)


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
    """One series as stored: daily values, the blob's ETag, the content version and its write number."""

    series: str
    days: dict[date, float]
    version: str
    etag: str
    seq: int = 0


@dataclass(frozen=True)
class MergeOutcome:
    series: str
    changed: bool
    version: str
    rows: int
    added: int
    updated: int
    entry: dict  # the series' manifest entry as written (or found, when nothing changed)


def read_series(client: ContainerClient, series: str) -> CuratedSeries | None:
    try:
        downloader = client.download_blob(series_blob(series))
    except ResourceNotFoundError:
        return None
    content = downloader.readall()
    props = downloader.properties
    seq = int((props.metadata or {}).get("seq", 0))
    return CuratedSeries(series, deserialize(content), content_version(content), props.etag, seq)


def _entry(metadata: dict[str, str], last_modified: datetime) -> dict:
    """A manifest entry from a series blob's metadata; `seq` orders the writes of one series."""
    return {
        "version": metadata["version"],
        "rows": int(metadata["rows"]),
        "start": metadata["start"],
        "end": metadata["end"],
        "seq": int(metadata.get("seq", 0)),
        "updated_at": last_modified.astimezone(UTC).isoformat(),
    }


def _write(client: ContainerClient, series: str, merged: dict[date, float], current: CuratedSeries | None) -> dict:
    """Write one series' merged days (create-only, or against the ETag read); returns its manifest entry.

    Each write numbers itself one past the version it replaces (`seq`): ETag-guarded writes of one
    series are totally ordered, so the manifest can keep the newest entry whatever order it hears of them.
    """
    content = serialize(merged)
    metadata = {
        "version": content_version(content),
        "rows": str(len(merged)),
        "start": min(merged).isoformat(),
        "end": max(merged).isoformat(),
        "seq": str(current.seq + 1 if current else 1),
    }
    blob = client.get_blob_client(series_blob(series))
    if current is None:
        written = blob.upload_blob(content, overwrite=False, metadata=metadata, content_settings=CSV_CONTENT)
    else:
        written = blob.upload_blob(
            content,
            overwrite=True,
            metadata=metadata,
            content_settings=CSV_CONTENT,
            etag=current.etag,
            match_condition=MatchConditions.IfNotModified,
        )
    return _entry(metadata, written["last_modified"])


def merge_series(
    client: ContainerClient, series: str, new_days: dict[date, float], *, known_new: bool = False
) -> MergeOutcome:
    """Upsert days into one series (a restated date takes the new value), retrying lost races.

    `known_new` (the manifest has no such series) tries a create-only write before any read: one
    request per new series; if the series exists after all, the usual read-merge-write follows.
    """
    if known_new and new_days:
        try:
            entry = _write(client, series, new_days, None)
            return MergeOutcome(series, True, entry["version"], len(new_days), len(new_days), 0, entry)
        except ResourceExistsError:
            log.info("series %s appeared meanwhile; merging into it", series)

    def once() -> MergeOutcome:
        current = read_series(client, series)
        old = current.days if current else {}
        merged = {**old, **new_days}
        added = sum(1 for d in new_days if d not in old)
        updated = sum(1 for d, v in new_days.items() if d in old and old[d] != v)
        if current is not None and added == 0 and updated == 0:
            props = client.get_blob_client(series_blob(series)).get_blob_properties()
            entry = _entry(props.metadata, props.last_modified)
            return MergeOutcome(series, False, current.version, len(old), 0, 0, entry)
        entry = _write(client, series, merged, current)
        return MergeOutcome(series, True, entry["version"], len(merged), added, updated, entry)

    return read_change_write(once, f"curated series {series}")


def dataset_version(entries: dict[str, dict]) -> str:
    joined = ";".join(f"{s}={entries[s]['version']}" for s in sorted(entries))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def update_manifest(client: ContainerClient, items: list[MergeOutcome] | list[str]) -> dict:
    """Record series in the manifest: merge outcomes as they were written, or names as stored now.

    An entry replaces the manifest's only if its `seq` is not older, so concurrent uploads can
    record their series in any order and a lost race costs one manifest read and write, nothing per
    series.
    """
    entries = {}
    for item in items:
        if isinstance(item, MergeOutcome):
            entries[item.series] = item.entry
        else:
            props = client.get_blob_client(series_blob(item)).get_blob_properties()
            entries[item] = _entry(props.metadata, props.last_modified)

    def change(manifest: dict | None) -> dict:
        manifest = manifest or {"series": {}}
        known = manifest["series"]
        for name, entry in entries.items():
            if entry["seq"] >= known.get(name, {}).get("seq", 0):
                known[name] = entry
        manifest["dataset_version"] = dataset_version(known)
        manifest["updated_at"] = datetime.now(UTC).isoformat()
        return manifest

    return update_json(client, MANIFEST, change)


def read_manifest(client: ContainerClient) -> dict:
    manifest, _ = read_json(client, MANIFEST)
    return manifest or {"series": {}, "dataset_version": None}


def known_starts(manifest: dict) -> dict[str, date]:
    """The first curated date of every series in a manifest."""
    return {name: date.fromisoformat(entry["start"]) for name, entry in manifest["series"].items()}
