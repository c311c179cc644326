"""The curated dataset: series grouped into shard blobs plus a manifest, every write ETag-guarded."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

from azure.core import MatchConditions
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.blob import ContainerClient

from shared.storage import JSON_CONTENT, read_change_write, read_json, update_json

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
# Series live in SHARDS blobs `shards/{nnnn}.json`, chosen by a hash of the series id: a 10,000-series upload
# writes about a thousand blobs instead of ten thousand, and a reader downloads one shard (about ten
# series at 10,000, a thousand at 1,000,000). Changing SHARDS moves series: it needs a migration.
SHARDS = 1024
SHARD_PREFIX = "shards/"
# The layout before shards, one blob per series: still read, moved into its shard by the series' next write,
# never deleted.
LEGACY_PREFIX = "series/"
WRITE_CONCURRENCY = 8  # parallel shard writes of one upload (the SDK's connection pool holds 10)


def shard_of(series: str) -> str:
    """The shard blob that holds `series`."""
    number = int.from_bytes(hashlib.sha256(series.encode()).digest()[:4], "big") % SHARDS
    return f"{SHARD_PREFIX}{number:04d}.json"


def legacy_blob(series: str) -> str:
    return f"{LEGACY_PREFIX}{series}.csv"


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
    """One series as stored: daily values, the ETag of its blob, the content version and its write number."""

    series: str
    days: dict[date, float]
    version: str
    etag: str
    seq: int = 0
    updated_at: str = ""


@dataclass(frozen=True)
class MergeOutcome:
    series: str
    changed: bool
    version: str
    rows: int
    added: int
    updated: int
    entry: dict  # the series' manifest entry as written (or found, when nothing changed)


def entry_of(stored: CuratedSeries) -> dict:
    """A manifest entry of a stored series; `seq` orders the writes of one series."""
    return {
        "version": stored.version,
        "rows": len(stored.days),
        "start": min(stored.days).isoformat(),
        "end": max(stored.days).isoformat(),
        "seq": stored.seq,
        "updated_at": stored.updated_at,
        "shard": shard_of(stored.series),
    }


def _from_item(series: str, item: dict, etag: str) -> CuratedSeries:
    content = item["csv"].encode()
    return CuratedSeries(series, deserialize(content), content_version(content), etag, item["seq"], item["updated_at"])


def _read_legacy(client: ContainerClient, series: str) -> CuratedSeries | None:
    try:
        downloader = client.download_blob(legacy_blob(series))
    except ResourceNotFoundError:
        return None
    content = downloader.readall()
    props = downloader.properties
    seq = int((props.metadata or {}).get("seq", 0))
    updated_at = props.last_modified.astimezone(UTC).isoformat()
    return CuratedSeries(series, deserialize(content), content_version(content), props.etag, seq, updated_at)


def _read_shard(client: ContainerClient, shard: str) -> tuple[dict, str | None]:
    document, etag = read_json(client, shard)
    return document or {"series": {}}, etag


def read_series(client: ContainerClient, series: str) -> CuratedSeries | None:
    """The series from its shard, else from its blob of the layout before shards, else None."""
    [(_, stored)] = read_many(client, [series])
    return stored


def read_many(client: ContainerClient, names: Iterable[str]) -> Iterator[tuple[str, CuratedSeries | None]]:
    """(name, the series from its shard, else from its blob of the layout before shards, else None) for each
    name, shard by shard, so each shard is read once."""
    by_shard: dict[str, list[str]] = {}
    for name in names:
        by_shard.setdefault(shard_of(name), []).append(name)
    for shard in sorted(by_shard):
        document, etag = _read_shard(client, shard)
        for name in by_shard[shard]:
            item = document["series"].get(name)
            yield name, _from_item(name, item, etag) if item is not None else _read_legacy(client, name)


def legacy_series(client: ContainerClient) -> set[str]:
    """The series that have a blob of the layout before shards (one list call per 5,000)."""
    names = client.list_blobs(name_starts_with=LEGACY_PREFIX, results_per_page=5000)
    return {b.name[len(LEGACY_PREFIX) : -len(".csv")] for b in names if b.name.endswith(".csv")}


def merge_shard(
    client: ContainerClient, shard: str, new_days: dict[str, dict[date, float]], legacy: Iterable[str] = ()
) -> list[MergeOutcome]:
    """Upsert days into the series of one shard (a restated date takes the new value) in one write.

    A series that is not in the shard yet but in `legacy` starts from its blob of the layout before
    shards, which stays as it is. The write is conditional on the shard's ETag (create-only for a new
    shard); a lost race re-reads the shard and merges again.
    """
    legacy = set(legacy)

    def once() -> list[MergeOutcome]:
        document, etag = _read_shard(client, shard)
        stored = document["series"]
        now = datetime.now(UTC).isoformat()
        outcomes, write = [], False
        for series, days in new_days.items():
            item = stored.get(series)
            current = _from_item(series, item, etag or "") if item else None
            if current is None and series in legacy:
                current = _read_legacy(client, series)
            old = current.days if current else {}
            merged = {**old, **days}
            added = sum(1 for d in days if d not in old)
            updated = sum(1 for d, v in days.items() if d in old and old[d] != v)
            changed = current is None or added > 0 or updated > 0
            if item is not None and not changed:
                outcomes.append(MergeOutcome(series, False, current.version, len(old), 0, 0, entry_of(current)))
                continue
            content = serialize(merged)
            seq = (current.seq if current else 0) + changed  # a series moved from its old blob keeps its number
            stored[series] = {"csv": content.decode(), "seq": seq, "updated_at": now}
            now_stored = CuratedSeries(series, merged, content_version(content), "", seq, now)
            entry = entry_of(now_stored)
            outcomes.append(MergeOutcome(series, changed, now_stored.version, len(merged), added, updated, entry))
            write = True
        if write:
            _write_shard(client, shard, document, etag)
        return outcomes

    return read_change_write(once, f"curated shard {shard}")


def _write_shard(client: ContainerClient, shard: str, document: dict, etag: str | None) -> None:
    data = json.dumps(document, separators=(",", ":"), sort_keys=True).encode()
    blob = client.get_blob_client(shard)
    if etag is None:
        blob.upload_blob(data, overwrite=False, content_settings=JSON_CONTENT)
    else:
        guard = {"etag": etag, "match_condition": MatchConditions.IfNotModified}
        blob.upload_blob(data, overwrite=True, content_settings=JSON_CONTENT, **guard)


def merge_series(client: ContainerClient, series: str, new_days: dict[date, float]) -> MergeOutcome:
    """Upsert days into one series (see merge_shard); a series not in its shard yet is looked for in the old layout."""
    [outcome] = merge_shard(client, shard_of(series), {series: new_days}, legacy=[series])
    return outcome


def dataset_version(entries: dict[str, dict]) -> str:
    joined = ";".join(f"{s}={entries[s]['version']}" for s in sorted(entries))
    return hashlib.sha256(joined.encode()).hexdigest()[:16]


def update_manifest(client: ContainerClient, items: list[MergeOutcome] | list[str]) -> dict:
    """Record series in the manifest: merge outcomes as they were written, or names as stored now.

    An entry replaces the manifest's only if its `seq` is not older, so concurrent uploads can
    record their series in any order and a lost race costs one manifest read and write, nothing per
    series.
    """
    entries = {item.series: item.entry for item in items if isinstance(item, MergeOutcome)}
    for name, stored in read_many(client, [item for item in items if not isinstance(item, MergeOutcome)]):
        if stored is None:
            raise ValueError(f"series {name} is not in the curated dataset")
        entries[name] = entry_of(stored)

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
