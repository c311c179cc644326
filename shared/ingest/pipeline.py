"""Process one uploaded blob: archive it, validate it, quarantine or merge it, request retraining."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import posixpath
import random
import re
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobClient, ContainerClient

from shared.errors import UploadRejected
from shared.ingest.curated import (
    WRITE_CONCURRENCY,
    MergeOutcome,
    known_starts,
    legacy_series,
    merge_shard,
    read_manifest,
    shard_of,
    update_manifest,
)
from shared.ingest.parse import parse_upload
from shared.ingest.rules import UploadRules, decode_metadata, dedupe_key, encode_metadata
from shared.retrain_requests import Batcher, batch_size
from shared.settings import Settings, get_settings
from shared.storage import container, queue, read_json, write_json

log = logging.getLogger(__name__)

MAX_BLOB_NAME = 1024  # characters, Azure's limit
MAX_SEGMENTS = 250  # path segments ('/'), Azure allows 254
REPORT_SUFFIX = ".error.json"
_SAFE_SUFFIX = re.compile(r"^\.[a-z0-9]{1,10}$")


@dataclass
class IngestResult:
    """What happened to one upload."""

    name: str
    status: str  # accepted | rejected | duplicate
    archived_as: str
    sha256: str
    correlation_id: str
    series: dict[str, dict] = field(default_factory=dict)
    dataset_version: str | None = None
    retrain_requests: list[dict] = field(default_factory=list)
    quarantined_as: str | None = None
    problems: list[dict] = field(default_factory=list)


def _suffix(name: str) -> str:
    suffix = posixpath.splitext(name)[1].lower()
    return suffix if _SAFE_SUFFIX.match(suffix) else ".csv"


def _archive(settings: Settings, name: str, data: bytes, sha: str, received_at: str) -> str:
    archived_as = f"{sha}{_suffix(name)}"
    metadata = {"original_name": encode_metadata(name), "received_at": received_at}
    try:
        container(settings.archive_container, settings).upload_blob(
            archived_as, data, overwrite=False, metadata=metadata
        )
    except ResourceExistsError:
        log.info("upload %s has the same content as archived %s", name, archived_as)
    return archived_as


def quarantine_name(key: str, name: str) -> str:
    """Where a rejected upload goes: a folder of its own (its dedupe key and name), then its name.

    One folder holds one upload name, so no two uploads share a name and no report
    (`{that}.error.json`) can be an uploaded file. Names too long for storage keep their last
    segment, cut to fit, with their extension.
    """
    folder = hashlib.sha256(f"{key}\n{name}".encode()).hexdigest()[:20]
    room = MAX_BLOB_NAME - len(folder) - 1 - len(REPORT_SUFFIX)
    if len(name) > room or name.count("/") > MAX_SEGMENTS:
        base = name.rsplit("/", 1)[-1]
        stem, ext = posixpath.splitext(base)
        ext = ext if len(ext) <= 16 else ""
        name = stem[: room - len(ext)] + ext
    return f"{folder}/{name}"


def _quarantine(settings: Settings, quarantined_as: str, data: bytes | None, report: dict) -> str:
    client = container(settings.quarantine_container, settings)
    if data is not None:
        client.upload_blob(quarantined_as, data, overwrite=True)  # the same upload again: same bytes
    write_json(client, f"{quarantined_as}{REPORT_SUFFIX}", report)
    return quarantined_as


def _remove_from_landing(settings: Settings, name: str) -> None:
    with contextlib.suppress(ResourceNotFoundError):
        container(settings.incoming_container, settings).delete_blob(name)


def _target_series(metadata: Mapping[str, str] | None, settings: Settings) -> str:
    return decode_metadata((metadata or {}).get("series_id")).strip() or settings.default_series


def _reject(
    settings: Settings,
    result: IngestResult,
    exc: UploadRejected,
    *,
    data: bytes | None,
    size: int,
    received_at: str,
    key: str,
) -> IngestResult:
    result.status = "rejected"
    result.problems = exc.problems
    report = {
        "file": result.name,
        "archived_as": result.archived_as,
        "received_at": received_at,
        "size_bytes": size,
        "error": str(exc),
        "problems": exc.problems,
        "correlation_id": result.correlation_id,
        "dedupe_key": key,
        "rules": "README.md#upload-rules",
    }
    result.quarantined_as = quarantine_name(key, result.name)
    if data is None:  # too large to read: storage copies it server-side
        _copy(container(settings.incoming_container, settings).get_blob_client(result.name),
              container(settings.quarantine_container, settings).get_blob_client(result.quarantined_as))  # fmt: skip
    _quarantine(settings, result.quarantined_as, data, report)
    log.warning(
        "upload %s rejected: %s (quarantined as %s)",
        result.name,
        str(exc),
        result.quarantined_as,
        extra={"custom_dimensions": {"event": "UploadRejected", "file": result.name, "problems": len(exc.problems)}},
    )
    _remove_from_landing(settings, result.name)
    return result


def _copy(source: BlobClient, target: BlobClient, timeout: float = 600.0) -> None:
    """Server-side copy within the account (nothing passes through this process); waits until done."""
    props = target.start_copy_from_url(source.url)
    status, deadline = props.get("copy_status"), time.monotonic() + timeout
    while status == "pending" and time.monotonic() < deadline:
        time.sleep(0.5)
        status = target.get_blob_properties().copy.status
    if status != "success":
        raise RuntimeError(f"copy of {source.blob_name} to {target.container_name}/{target.blob_name} ended {status}")


def reject_oversized(
    name: str,
    size: int,
    *,
    metadata: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    correlation_id: str | None = None,
) -> IngestResult:
    """A landed blob over MAX_UPLOAD_BYTES: rejected on its size alone, never read into memory.

    Storage copies it into the archive (under `oversized/`, since its content hash is not
    computed) and into the quarantine next to its report; then it leaves the landing container.
    """
    settings = settings or get_settings()
    correlation_id = correlation_id or str(uuid.uuid4())
    received_at = datetime.now(UTC).isoformat()
    landing = container(settings.incoming_container, settings).get_blob_client(name)
    etag = landing.get_blob_properties().etag.strip('"')
    rules = UploadRules.from_settings(settings)
    key = dedupe_key(f"etag:{etag}:{size}", _target_series(metadata, settings), rules)
    archived_as = f"oversized/{key[:32]}{_suffix(name)}"
    archive = container(settings.archive_container, settings).get_blob_client(archived_as)
    if not archive.exists():
        _copy(landing, archive)
        archive.set_blob_metadata({"original_name": encode_metadata(name), "received_at": received_at})
    result = IngestResult(name, "rejected", archived_as, "", correlation_id)
    exc = UploadRejected(
        "file too large",
        [{"line": None, "column": None, "reason": f"{size} bytes exceeds the limit of {rules.max_bytes}"}],
    )
    return _reject(settings, result, exc, data=None, size=size, received_at=received_at, key=key)


def ingest_blob(
    name: str,
    size: int | None,
    read: Callable[[], bytes],
    *,
    metadata: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    correlation_id: str | None = None,
) -> IngestResult:
    """Ingest a landed blob: its size is checked before `read` fetches the content."""
    settings = settings or get_settings()
    if size is not None and size > settings.max_upload_bytes:
        return reject_oversized(name, size, metadata=metadata, settings=settings, correlation_id=correlation_id)
    return process_upload(name, read(), metadata=metadata, settings=settings, correlation_id=correlation_id)


def _merge_and_request(
    settings: Settings,
    curated: ContainerClient,
    daily: dict[str, dict],
    common: dict,
) -> list[MergeOutcome]:
    """Merge every series into its shard (WRITE_CONCURRENCY shards at a time) and request their retrains.

    Requests go out `batch_size` series per message as soon as their shards are written, so worker
    processes start retraining while the rest of the upload is still being written. Every series of the
    file is requested, changed or not: a retry of an upload whose merge had already landed must still
    ask for its retrain, and a version already trained is skipped cheaply.
    """
    shards: dict[str, dict[str, dict]] = {}
    for name in daily:
        shards.setdefault(shard_of(name), {})[name] = daily[name]
    order = list(shards)
    random.shuffle(order)  # concurrent uploads meet on fewer shards at once
    legacy = legacy_series(curated)
    retrain = queue(settings.retrain_queue, settings)
    batcher = Batcher(retrain.send_message, common, batch_size(len(daily)))

    def write(shard: str) -> list[MergeOutcome]:
        outcomes = merge_shard(curated, shard, shards[shard], legacy & shards[shard].keys())
        batcher.add([{"series": o.series, "dataset_version": o.version} for o in outcomes])
        return outcomes

    with ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY) as pool:
        written = [outcome for outcomes in pool.map(write, order) for outcome in outcomes]
    batcher.flush()
    log.info("%d series in %d shards; %d retrain message(s)", len(written), len(order), batcher.sent)
    return written


def process_upload(
    name: str,
    data: bytes,
    *,
    metadata: Mapping[str, str] | None = None,
    settings: Settings | None = None,
    correlation_id: str | None = None,
) -> IngestResult:
    """Ingest one file from the landing container (name relative to it).

    The raw bytes are archived first, so nothing uploaded is ever lost; the landing blob is
    removed only once the archive (and, for a rejected file, the quarantine copy) is written.
    """
    settings = settings or get_settings()
    correlation_id = correlation_id or str(uuid.uuid4())
    received_at = datetime.now(UTC).isoformat()
    sha = hashlib.sha256(data).hexdigest()
    target = _target_series(metadata, settings)
    rules = UploadRules.from_settings(settings)
    key = dedupe_key(sha, target, rules)
    archived_as = _archive(settings, name, data, sha, received_at)
    result = IngestResult(name, "accepted", archived_as, sha, correlation_id)
    curated = container(settings.curated_container, settings)
    receipt_name = f"uploads/{key}.json"
    receipt, _ = read_json(curated, receipt_name)
    if receipt and receipt.get("status") == "accepted":
        result.status = "duplicate"
        log.info("upload %s duplicates %s (accepted %s); nothing changes", name, receipt["name"], receipt["at"])
        _remove_from_landing(settings, name)
        return result

    manifest = read_manifest(curated)
    try:
        parsed = parse_upload(data, default_series=target, rules=rules, known_start=known_starts(manifest))
    except UploadRejected as exc:
        return _reject(settings, result, exc, data=data, size=len(data), received_at=received_at, key=key)

    common = {"reason": "new-data", "correlation_id": correlation_id, "upload": archived_as}
    outcomes = {o.series: o for o in _merge_and_request(settings, curated, parsed.daily, common)}
    manifest = update_manifest(curated, list(outcomes.values()))
    result.dataset_version = manifest["dataset_version"]
    for outcome in (outcomes[name] for name in parsed.series):
        result.series[outcome.series] = {
            "version": outcome.version,
            "rows": outcome.rows,
            "added": outcome.added,
            "updated": outcome.updated,
            "changed": outcome.changed,
        }
    result.retrain_requests = [
        {"series": name, "dataset_version": entry["version"], **common} for name, entry in result.series.items()
    ]
    write_json(
        curated,
        receipt_name,
        {
            "name": name,
            "status": "accepted",
            "at": received_at,
            "series": result.series,
            "dataset_version": result.dataset_version,
        },
    )
    log.info(
        "upload %s accepted: %d rows, %d series (%s), dataset version %s, %d retrain request(s)",
        name,
        parsed.rows,
        len(parsed.series),
        ", ".join(parsed.series[:10]) + (", ..." if len(parsed.series) > 10 else ""),
        result.dataset_version,
        len(result.retrain_requests),
    )
    _remove_from_landing(settings, name)
    return result
