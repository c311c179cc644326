"""Model registry: immutable versions, the champion pointer (ETag-guarded) and retrain run claims."""

from __future__ import annotations

import io
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from shared.errors import ConcurrencyConflict, VersionNotFound
from shared.storage import read_json, write_json

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
FORECAST_FILE = "forecast.json"


def pointer_name(series: str) -> str:
    return f"{series}/champion.json"


def new_version_id(now: datetime | None = None) -> str:
    """A unique version id that sorts by creation time, such as v20260101T120000.123456Z-3f9a."""
    now = now or datetime.now(UTC)
    return f"v{now:%Y%m%dT%H%M%S.%f}Z-{uuid.uuid4().hex[:4]}"


def write_version(
    client: ContainerClient, series: str, version: str, *, model: Any, card: dict, forecast: dict
) -> None:
    """Write a new immutable version; the card is written last, so a version with a card is complete."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    client.upload_blob(f"{series}/{version}/{MODEL_FILE}", buffer.getvalue(), overwrite=False)
    write_json(client, f"{series}/{version}/{FORECAST_FILE}", forecast, create_only=True)
    write_json(client, f"{series}/{version}/{CARD_FILE}", card, create_only=True)


def read_card(client: ContainerClient, series: str, version: str) -> dict:
    card, _ = read_json(client, f"{series}/{version}/{CARD_FILE}")
    if card is None:
        raise VersionNotFound(f"series {series} has no model version {version}")
    return card


def read_forecast(client: ContainerClient, series: str, version: str) -> dict:
    doc, _ = read_json(client, f"{series}/{version}/{FORECAST_FILE}")
    if doc is None:
        raise VersionNotFound(f"series {series} has no forecast for model version {version}")
    return doc


def load_model(client: ContainerClient, series: str, version: str) -> Any:
    import joblib

    try:
        data = client.download_blob(f"{series}/{version}/{MODEL_FILE}").readall()
    except ResourceNotFoundError as exc:
        raise VersionNotFound(f"series {series} has no model artifact for version {version}") from exc
    return joblib.load(io.BytesIO(data))


def read_champion(client: ContainerClient, series: str) -> tuple[dict | None, str | None]:
    """The champion pointer of a series and its ETag, or (None, None)."""
    return read_json(client, pointer_name(series))


def _pointer(series: str, version: str, reason: str, history: list[dict]) -> dict:
    return {
        "series": series,
        "version": version,
        "promoted_at": datetime.now(UTC).isoformat(),
        "reason": reason,
        "history": history,
    }


def set_champion(
    client: ContainerClient, series: str, version: str, *, reason: str, current: dict | None, etag: str | None
) -> dict:
    """Point the champion at `version`, if the pointer is still `current` as read with `etag` (None: no pointer).

    The previous champion goes to the front of the history, which rollback uses. A pointer that moved
    since it was read raises ConcurrencyConflict: the decision taken on it is stale.
    """
    history = []
    if current is not None:
        history = [{k: current[k] for k in ("version", "promoted_at", "reason")}, *current.get("history", [])]
    pointer = _pointer(series, version, reason, history)
    _write_pointer(client, series, pointer, etag)
    log.info("champion of %s is now %s (%s)", series, version, reason)
    return pointer


def _write_pointer(client: ContainerClient, series: str, pointer: dict, etag: str | None) -> None:
    try:
        write_json(client, pointer_name(series), pointer, etag=etag, create_only=etag is None)
    except (ResourceExistsError, ResourceModifiedError) as exc:
        raise ConcurrencyConflict(f"champion of {series} was changed by someone else; try again") from exc
    from shared.azureml.outbox import champion_changed  # every champion change goes to the registry mirror

    champion_changed(client, pointer)


def promote(client: ContainerClient, series: str, version: str, *, reason: str = "manual promotion") -> dict:
    """Make an existing version the champion (admin operation)."""
    read_card(client, series, version)
    current, etag = read_champion(client, series)
    if current is not None and current["version"] == version:
        return current
    return set_champion(client, series, version, reason=reason, current=current, etag=etag)


def rollback(client: ContainerClient, series: str, *, reason: str = "manual rollback") -> dict:
    """Restore the previous champion atomically; the rolled-back version stays in the registry."""
    current, etag = read_champion(client, series)
    if current is None:
        raise VersionNotFound(f"series {series} has no champion to roll back")
    if not current.get("history"):
        raise VersionNotFound(f"series {series} has no earlier champion to roll back to")
    previous, *rest = current["history"]
    pointer = _pointer(series, previous["version"], f"{reason} (from {current['version']})", rest)
    _write_pointer(client, series, pointer, etag)
    log.info("champion of %s rolled back from %s to %s", series, current["version"], previous["version"])
    return pointer


def read_versions(client: ContainerClient, series: str) -> tuple[dict | None, list[dict]]:
    """The champion pointer (None without one) and every complete version (oldest first), the champion marked."""
    champion, _ = read_champion(client, series)
    champion_version = champion["version"] if champion else None
    cards = []
    for blob in client.list_blobs(name_starts_with=f"{series}/"):
        if blob.name.endswith(f"/{CARD_FILE}") and blob.name.count("/") == 2:
            card, _ = read_json(client, blob.name)
            card["champion"] = card["version"] == champion_version
            cards.append(card)
    return champion, sorted(cards, key=lambda c: c["version"])


def list_versions(client: ContainerClient, series: str) -> list[dict]:
    """Every complete version of a series (oldest first), the champion marked."""
    return read_versions(client, series)[1]


def list_series(client: ContainerClient) -> list[str]:
    """Series that have at least one blob in the registry."""
    return sorted(item.name.rstrip("/") for item in client.walk_blobs(delimiter="/") if item.name.endswith("/"))


def run_claim_name(series: str, dataset_version: str) -> str:
    return f"{series}/runs/{dataset_version}.json"


def claim_run(client: ContainerClient, series: str, dataset_version: str) -> dict | None:
    """Claim the retrain of (series, dataset_version); call it holding the series' retrain lock.

    Returns the finished run's record if it is already done, and otherwise None with the claim taken.
    Under the lock a claim that is not done was left by a worker that crashed (its lease expired),
    so it is taken over; the ETag-conditional write still refuses a claim that moved meanwhile.
    """
    name = run_claim_name(series, dataset_version)
    claim = {"status": "running", "started_at": datetime.now(UTC).isoformat()}
    existing, etag = read_json(client, name)
    if existing is not None:
        if existing["status"] == "done":
            return existing
        log.warning(
            "taking over the unfinished retrain claim of %s@%s from %s", series, dataset_version, existing["started_at"]
        )
    try:
        write_json(client, name, claim, etag=etag, create_only=etag is None)
    except (ResourceExistsError, ResourceModifiedError) as exc:
        raise ConcurrencyConflict(f"retrain of {series}@{dataset_version} was claimed by another worker") from exc
    return None


def finish_run(client: ContainerClient, series: str, dataset_version: str, record: dict) -> None:
    write_json(client, run_claim_name(series, dataset_version), {"status": "done", **record})
