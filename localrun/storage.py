"""Storage clients for the triggers: connection settings to clients, queues and containers created once."""

from __future__ import annotations

import base64
import binascii
import contextlib
import threading
from collections.abc import Mapping

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContainerClient
from azure.storage.queue import QueueClient, QueueServiceClient

from localrun.config import ConfigurationError, MissingSettingError, resolve_settings

DEFAULT_CONNECTION = "AzureWebJobsStorage"
IDENTITY_SUFFIXES = ("__accountName", "__blobServiceUri", "__queueServiceUri", "__serviceUri")


def encode_message(body: bytes | str) -> str:
    """Queue message text as the Functions queue bindings write it (base64)."""
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    return base64.b64encode(data).decode("ascii")


def decode_message(text: str) -> bytes:
    """The body of a base64 queue message; ValueError if the text is not base64."""
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"queue message is not base64 text: {exc}") from exc


class Storage:
    """Clients per connection setting, shared by every trigger and output of one runner."""

    def __init__(self, env: Mapping[str, str]):
        self._env = env
        self._lock = threading.Lock()
        self._blob_services: dict[str, BlobServiceClient] = {}
        self._queue_services: dict[str, QueueServiceClient] = {}
        self._queues: dict[tuple[str, str], QueueClient] = {}
        self._containers: dict[tuple[str, str], ContainerClient] = {}

    def connection_string(self, setting: str | None) -> str:
        """The connection string held by a binding's `connection` setting (AzureWebJobsStorage by default)."""
        name = resolve_settings(setting or DEFAULT_CONNECTION, self._env, f"connection {setting!r}")
        for candidate in (name, f"AzureWebJobs{name}"):
            if self._env.get(candidate):
                return self._env[candidate]
        if any(self._env.get(name + suffix) for suffix in IDENTITY_SUFFIXES):
            raise ConfigurationError(
                f"connection '{name}' is identity-based; the local runner needs a connection string in '{name}'"
            )
        raise MissingSettingError(f"connection '{name}' needs app setting '{name}' with a storage connection string")

    def blob_service(self, setting: str | None) -> BlobServiceClient:
        conn = self.connection_string(setting)
        with self._lock:
            if conn not in self._blob_services:
                self._blob_services[conn] = BlobServiceClient.from_connection_string(conn)
            return self._blob_services[conn]

    def container(self, setting: str | None, name: str) -> ContainerClient:
        """A container client; the container is created on first use if missing."""
        key = (self.connection_string(setting), name)
        with self._lock:
            client = self._containers.get(key)
        if client is None:
            client = self.blob_service(setting).get_container_client(name)
            with contextlib.suppress(ResourceExistsError):
                client.create_container()
            with self._lock:
                self._containers[key] = client
        return client

    def queue(self, setting: str | None, name: str) -> QueueClient:
        """A queue client that sends and receives raw text; the queue is created on first use if missing."""
        conn = self.connection_string(setting)
        key = (conn, name)
        with self._lock:
            client = self._queues.get(key)
            if client is None and conn not in self._queue_services:
                self._queue_services[conn] = QueueServiceClient.from_connection_string(conn)
        if client is None:
            client = self._queue_services[conn].get_queue_client(name)
            with contextlib.suppress(ResourceExistsError):
                client.create_queue()
            with self._lock:
                self._queues[key] = client
        return client
