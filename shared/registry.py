"""Model registry: immutable, hash-verified versions, the champion pointer (ETag-guarded) and retrain run claims.

Integrity: `write_version` records the SHA-256 of `model.joblib` and `forecast.json` in `card.json`
and seals the card with the SHA-256 of its own content (`card_sha256`); every read verifies them,
and a version that fails is a CorruptArtifact (treated as absent: never served, never unpickled).
Threat model and rules: docs/reliability.md.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import ContainerClient

from shared.errors import (
    ConcurrencyConflict,
    CorruptArtifact,
    CorruptPointer,
    UnpublishableVersion,
    VersionNotFound,
)
from shared.series_id import is_series_id
from shared.storage import JSON_CONTENT, read_json, write_json

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
CARD_FILE = "card.json"
FORECAST_FILE = "forecast.json"
POINTER_FILE = "champion.json"
CARD_DIGEST = "card_sha256"
CARD_SHAPE = {"created_at": str, "spec": dict, "dataset": dict, "decision": dict}  # what every reader relies on
CORRUPT_PREFIX = "_corrupt/"  # one marker per series whose champion failed verification; not a series

T = TypeVar("T")


def pointer_name(series: str) -> str:
    return f"{series}/{POINTER_FILE}"


def new_version_id(now: datetime | None = None) -> str:
    """A unique version id that sorts by creation time, such as v20260101T120000.123456Z-3f9a."""
    now = now or datetime.now(UTC)
    return f"v{now:%Y%m%dT%H%M%S.%f}Z-{uuid.uuid4().hex[:4]}"


def digest(data: bytes) -> dict:
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def _canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), default=str).encode()


def seal_card(card: dict) -> tuple[dict, bytes]:
    """The card as stored (JSON values, `card_sha256` over the rest) and its bytes."""
    body = json.loads(_canonical({k: v for k, v in card.items() if k != CARD_DIGEST}))
    sealed = {**body, CARD_DIGEST: hashlib.sha256(_canonical(body)).hexdigest()}
    return sealed, json.dumps(sealed, indent=2, sort_keys=True).encode()


def forecast_problem(doc: Any) -> str | None:
    """What makes a stored forecast path unservable (shape, or a number that is not finite), or None."""
    if not isinstance(doc, dict):
        return "is not a JSON object"
    levels, points, horizon = doc.get("levels"), doc.get("points"), doc.get("max_horizon")
    if not isinstance(levels, list) or not levels or not all(_finite(level) for level in levels):
        return "has no valid list of levels"
    if not isinstance(points, list) or not points or not isinstance(horizon, int) or horizon > len(points):
        return "has no points up to its max_horizon"
    if not isinstance(doc.get("trained_through"), str):
        return "has no trained_through date"
    floor = doc.get("floor")
    if floor is not None and not _finite(floor):
        return f"has a floor that is not a finite number: {floor!r}"
    keys = ["mean", *(f"{side}_{level:g}" for level in levels for side in ("lower", "upper"))]
    for index, point in enumerate(points):
        if not isinstance(point, dict) or not isinstance(point.get("date"), str):
            return f"point {index} has no date"
        for key in keys:
            if not _finite(point.get(key)):
                return f"point {index} ({point['date']}) {key} is not a finite number: {point.get(key)!r}"
    return None


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def write_version(
    client: ContainerClient, series: str, version: str, *, model: Any, card: dict, forecast: dict
) -> dict:
    """Write a new immutable version and return its sealed card; the card is written last.

    Refuses (UnpublishableVersion, nothing written) a forecast path that is not servable, such as
    one with a non-finite mean or bound. Every blob is create-only, so a version is never rewritten.
    """
    import joblib

    problem = forecast_problem(forecast)
    if problem is not None:
        raise UnpublishableVersion(f"version {version} of series {series} not published: its forecast {problem}")
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    model_bytes = buffer.getvalue()
    forecast_bytes = json.dumps(forecast, indent=2, sort_keys=True, allow_nan=False).encode()
    sealed, card_bytes = seal_card(
        {**card, "artifacts": {MODEL_FILE: digest(model_bytes), FORECAST_FILE: digest(forecast_bytes)}}
    )
    for name, data in ((MODEL_FILE, model_bytes), (FORECAST_FILE, forecast_bytes), (CARD_FILE, card_bytes)):
        content = None if name == MODEL_FILE else JSON_CONTENT
        client.upload_blob(f"{series}/{version}/{name}", data, overwrite=False, content_settings=content)
    return sealed


def _download(client: ContainerClient, series: str, version: str, name: str, **options: Any) -> bytes:
    try:
        return client.download_blob(f"{series}/{version}/{name}", **options).readall()
    except ResourceNotFoundError as exc:
        if name == CARD_FILE:
            raise VersionNotFound(f"series {series} has no model version {version}") from exc
        raise CorruptArtifact(series, version, name, "is missing") from exc


def _verify(series: str, version: str, card: dict, name: str, data: bytes) -> None:
    """Check `data` against the SHA-256 the card recorded for artifact `name` (legacy cards have none)."""
    recorded = (card.get("artifacts") or {}).get(name)
    if recorded is None:
        return
    actual, expected = hashlib.sha256(data).hexdigest(), str(recorded.get("sha256"))
    if actual != expected:
        raise CorruptArtifact(series, version, name, f"has SHA-256 {actual[:12]}…, the card recorded {expected[:12]}…")


def parse_card(series: str, version: str, data: bytes) -> dict:
    """A card from its stored bytes, verified: JSON object, its own version, `card_sha256` matching."""
    try:
        card = json.loads(data)
    except ValueError as exc:
        raise CorruptArtifact(series, version, CARD_FILE, f"is not valid JSON ({exc})") from exc
    if not isinstance(card, dict) or card.get("version") != version:
        raise CorruptArtifact(series, version, CARD_FILE, "is not the card of this version")
    missing = [key for key, kind in CARD_SHAPE.items() if not isinstance(card.get(key), kind)]
    if missing:
        raise CorruptArtifact(series, version, CARD_FILE, f"lacks {', '.join(missing)}")
    recorded = card.get(CARD_DIGEST)
    if recorded is not None:
        actual = hashlib.sha256(_canonical({k: v for k, v in card.items() if k != CARD_DIGEST})).hexdigest()
        if actual != recorded:
            raise CorruptArtifact(series, version, CARD_FILE, f"content does not match its {CARD_DIGEST}")
    return card


def read_card(client: ContainerClient, series: str, version: str, **options: Any) -> dict:
    """The verified card of a version; VersionNotFound if it does not exist, CorruptArtifact if it fails."""
    return parse_card(series, version, _download(client, series, version, CARD_FILE, **options))


def read_forecast(client: ContainerClient, series: str, version: str, card: dict | None = None, **options: Any) -> dict:
    """The stored forecast path of a version, verified against its card's SHA-256 and checked servable."""
    card = card if card is not None else read_card(client, series, version, **options)
    data = _download(client, series, version, FORECAST_FILE, **options)
    _verify(series, version, card, FORECAST_FILE, data)
    try:
        doc = json.loads(data)
    except ValueError as exc:
        raise CorruptArtifact(series, version, FORECAST_FILE, f"is not valid JSON ({exc})") from exc
    problem = forecast_problem(doc)
    if problem is not None:
        raise CorruptArtifact(series, version, FORECAST_FILE, problem)
    return doc


def load_model(client: ContainerClient, series: str, version: str) -> Any:
    """Unpickle a version's model, only once its bytes match the SHA-256 recorded in its verified card."""
    import joblib

    card = read_card(client, series, version)
    if MODEL_FILE not in (card.get("artifacts") or {}):
        raise CorruptArtifact(series, version, MODEL_FILE, "has no recorded SHA-256; it is not unpickled")
    data = _download(client, series, version, MODEL_FILE)
    _verify(series, version, card, MODEL_FILE, data)
    return joblib.load(io.BytesIO(data))


def verify_version(client: ContainerClient, series: str, version: str, *, model: bool = False) -> dict:
    """Verify a version's card and forecast (and model bytes if `model`); returns the card."""
    card = read_card(client, series, version)
    read_forecast(client, series, version, card)
    if model:
        if MODEL_FILE not in (card.get("artifacts") or {}):
            raise CorruptArtifact(series, version, MODEL_FILE, "has no recorded SHA-256")
        _verify(series, version, card, MODEL_FILE, _download(client, series, version, MODEL_FILE))
    return card


def lineage(pointer: dict) -> list[str]:
    """The champion's version, then the earlier champions' (most recent first), without repeats."""
    versions = [pointer["version"], *(entry["version"] for entry in pointer.get("history", []))]
    return list(dict.fromkeys(versions))


def first_intact(pointer: dict, check: Callable[[str], T]) -> tuple[str | None, T | None, list[CorruptArtifact]]:
    """The first version of the champion's lineage that `check` accepts, its result and the failures before it.

    `check(version)` raises CorruptArtifact (or VersionNotFound) for a version that cannot be used;
    any other error (storage unreachable) propagates. (None, None, failures) when no version passes.
    """
    failures: list[CorruptArtifact] = []
    for version in lineage(pointer):
        try:
            return version, check(version), failures
        except CorruptArtifact as exc:
            failures.append(exc)
        except VersionNotFound as exc:
            failures.append(CorruptArtifact(pointer["series"], version, CARD_FILE, f"is missing ({exc})"))
    return None, None, failures


def mark_corrupt(
    client: ContainerClient, series: str, failures: list[CorruptArtifact], served: str | None, **options: Any
) -> None:
    """Record that the champion of `series` failed verification (for health), and log it."""
    for failure in failures:
        log.error("integrity: %s; serving %s instead", failure, served or "nothing")
    marker = {
        "series": series,
        "detected_at": datetime.now(UTC).isoformat(),
        "served_version": served,
        "failures": [{"version": f.version, "artifact": f.artifact, "reason": f.reason} for f in failures],
    }
    write_json(client, f"{CORRUPT_PREFIX}{series}.json", marker, **options)


def clear_corrupt(client: ContainerClient, series: str, **options: Any) -> None:
    with contextlib.suppress(ResourceNotFoundError):
        client.delete_blob(f"{CORRUPT_PREFIX}{series}.json", **options)


def corrupt_series(client: ContainerClient, **options: Any) -> list[str]:
    """Series whose champion failed verification and has not been replaced since (one listing, no reads)."""
    names = client.list_blobs(name_starts_with=CORRUPT_PREFIX, **options)
    return sorted(blob.name[len(CORRUPT_PREFIX) : -len(".json")] for blob in names)


def read_corrupt(client: ContainerClient, series: str) -> dict | None:
    """The corruption marker of one series (what failed, what is served instead), or None."""
    return read_json(client, f"{CORRUPT_PREFIX}{series}.json")[0]


def read_champion(client: ContainerClient, series: str, **options: Any) -> tuple[dict | None, str | None]:
    """The champion pointer of a series and its ETag, or (None, None); CorruptPointer if it is unreadable."""
    try:
        downloader = client.download_blob(pointer_name(series), **options)
    except ResourceNotFoundError:
        return None, None
    etag = downloader.properties.etag
    return parse_pointer(series, downloader.readall(), etag), etag


def parse_pointer(series: str, data: bytes, etag: str | None) -> dict:
    try:
        pointer = json.loads(data)
    except ValueError as exc:
        raise CorruptPointer(series, f"is not valid JSON ({exc})", etag) from exc
    if not isinstance(pointer, dict) or not all(isinstance(pointer.get(k), str) for k in ("version", "promoted_at")):
        raise CorruptPointer(series, "names no version and promotion time", etag)
    pointer.setdefault("reason", "")
    history = pointer.get("history", [])
    if not isinstance(history, list) or not all(
        isinstance(e, dict) and isinstance(e.get("version"), str) for e in history
    ):
        raise CorruptPointer(series, "has a history that is not a list of versions", etag)
    return pointer


def _pointer(series: str, version: str, reason: str, history: list[dict]) -> dict:
    return {
        "series": series,
        "version": version,
        "promoted_at": datetime.now(UTC).isoformat(),
        "reason": reason,
        "history": history,
    }


def set_champion(
    client: ContainerClient,
    series: str,
    version: str,
    *,
    reason: str,
    current: dict | None,
    etag: str | None,
    clear_marker: bool = True,
) -> dict:
    """Point the champion at `version`, if the pointer is still `current` as read with `etag` (None: no pointer).

    The previous champion goes to the front of the history, which rollback uses. A pointer that moved
    since it was read raises ConcurrencyConflict: the decision taken on it is stale. The series'
    corruption marker is cleared (callers promote verified versions only); `clear_marker=False` saves
    that request for a caller that knows the series has no marker.
    """
    history = []
    if current is not None:
        history = [{k: current[k] for k in ("version", "promoted_at", "reason")}, *current.get("history", [])]
    pointer = _pointer(series, version, reason, history)
    _write_pointer(client, series, pointer, etag)
    if clear_marker:
        clear_corrupt(client, series)
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
    """Make an existing, verified version the champion (admin operation); a corrupt pointer is replaced."""
    verify_version(client, series, version, model=True)
    try:
        current, etag = read_champion(client, series)
    except CorruptPointer as exc:
        log.error("integrity: %s; promoting %s replaces it (its history is lost)", exc, version)
        current, etag = None, exc.etag
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
    verify_version(client, series, previous["version"], model=True)
    pointer = _pointer(series, previous["version"], f"{reason} (from {current['version']})", rest)
    _write_pointer(client, series, pointer, etag)
    clear_corrupt(client, series)
    log.info("champion of %s rolled back from %s to %s", series, current["version"], previous["version"])
    return pointer


def read_versions(client: ContainerClient, series: str) -> tuple[dict | None, list[dict]]:
    """The champion pointer (None without one) and every complete version (oldest first), the champion marked.

    A card that fails verification is listed as a placeholder whose decision outcome is "corrupt" and
    whose `corrupt` says why, so one damaged version does not hide the others; an unreadable pointer
    is reported as no champion.
    """
    try:
        champion, _ = read_champion(client, series)
    except CorruptPointer as exc:
        log.error("integrity: %s", exc)
        champion = None
    champion_version = champion["version"] if champion else None
    cards = []
    for blob in client.list_blobs(name_starts_with=f"{series}/"):
        if blob.name.endswith(f"/{CARD_FILE}") and blob.name.count("/") == 2:
            version = blob.name.split("/")[1]
            try:
                card = parse_card(series, version, client.download_blob(blob.name).readall())
            except CorruptArtifact as exc:
                log.error("integrity: %s", exc)
                card = corrupt_placeholder(exc, blob.last_modified)
            card["champion"] = card["version"] == champion_version
            cards.append(card)
    return champion, sorted(cards, key=lambda c: c["version"])


def corrupt_placeholder(failure: CorruptArtifact, modified: datetime | None) -> dict:
    """What is listed for a version whose card failed verification (the card's keys, nothing invented)."""
    return {
        "version": failure.version,
        "series": failure.series,
        "created_at": (modified or datetime.now(UTC)).isoformat(),
        "spec": {},
        "dataset": {"end": None},
        "metrics": None,
        "decision": {"outcome": "corrupt", "reason": str(failure)},
        "corrupt": str(failure),
    }


def list_versions(client: ContainerClient, series: str) -> list[dict]:
    """Every complete version of a series (oldest first), the champion marked."""
    return read_versions(client, series)[1]


def list_series(client: ContainerClient) -> list[str]:
    """Series that have at least one blob in the registry (bookkeeping prefixes like `_corrupt/` are no series)."""
    prefixes = (item.name.rstrip("/") for item in client.walk_blobs(delimiter="/") if item.name.endswith("/"))
    return sorted(name for name in prefixes if is_series_id(name))


def run_claim_name(series: str, dataset_version: str) -> str:
    return f"{series}/runs/{dataset_version}.json"


def claim_run(client: ContainerClient, series: str, dataset_version: str) -> dict | None:
    """Claim the retrain of (series, dataset_version); call it holding the series' retrain lock.

    Returns the finished run's record if it is already done, and otherwise None with the claim taken.
    The claim is written create-only first, so a run never claimed before costs one request; an
    existing claim is read. Under the lock a claim that is not done was left by a worker that crashed
    (its lease expired), so it is taken over; the ETag-conditional write still refuses a claim that
    moved meanwhile.
    """
    name = run_claim_name(series, dataset_version)
    claim = {"status": "running", "started_at": datetime.now(UTC).isoformat()}
    try:
        write_json(client, name, claim, create_only=True)
        return None
    except ResourceExistsError:
        pass
    existing, etag = _read_claim(client, name)
    if existing is not None:
        if existing.get("status") == "done":
            return existing
        log.warning(
            "taking over the unfinished retrain claim of %s@%s from %s",
            series, dataset_version, existing.get("started_at", "an unreadable claim"),
        )  # fmt: skip
    try:
        write_json(client, name, claim, etag=etag, create_only=etag is None)
    except (ResourceExistsError, ResourceModifiedError) as exc:
        raise ConcurrencyConflict(f"retrain of {series}@{dataset_version} was claimed by another worker") from exc
    return None


def _read_claim(client: ContainerClient, name: str) -> tuple[dict | None, str | None]:
    """A run claim and its ETag; a damaged claim reads as an unfinished one, so it is taken over."""
    try:
        downloader = client.download_blob(name)
    except ResourceNotFoundError:
        return None, None
    try:
        claim = json.loads(downloader.readall())
    except ValueError:
        claim = None
    if not isinstance(claim, dict):
        log.error("integrity: retrain claim %s is not a JSON object; it counts as unfinished", name)
        claim = {}
    return claim, downloader.properties.etag


def finish_run(client: ContainerClient, series: str, dataset_version: str, record: dict) -> None:
    write_json(client, run_claim_name(series, dataset_version), {"status": "done", **record})
