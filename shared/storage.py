"""Storage adapters: cached Blob/Queue clients, resource creation and ETag-guarded JSON blobs."""

from __future__ import annotations

import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings, LinearRetry
from azure.storage.queue import (
    BinaryBase64DecodePolicy,
    BinaryBase64EncodePolicy,
    QueueClient,
    QueueServiceClient,
)

from shared.errors import ConcurrencyConflict, StorageUnavailable
from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

T = TypeVar("T")

JSON_CONTENT = ContentSettings(content_type="application/json")

# Request-path clients (forecast serving, health): short timeouts and one quick retry, so an outage
# is answered within seconds. The SDK defaults (20 s connect, 60 s read, 3 retries about 15, 18
# and 24 s apart) stay for background work, where waiting out a blip is better than failing.
BOUNDED_CONNECT_SECONDS = 0.4
BOUNDED_READ_SECONDS = 0.6
BOUNDED_RETRIES = 1
BOUNDED_BACKOFF_SECONDS = 0.1


@lru_cache(maxsize=1)
def _credential():
    """One managed-identity credential per process, so its tokens are cached and reused."""
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


def _client(cls, settings: Settings, service: str, **options):
    """A `cls` (BlobServiceClient or QueueServiceClient) for the configured account."""
    if settings.storage_connection_string:
        return cls.from_connection_string(settings.storage_connection_string, **options)
    if settings.storage_account_name:
        url = f"https://{settings.storage_account_name}.{service}.core.windows.net"
        return cls(url, credential=_credential(), **options)
    raise RuntimeError(
        "no storage configured: set AzureWebJobsStorage (connection string) "
        "or AzureWebJobsStorage__accountName (managed identity)"
    )


@lru_cache(maxsize=8)
def blob_service(settings: Settings | None = None) -> BlobServiceClient:
    """A BlobServiceClient for the configured account (cached per settings)."""
    return _client(BlobServiceClient, settings or get_settings(), "blob")


@lru_cache(maxsize=8)
def _queue_service(settings: Settings) -> QueueServiceClient:
    return _client(QueueServiceClient, settings, "queue")


def _bounded_options() -> dict[str, Any]:
    return {
        "connection_timeout": BOUNDED_CONNECT_SECONDS,
        "read_timeout": BOUNDED_READ_SECONDS,
        "retry_policy": LinearRetry(
            backoff=BOUNDED_BACKOFF_SECONDS, retry_total=BOUNDED_RETRIES, random_jitter_range=0
        ),
    }


@lru_cache(maxsize=8)
def _bounded_blob_service(settings: Settings) -> BlobServiceClient:
    return _client(BlobServiceClient, settings, "blob", **_bounded_options())


@lru_cache(maxsize=8)
def _bounded_queue_service(settings: Settings) -> QueueServiceClient:
    return _client(QueueServiceClient, settings, "queue", **_bounded_options())


def bounded_container(name: str, settings: Settings | None = None) -> ContainerClient:
    """A container client for the request path: a call gives up within 1.3 s (two 0.6 s tries, 0.1 s apart)."""
    return _bounded_blob_service(settings or get_settings()).get_container_client(name)


class Deadline:
    """A time budget shared by several storage calls: each call's timeouts and retry fit in what is left.

    `options()` gives the per-call keyword arguments (the SDK passes them to the transport and the
    retry policy); once the budget is spent it raises StorageUnavailable instead of calling.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._end = time.monotonic() + seconds

    def left(self) -> float:
        return self._end - time.monotonic()

    def options(self) -> dict[str, Any]:
        left = self.left()
        if left <= 0.05:
            raise StorageUnavailable(f"storage did not answer within {self.seconds:g} s")
        timeout = min(BOUNDED_READ_SECONDS, left)
        return {
            "connection_timeout": min(BOUNDED_CONNECT_SECONDS, timeout),
            "read_timeout": timeout,
            "retry_total": BOUNDED_RETRIES if left >= 2 * timeout + BOUNDED_BACKOFF_SECONDS else 0,
        }


def probe(settings: Settings | None = None, timeout: float = 3.0) -> None:
    """Raise unless the blob service answers within `timeout` seconds (no retries: for health checks)."""
    options = {"retry_total": 0, "connection_timeout": timeout, "read_timeout": timeout}
    with _client(BlobServiceClient, settings or get_settings(), "blob", **options) as client:
        next(iter(client.list_containers(results_per_page=1)), None)


@lru_cache(maxsize=8)
def probe_service(settings: Settings, kind: str = "blob", timeout: float = 2.0):
    """A Blob (or Queue) service client without retries and with short timeouts, for health checks (cached)."""
    cls = BlobServiceClient if kind == "blob" else QueueServiceClient
    return _client(cls, settings, kind, retry_total=0, connection_timeout=timeout, read_timeout=timeout)


def container(name: str, settings: Settings | None = None) -> ContainerClient:
    """The client of one container of the configured account."""
    return blob_service(settings or get_settings()).get_container_client(name)


def queue(name: str, settings: Settings | None = None) -> QueueClient:
    """A queue client whose messages are base64, as the Functions queue trigger expects."""
    service = _queue_service(settings or get_settings())
    return service.get_queue_client(
        name,
        message_encode_policy=BinaryBase64EncodePolicy(),
        message_decode_policy=BinaryBase64DecodePolicy(),
    )


def poison_queue_name(name: str) -> str:
    """Where the Functions host (and the local runner) moves a queue's messages that keep failing."""
    return f"{name}-poison"


BLOB_TRIGGER_POISON_QUEUE = "webjobs-blobtrigger-poison"  # the host's, for blobs that failed 5 times


def ensure_resources(settings: Settings | None = None) -> None:
    """Create every container and queue of README "Flow and storage" that does not exist yet."""
    settings = settings or get_settings()
    for name in settings.containers:
        with contextlib.suppress(ResourceExistsError):
            container(name, settings).create_container()
    for name in (name for queue_name in settings.queues for name in (queue_name, poison_queue_name(queue_name))):
        with contextlib.suppress(ResourceExistsError):
            queue(name, settings).create_queue()


def poison_depths(settings: Settings | None = None, queues: tuple[str, ...] | None = None) -> dict[str, int]:
    """Approximate message count of each poison queue (0 where the queue does not exist yet).

    By default the poison queue of every queue the app reads and the blob trigger's; one bounded request per queue,
    so a health check can call it. Storage errors propagate (the caller reports storage as down).
    """
    settings = settings or get_settings()
    names = queues or (*map(poison_queue_name, settings.queues), BLOB_TRIGGER_POISON_QUEUE)
    service = _bounded_queue_service(settings)
    depths = {}
    for name in names:
        try:
            depths[name] = service.get_queue_client(name).get_queue_properties().approximate_message_count
        except ResourceNotFoundError:
            depths[name] = 0
    return depths


def read_json(client: ContainerClient, name: str, **options: Any) -> tuple[Any, str | None]:
    """Return (document, etag) of a JSON blob, or (None, None) when it does not exist.

    `options` go to the download call (e.g. a Deadline's timeouts).
    """
    try:
        downloader = client.download_blob(name, **options)
    except ResourceNotFoundError:
        return None, None
    return json.loads(downloader.readall()), downloader.properties.etag


def write_json(
    client: ContainerClient,
    name: str,
    document: Any,
    *,
    etag: str | None = None,
    create_only: bool = False,
    **options: Any,
) -> str:
    """Write a JSON blob; `etag` makes it conditional (412 if changed), `create_only` forbids overwrite.

    `options` go to the upload call (e.g. a Deadline's timeouts). Returns the new ETag.
    """
    data = json.dumps(document, indent=2, sort_keys=True, default=str).encode()
    kwargs: dict[str, Any] = {"content_settings": JSON_CONTENT, **options}
    if create_only:
        kwargs["overwrite"] = False
    else:
        kwargs["overwrite"] = True
        if etag is not None:
            kwargs["etag"] = etag
            kwargs["match_condition"] = MatchConditions.IfNotModified
    result = client.get_blob_client(name).upload_blob(data, **kwargs)
    return result["etag"]


# The one retry policy of every ETag-guarded read-change-write: a lost race (412 on a conditional write,
# 409 on a create-only write, 404 on a blob deleted between read and write) re-reads and tries again
# after a jittered, capped exponential pause, so writers that collided spread out instead of colliding
# again. 50 rounds outlast eight uploads writing one series at once (bench/README "concurrent ingest").
ETAG_ATTEMPTS = 50
ETAG_BACKOFF_BASE_SECONDS = 0.02
ETAG_BACKOFF_CAP_SECONDS = 0.5


def lost_race(exc: Exception) -> bool:
    """Whether a storage error means another writer got there first (not a missing container, say)."""
    if isinstance(exc, ResourceExistsError | ResourceModifiedError):
        return True
    return isinstance(exc, ResourceNotFoundError) and getattr(exc, "error_code", None) == "BlobNotFound"


def etag_backoff(attempt: int) -> float:
    """Seconds to wait after lost race number `attempt` (0-based): uniform in [0, min(cap, base * 2**attempt)]."""
    return random.uniform(0, min(ETAG_BACKOFF_CAP_SECONDS, ETAG_BACKOFF_BASE_SECONDS * 2**attempt))


def read_change_write(attempt: Callable[[], T], what: str, *, attempts: int = ETAG_ATTEMPTS) -> T:
    """Run `attempt` (one read, change and ETag-conditional write) until it does not lose a race.

    `attempt` raises a `lost_race` error when its conditional write finds the blob changed (or created,
    or deleted) since its read; it is then run again after `etag_backoff`. Any other exception propagates
    at once. After `attempts` lost races ConcurrencyConflict names `what`.
    """
    for number in range(attempts):
        try:
            return attempt()
        except (ResourceExistsError, ResourceModifiedError, ResourceNotFoundError) as exc:
            if not lost_race(exc):
                raise
            log.info("lost a write race on %s (attempt %d of %d); retrying", what, number + 1, attempts)
            time.sleep(etag_backoff(number))
    raise ConcurrencyConflict(f"could not update {what} after {attempts} attempts: it kept changing")


def update_json(
    client: ContainerClient, name: str, change: Callable[[Any], Any], *, attempts: int = ETAG_ATTEMPTS
) -> Any:
    """Read a JSON blob, apply `change` (None when absent) and write it back against the ETag read.

    `change` returns the new document, or None to leave the blob as it is (then the read one is
    returned). Retries lost races with `read_change_write`; returns the document as stored.
    """

    def once() -> Any:
        document, etag = read_json(client, name)
        changed = change(document)
        if changed is None:
            return document
        write_json(client, name, changed, etag=etag, create_only=etag is None)
        return changed

    return read_change_write(once, f"blob {name}", attempts=attempts)
