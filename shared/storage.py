"""Storage adapters: cached Blob/Queue clients, resource creation and ETag-guarded JSON blobs."""

from __future__ import annotations

import contextlib
import json
import logging
from functools import lru_cache
from typing import Any

from azure.core import MatchConditions
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.storage.blob import BlobServiceClient, ContainerClient, ContentSettings
from azure.storage.queue import (
    BinaryBase64DecodePolicy,
    BinaryBase64EncodePolicy,
    QueueClient,
    QueueServiceClient,
)

from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)

JSON_CONTENT = ContentSettings(content_type="application/json")


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


def ensure_resources(settings: Settings | None = None) -> None:
    """Create every container and queue of README "Flow and storage" that does not exist yet."""
    settings = settings or get_settings()
    for name in settings.containers:
        with contextlib.suppress(ResourceExistsError):
            container(name, settings).create_container()
    for name in (settings.retrain_queue, f"{settings.retrain_queue}-poison"):
        with contextlib.suppress(ResourceExistsError):
            queue(name, settings).create_queue()


def read_json(client: ContainerClient, name: str) -> tuple[Any, str | None]:
    """Return (document, etag) of a JSON blob, or (None, None) when it does not exist."""
    try:
        downloader = client.download_blob(name)
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
) -> str:
    """Write a JSON blob; `etag` makes it conditional (412 if changed), `create_only` forbids overwrite.

    Returns the new ETag.
    """
    data = json.dumps(document, indent=2, sort_keys=True, default=str).encode()
    kwargs: dict[str, Any] = {"content_settings": JSON_CONTENT}
    if create_only:
        kwargs["overwrite"] = False
    else:
        kwargs["overwrite"] = True
        if etag is not None:
            kwargs["etag"] = etag
            kwargs["match_condition"] = MatchConditions.IfNotModified
    result = client.get_blob_client(name).upload_blob(data, **kwargs)
    return result["etag"]
