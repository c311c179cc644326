"""Retrain one series on request: the series lock, storage reads and writes, and the select-decide-publish steps."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from azure.core.exceptions import AzureError, HttpResponseError, ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobClient, BlobLeaseClient, ContainerClient
from azure.storage.queue import QueueMessage

from shared.errors import ConcurrencyConflict, CorruptArtifact, CorruptPointer, ForecastOpsError, UnpublishableVersion
from shared.fleet import record_champion
from shared.forecasting import select_model
from shared.forecasting.champion import decide_outcome
from shared.forecasting.selection import MIN_OBSERVATIONS
from shared.ingest.curated import CuratedSeries, read_series
from shared.registry import (
    claim_run,
    corrupt_series,
    finish_run,
    first_intact,
    mark_corrupt,
    new_version_id,
    read_champion,
    set_champion,
    verify_version,
    write_version,
)
from shared.retrain_requests import BATCH_KEY, MAX_BATCH
from shared.series_id import is_series_id
from shared.settings import Settings, get_settings
from shared.storage import container, queue
from shared.training import forecast_document, model_card, sales_floor, served_model, training_series

log = logging.getLogger(__name__)

LOCK_SECONDS = 60  # lease length; renewed every third of it while the retrain runs
DEFER_SECONDS = 5  # a request for a series that is being retrained comes back after this
MAX_DEFERRALS = 360  # then it fails and the queue's retry and poison rules take over
# Series of one batch retrained at a time in one worker process: while one waits on storage (13 requests for a
# new series, one after another), the other computes, so the process keeps its core busy.
BATCH_THREADS = 2


class UnprocessableRequest(ValueError):
    """A retrain message that can never be processed: it goes to the poison queue at once, with the reason."""


class SeriesBusy(ForecastOpsError):
    """Another worker is retraining the series right now."""


@contextlib.contextmanager
def series_lock(models: ContainerClient, series: str, *, exists: bool = False) -> Iterator[None]:
    """Hold a renewed blob lease on `{series}/lock` so one retrain per series runs at a time.

    A crashed holder's lease expires after LOCK_SECONDS, so the lock never sticks. `exists` says the
    lock blob most likely exists (the series was retrained before): the lease is then acquired at once,
    and the blob created only if it turns out to be missing; otherwise the blob is created first.
    """
    blob = models.get_blob_client(f"{series}/lock")
    lease = _take_lock(blob, series, exists)
    stop = threading.Event()

    def renew() -> None:
        while not stop.wait(LOCK_SECONDS / 3):
            try:
                lease.renew()
            except HttpResponseError:
                log.exception("could not renew the retrain lock of %s", series)

    renewer = threading.Thread(target=renew, name=f"lock-{series}", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        stop.set()
        renewer.join()
        lease.release()


def _take_lock(blob: BlobClient, series: str, exists: bool) -> BlobLeaseClient:
    if exists:
        try:
            return _lease(blob, series)
        except ResourceNotFoundError:
            pass  # never locked before: create the lock blob
    with contextlib.suppress(ResourceExistsError):
        blob.upload_blob(b"", overwrite=False)
    return _lease(blob, series)


def _lease(blob: BlobClient, series: str) -> BlobLeaseClient:
    try:
        return blob.acquire_lease(lease_duration=LOCK_SECONDS)
    except HttpResponseError as exc:
        if exc.status_code == 409:
            raise SeriesBusy(f"series {series} is being retrained by another worker") from exc
        raise


def defer(body: dict, settings: Settings) -> QueueMessage:
    """Send the request again, visible after DEFER_SECONDS, with its deferral count; returns the sent message."""
    deferrals = int(body.get("deferrals", 0)) + 1
    if deferrals > MAX_DEFERRALS:
        raise SeriesBusy(f"series {body['series']} stayed busy through {MAX_DEFERRALS} deferrals")
    message = json.dumps({**body, "deferrals": deferrals}).encode()
    return queue(settings.retrain_queue, settings).send_message(message, visibility_timeout=DEFER_SECONDS)


@dataclass(frozen=True)
class RetrainOutcome:
    status: str  # trained | skipped
    reason: str
    series: str
    dataset_version: str
    version: str | None = None
    decision: dict | None = None
    redelivery: QueueMessage | None = None  # a deferred request's message, invisible for DEFER_SECONDS


POISON_BODY_CHARS = 32_000  # a queue message is at most 64 KB; the poisoned body is cut to fit its envelope


def parse_message(raw: bytes) -> dict:
    """The JSON object of a queue message; UnprocessableRequest if it is none (no retry can change that)."""
    try:
        body = json.loads(raw)
    except ValueError as exc:  # UnicodeDecodeError is a ValueError too
        raise UnprocessableRequest(f"retrain request is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise UnprocessableRequest(f"retrain request is not a JSON object: {type(body).__name__}")
    return body


def parse_request(body: dict) -> tuple[str, str]:
    missing = [key for key in ("series", "dataset_version") if not body.get(key)]
    if missing:
        raise UnprocessableRequest(f"retrain request lacks {', '.join(missing)}: {body!r}")
    series, dataset_version = body["series"], body["dataset_version"]
    if not is_series_id(series):
        raise UnprocessableRequest(f"retrain request names an invalid series id {series!r}")
    if not isinstance(dataset_version, str):
        raise UnprocessableRequest(f"retrain request has a dataset_version that is not a string: {dataset_version!r}")
    deferrals = body.get("deferrals", 0)
    if not isinstance(deferrals, int) or isinstance(deferrals, bool) or deferrals < 0:
        raise UnprocessableRequest(f"retrain request has an invalid deferral count {deferrals!r}")
    return series, dataset_version


def send_to_poison(
    raw: bytes, reason: str, settings: Settings, *, message_id: str | None = None, dequeue_count: int | None = None
) -> None:
    """Put a message that can never succeed on `<retrain queue>-poison` with the reason, as one JSON envelope."""
    from shared.storage import poison_queue_name

    text = raw.decode("utf-8", errors="replace")
    envelope = {
        "reason": reason,
        "message_id": message_id,
        "dequeue_count": dequeue_count,
        "poisoned_at": datetime.now(UTC).isoformat(),
        "body": text[:POISON_BODY_CHARS],
        "body_truncated": len(text) > POISON_BODY_CHARS,
    }
    poison = queue(poison_queue_name(settings.retrain_queue), settings)
    with contextlib.suppress(ResourceExistsError):
        poison.create_queue()
    poison.send_message(json.dumps(envelope).encode())
    log.error(
        "retrain request %s moved to %s at once: %s", message_id, poison.queue_name, reason,
        extra={"message_id": message_id, "status": "poisoned", "reason": reason},
    )  # fmt: skip


def expand(body: dict) -> list[dict]:
    """The requests of a message: each batch item with the message's other fields, or the message itself."""
    if BATCH_KEY not in body:
        return [body]
    items = body[BATCH_KEY]
    if not isinstance(items, list) or not items or len(items) > MAX_BATCH:
        shown = repr(items)[:200]
        raise UnprocessableRequest(f"retrain request's batch is not a list of 1 to {MAX_BATCH} requests: {shown}")
    if not all(isinstance(item, dict) and BATCH_KEY not in item for item in items):
        raise UnprocessableRequest("retrain request's batch holds an item that is not a request object")
    common = {k: v for k, v in body.items() if k != BATCH_KEY}
    return [{**common, **item} for item in items]


def handle_message(
    raw: bytes, *, message_id: str | None = None, dequeue_count: int | None = None, settings: Settings | None = None
) -> list[RetrainOutcome]:
    """The queue trigger's work: the outcome of each request in the message.

    A request that can never succeed is poisoned at once (not retried): the function returns normally,
    so the host deletes the message instead of retrying it up to maxDequeueCount. A single request that
    fails otherwise raises and takes the host's retry and poison path. In a batch each series is isolated:
    one that fails is sent again as a message of its own (with its own retries and poison path) and the
    others go on; a batch delivered again (its invocation died) is split into single requests at once.
    A batch's series run BATCH_THREADS at a time, after one listing of the series that have a corruption
    marker (`marked_series`), so a publish clears a marker only where there is one.
    """
    settings = settings or get_settings()
    try:
        body = parse_message(raw)
        requests = expand(body)
        if BATCH_KEY not in body:
            return [handle_request(body, settings=settings, correlation_id=message_id)]
    except UnprocessableRequest as exc:
        return [_poisoned(raw, exc, settings, message_id, dequeue_count)]
    if dequeue_count is not None and dequeue_count > 1:
        log.warning("retrain batch %s delivered again: split into %d single requests", message_id, len(requests))
        return [requeue(request, settings, "batch delivered again") for request in requests]
    markers = marked_series(settings)
    with ThreadPoolExecutor(BATCH_THREADS, thread_name_prefix="retrain-batch") as pool:
        return list(
            pool.map(lambda request: _isolated(request, settings, message_id, dequeue_count, markers), requests)
        )


def marked_series(settings: Settings) -> set[str] | None:
    """The series that have a corruption marker (one listing), or None if they cannot be listed.

    A marker is written only where a champion fails verification (by serving, or by a retrain), and
    every retrain verifies the champion it replaces (`intact_champion`) before publishing: so a series
    not listed here, whose retrain finds no failure of its own, has no marker for its publish to clear.
    """
    try:
        return set(corrupt_series(container(settings.models_container, settings)))
    except AzureError:
        log.warning("could not list the corruption markers: each publish of the batch clears one", exc_info=True)
        return None


def _isolated(
    request: dict, settings: Settings, message_id: str | None, dequeue_count: int | None, markers: set[str] | None
) -> RetrainOutcome:
    """One request of a batch: an unprocessable one goes to poison, a failing one is sent again on its own."""
    try:
        return handle_request(request, settings=settings, correlation_id=message_id, markers=markers)
    except UnprocessableRequest as exc:
        return _poisoned(json.dumps(request).encode(), exc, settings, message_id, dequeue_count)
    except Exception as exc:
        log.exception("retrain of %s in batch %s failed; sent again on its own", request.get("series"), message_id)
        return requeue(request, settings, f"{type(exc).__name__}: {exc}")


def _poisoned(
    raw: bytes, exc: UnprocessableRequest, settings: Settings, message_id: str | None, dequeue_count: int | None
) -> RetrainOutcome:
    """Send a request that can never succeed to poison at once, with the reason."""
    send_to_poison(raw, str(exc), settings, message_id=message_id, dequeue_count=dequeue_count)
    return RetrainOutcome("poisoned", str(exc), "", "")


def requeue(request: dict, settings: Settings, reason: str) -> RetrainOutcome:
    """Send one request of a batch as a message of its own; it then has its own retries and poison path."""
    queue(settings.retrain_queue, settings).send_message(json.dumps(request).encode())
    return RetrainOutcome("requeued", reason, str(request.get("series", "")), str(request.get("dataset_version", "")))


def handle_request(
    body: dict,
    *,
    settings: Settings | None = None,
    correlation_id: str | None = None,
    markers: set[str] | None = None,
) -> RetrainOutcome:
    """Process one retrain request; idempotent on (series, dataset_version), one at a time per series.

    `markers` names the series known to have a corruption marker (`marked_series`); None means unknown,
    and the publish then clears the series' marker whether or not there is one.
    """
    settings = settings or get_settings()
    series, requested = parse_request(body)
    # The series lock does not guard the curated data (an upload writes them at any time), so they are read
    # first: a request that cannot be trained takes no lock, and a series written before was most likely
    # retrained before, so its lock blob exists.
    curated = read_series(container(settings.curated_container, settings), series)
    skipped = unusable(curated, series, requested)
    if skipped:
        return RetrainOutcome("skipped", skipped, series, requested)
    models = container(settings.models_container, settings)
    correlation_id = body.get("correlation_id") or correlation_id
    try:
        with series_lock(models, series, exists=curated.seq > 1):
            return _retrain(body, curated, settings, models, correlation_id, markers)
    except SeriesBusy:
        sent = defer(body, settings)
        log.info("retrain of %s@%s deferred %ds (series busy, message %s)", series, requested, DEFER_SECONDS, sent.id)
        return RetrainOutcome("deferred", "series busy", series, requested, redelivery=sent)


def _retrain(
    body: dict,
    curated: CuratedSeries,
    settings: Settings,
    models: ContainerClient,
    correlation_id: str | None,
    markers: set[str] | None,
) -> RetrainOutcome:
    series, requested = curated.series, curated.version
    # A bulk re-selection (shared.azureml) names its run: it retrains data the queue already trained, once per run.
    run_key = f"{requested}.{body['run']}" if body.get("run") else requested
    done = claim_run(models, series, run_key)
    if done is not None:
        log.info("retrain of %s@%s skipped: already trained as %s", series, requested, done.get("version"))
        return RetrainOutcome("skipped", "already trained", series, requested, done.get("version"))

    started = datetime.now(UTC)
    # Curated data are days; a single day has no step to infer the frequency from.
    y, filled = training_series(curated.days, "D" if len(curated.days) == 1 else None)
    pointer, pointer_etag, champion_card, corrupt = intact_champion(models, series)
    champion_version = champion_card["version"] if champion_card else None
    log.info(
        "retraining %s on %d points (%s..%s, %d filled), champion %s",
        series, len(y), y.index[0].date(), y.index[-1].date(), filled, champion_version or "none",
    )  # fmt: skip
    selection = select_model(y, champion_spec=champion_card["spec"] if champion_card else None)
    result = decide_outcome(selection.decision, champion_version, corrupt)
    served, _, _ = served_model(selection, result)
    version = new_version_id()
    card = model_card(
        version=version, series=series, request=body, correlation_id=correlation_id, y=y, rows=len(curated.days),
        filled=filled, selection=selection, outcome=result, champion_version=champion_version, started=started,
    )  # fmt: skip
    forecast = forecast_document(
        served, series=series, version=version, freq=card["dataset"]["frequency"],
        trained_through=card["dataset"]["end"], floor=sales_floor(y),
    )  # fmt: skip
    try:
        write_version(models, series, version, model=served, card=card, forecast=forecast)
    except UnpublishableVersion as exc:
        return refuse(models, series, requested, run_key, pointer, exc, card["decision"])
    clear_marker = markers is None or series in markers or bool(corrupt)
    published = publish(
        settings, models, card, reason=result.reason, pointer=pointer, etag=pointer_etag, clear_marker=clear_marker
    )
    finish_run(
        models, series, run_key,
        {"version": version, "outcome": published, "finished_at": datetime.now(UTC).isoformat()},
    )  # fmt: skip
    log.info("retrain of %s@%s done: version %s, %s", series, requested, version, published)
    return RetrainOutcome("trained", published, series, requested, version, card["decision"])


def unusable(curated, series: str, requested: str) -> str | None:
    """Why dataset version `requested` of `series` is not trained (unknown, superseded, too short), or None."""
    if curated is None:
        log.warning("retrain request for unknown series %s ignored", series)
        return "unknown series"
    if curated.version != requested:
        log.info("retrain of %s@%s skipped: superseded by dataset version %s", series, requested, curated.version)
        return f"superseded by {curated.version}"
    if len(curated.days) < MIN_OBSERVATIONS:
        log.info(
            "retrain of %s@%s skipped: %d day(s) of data, %d needed",
            series, requested, len(curated.days), MIN_OBSERVATIONS,
        )  # fmt: skip
        return "insufficient data"
    return None


def publish(
    settings: Settings,
    models: ContainerClient,
    card: dict,
    *,
    reason: str,
    pointer: dict | None,
    etag: str | None,
    clear_marker: bool = True,
) -> str:
    """Point the champion at the new version (if the pointer did not move meanwhile) and record it in the fleet.

    `clear_marker=False`: the series is known to have no corruption marker, so none is deleted.
    Returns the card's outcome, or `not-promoted-stale` when another retrain moved the champion first.
    """
    series, version = card["series"], card["version"]
    try:
        champion_pointer = set_champion(
            models, series, version, reason=reason, current=pointer, etag=etag, clear_marker=clear_marker
        )
        first = etag is None  # there was no pointer blob: the series' first champion, most likely no fleet entry
        record_champion(container(settings.monitoring_container, settings), card, champion_pointer, first=first)
    except ConcurrencyConflict:
        log.warning("champion of %s moved during retrain; version %s stays unpromoted", series, version)
        return "not-promoted-stale"
    return card["decision"]["outcome"]


def refuse(
    models: ContainerClient,
    series: str,
    requested: str,
    run_key: str,
    pointer: dict | None,
    exc: UnpublishableVersion,
    decision: dict,
) -> RetrainOutcome:
    """Record the run `run_key` of dataset version `requested` as refused: nothing written, pointer untouched.

    The run counts as done, so the same data is not retrained; the next dataset version is.
    """
    kept = pointer["version"] if pointer else "none"
    log.error("retrain of %s@%s refused: %s; champion %s kept", series, requested, exc, kept)
    record = {"version": None, "outcome": "refused", "refused": str(exc), "finished_at": datetime.now(UTC).isoformat()}
    finish_run(models, series, run_key, record)
    return RetrainOutcome("refused", str(exc), series, requested, None, decision)


def intact_champion(
    models: ContainerClient, series: str
) -> tuple[dict | None, str | None, dict | None, list[CorruptArtifact]]:
    """The pointer a new champion replaces (and its ETag), the last intact champion's card, and what failed.

    A champion that fails verification is skipped for the decision (its predecessor in the history is
    the champion to beat, or none) and marked corrupt; the new version replaces it with the reason
    recorded, so a damaged artifact never makes the series fail into poison.
    """
    try:
        pointer, etag = read_champion(models, series)
    except CorruptPointer as exc:
        mark_corrupt(models, series, [exc], None)
        return None, exc.etag, None, [exc]
    if pointer is None:
        return None, None, None, []
    version, card, corrupt = first_intact(pointer, lambda v: verify_version(models, series, v))
    if corrupt:
        mark_corrupt(models, series, corrupt, version)
    return pointer, etag, card, corrupt
