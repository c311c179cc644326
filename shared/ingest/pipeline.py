"""Process one uploaded blob: archive it, validate it, quarantine or merge it, request retraining."""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import posixpath
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError

from shared.errors import UploadRejected
from shared.ingest.curated import merge_series, update_manifest
from shared.ingest.parse import parse_upload
from shared.settings import Settings, get_settings
from shared.storage import container, queue, read_json, write_json

log = logging.getLogger(__name__)


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


def _archive(settings: Settings, name: str, data: bytes, sha: str, received_at: str) -> str:
    suffix = posixpath.splitext(name)[1].lower() or ".csv"
    archived_as = f"{sha}{suffix}"
    try:
        container(settings.archive_container, settings).upload_blob(
            archived_as, data, overwrite=False, metadata={"original_name": name, "received_at": received_at}
        )
    except ResourceExistsError:
        log.info("upload %s has the same content as archived %s", name, archived_as)
    return archived_as


def _quarantine(settings: Settings, name: str, data: bytes, sha: str, report: dict) -> str:
    client = container(settings.quarantine_container, settings)
    stem, suffix = posixpath.splitext(name)
    for candidate in (name, f"{stem}.{sha[:12]}{suffix}"):
        try:
            client.upload_blob(candidate, data, overwrite=False)
        except ResourceExistsError:
            existing = client.download_blob(candidate).readall()
            if hashlib.sha256(existing).hexdigest() != sha:
                continue
        write_json(client, f"{candidate}.error.json", report)
        return candidate
    raise RuntimeError(f"could not find a free quarantine name for {name}")


def _remove_from_landing(settings: Settings, name: str) -> None:
    with contextlib.suppress(ResourceNotFoundError):
        container(settings.incoming_container, settings).delete_blob(name)


def process_upload(
    name: str,
    data: bytes,
    *,
    metadata: dict[str, str] | None = None,
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
    archived_as = _archive(settings, name, data, sha, received_at)
    result = IngestResult(name, "accepted", archived_as, sha, correlation_id)
    curated = container(settings.curated_container, settings)
    receipt_name = f"uploads/{sha}.json"
    receipt, _ = read_json(curated, receipt_name)
    if receipt and receipt.get("status") == "accepted":
        result.status = "duplicate"
        log.info("upload %s duplicates %s (accepted %s); nothing changes", name, receipt["name"], receipt["at"])
        _remove_from_landing(settings, name)
        return result

    default_series = (metadata or {}).get("series_id") or settings.default_series
    try:
        parsed = parse_upload(data, default_series=default_series, max_bytes=settings.max_upload_bytes)
    except UploadRejected as exc:
        result.status = "rejected"
        result.problems = exc.problems
        report = {
            "file": name,
            "archived_as": archived_as,
            "received_at": received_at,
            "size_bytes": len(data),
            "error": str(exc),
            "problems": exc.problems,
            "correlation_id": correlation_id,
            "rules": "README.md#upload-rules",
        }
        result.quarantined_as = _quarantine(settings, name, data, sha, report)
        write_json(curated, receipt_name, {"name": name, "status": "rejected", "at": received_at, "error": str(exc)})
        log.warning(
            "upload %s rejected: %s",
            name,
            str(exc),
            extra={"custom_dimensions": {"event": "UploadRejected", "file": name, "problems": len(exc.problems)}},
        )
        _remove_from_landing(settings, name)
        return result

    outcomes = [merge_series(curated, series, parsed.daily[series]) for series in parsed.series]
    manifest = update_manifest(curated, [o.series for o in outcomes])
    result.dataset_version = manifest["dataset_version"]
    for outcome in outcomes:
        result.series[outcome.series] = {
            "version": outcome.version,
            "rows": outcome.rows,
            "added": outcome.added,
            "updated": outcome.updated,
            "changed": outcome.changed,
        }
    # Every series of the file is requested, changed or not: a retry of an upload whose merge had
    # already landed must still ask for its retrain, and a version already trained is skipped cheaply.
    retrain = queue(settings.retrain_queue, settings)
    for outcome in outcomes:
        message = {
            "series": outcome.series,
            "dataset_version": outcome.version,
            "reason": "new-data",
            "correlation_id": correlation_id,
            "upload": archived_as,
        }
        retrain.send_message(json.dumps(message).encode())
        result.retrain_requests.append(message)
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
        "upload %s accepted: %d rows, series %s, dataset version %s, %d retrain request(s)",
        name,
        parsed.rows,
        ", ".join(parsed.series),
        result.dataset_version,
        len(result.retrain_requests),
    )
    _remove_from_landing(settings, name)
    return result
