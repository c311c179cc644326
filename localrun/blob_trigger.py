"""Blob trigger by polling: each blob version (name + ETag) is processed once, with receipts in storage."""

from __future__ import annotations

import functools
import io
import json
import logging
import re
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import azure.functions as func
from azure.core import MatchConditions
from azure.core.exceptions import ResourceModifiedError, ResourceNotFoundError
from azure.storage.blob import BlobClient

from localrun.activity import Activity
from localrun.config import ConfigurationError
from localrun.functions import FunctionSpec
from localrun.invoke import Invoker
from localrun.storage import DEFAULT_CONNECTION, Storage, encode_message

log = logging.getLogger("localrun.blob")

RECEIPTS_CONTAINER = "azure-webjobs-hosts"
POISON_QUEUE = "webjobs-blobtrigger-poison"
MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class BlobPath:
    """A trigger path such as `sales-incoming/{name}`: the container and a pattern for blob names."""

    container: str
    pattern: re.Pattern[str]
    prefix: str

    @classmethod
    def parse(cls, path: str, where: str) -> BlobPath:
        container, _, blob = path.partition("/")
        if not container or "{" in container or not blob:
            raise ConfigurationError(f"{where}: blob path {path!r} must look like 'container/{{name}}'")
        parts = re.split(r"\{([^{}]+)\}", blob)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+)" for i, part in enumerate(parts))
        try:
            pattern = re.compile(regex + "$")
        except re.error as exc:
            raise ConfigurationError(f"{where}: blob path {path!r} cannot be matched: {exc}") from exc
        return cls(container, pattern, parts[0])

    def match(self, name: str) -> dict[str, str] | None:
        found = self.pattern.match(name)
        return found.groupdict() if found else None


def _etag(value: str) -> str:
    return value.strip('"')


def _download(client: BlobClient, etag: str) -> bytes:
    """The content of exactly this version of the blob (ResourceModifiedError if it changed)."""
    return client.download_blob(etag=f'"{etag}"', match_condition=MatchConditions.IfNotModified).readall()


def _reason(exc: Exception) -> str:
    """One line on why an attempt failed: the exception, the storage error code if any, its first line."""
    code = getattr(exc, "error_code", None)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}{f' {code}' if code else ''}: {text}"[:500]


class _LazyBlobStream(func.blob.InputStream):
    """The host's InputStream, but the content is downloaded on the first read.

    A function can look at `length` first and leave an oversized blob unread.
    """

    def __init__(self, client: BlobClient, etag: str, **kwargs: Any) -> None:
        super().__init__(data=b"", **kwargs)
        self._client, self._etag, self._loaded = client, etag, False
        self.changed = False

    def read(self, size: int = -1) -> bytes:
        if not self._loaded:
            try:
                self._io = io.BytesIO(_download(self._client, self._etag))
            except (ResourceModifiedError, ResourceNotFoundError):
                self.changed = True
                raise
            self._loaded = True
        return self._io.read(size)

    read1 = read


class BlobTrigger:
    """Polls one container for one function and runs new blob versions in a thread pool."""

    def __init__(
        self,
        spec: FunctionSpec,
        path: BlobPath,
        connection: str | None,
        storage: Storage,
        invoker: Invoker,
        activity: Activity,
        host_id: str,
        poll_interval: float,
        concurrency: int,
    ) -> None:
        self.spec, self.path, self.connection = spec, path, connection
        self._storage, self._invoker, self._activity = storage, invoker, activity
        self._poll_interval = poll_interval
        self._receipt_prefix = f"blobreceipts/{host_id}/{spec.name}/{path.container}/"
        self._done: dict[str, str] = {}
        self._in_flight: set[str] = set()  # blob names; one version of a blob at a time
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix=f"blob-{spec.name}")
        self._thread = threading.Thread(target=self._run, name=f"poll-blob-{spec.name}", daemon=True)
        self.key = f"blob:{spec.name}"

    def start(self) -> None:
        self._container = self._storage.container(self.connection, self.path.container)
        self._receipts = self._storage.container(DEFAULT_CONNECTION, RECEIPTS_CONTAINER)  # the host storage
        self._activity.register_poller(self.key)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            try:
                clean = self.poll()
            except Exception:
                log.exception("polling container '%s' for function '%s' failed", self.path.container, self.spec.name)
                clean = False
            self._activity.cycle(self.key, started, clean)
            self._stop.wait(self._poll_interval)

    def poll(self) -> bool:
        """Dispatch unprocessed blob versions; True if there were none."""
        candidates = []
        for blob in self._container.list_blobs(name_starts_with=self.path.prefix or None):
            groups = self.path.match(blob.name)
            etag = _etag(blob.etag)
            if groups is None or self._done.get(blob.name) == etag:
                continue
            with self._lock:
                if blob.name in self._in_flight:
                    continue
            candidates.append((blob.name, etag, groups))
        if not candidates:
            return True
        receipts = self._read_receipts()
        dispatched = False
        for name, etag, groups in candidates:
            if receipts.get(name) == etag:
                self._done[name] = etag
                continue
            with self._lock:
                self._in_flight.add(name)
            self._activity.begin()
            future = self._pool.submit(self._process, name, etag, groups)
            future.add_done_callback(functools.partial(self._release_if_cancelled, name))
            dispatched = True
        return not dispatched

    def _read_receipts(self) -> dict[str, str]:
        receipts = {}
        for item in self._receipts.list_blobs(name_starts_with=self._receipt_prefix, include=["metadata"]):
            receipts[item.name[len(self._receipt_prefix) :]] = (item.metadata or {}).get("etag", "")
        return receipts

    def _process(self, name: str, etag: str, groups: Mapping[str, str]) -> None:
        try:
            self._process_version(name, etag, groups)
        except Exception:
            log.exception("blob '%s/%s' (%s) for function '%s' failed", self.path.container, name, etag, self.spec.name)
        finally:
            self._release(name)

    def _release(self, name: str) -> None:
        with self._lock:
            self._in_flight.discard(name)
        self._activity.end()

    def _release_if_cancelled(self, name: str, future: Future) -> None:
        if future.cancelled():  # dropped from the pool at stop: no receipt, so the next start picks it up
            self._release(name)

    def _process_version(self, name: str, etag: str, groups: Mapping[str, str]) -> None:
        """Up to MAX_ATTEMPTS tries (reading the blob is part of each, as in the host); then poison."""
        client = self._container.get_blob_client(name)
        full_name = f"{self.path.container}/{name}"
        binding_data: dict[str, Any] = {**groups, "blobTrigger": full_name, "uri": client.url}
        reason = f"New blob detected({full_name})"
        failure = ""
        for attempt in range(MAX_ATTEMPTS):
            value = None
            try:
                props = client.get_blob_properties(etag=f'"{etag}"', match_condition=MatchConditions.IfNotModified)
                value = self._trigger_value(client, etag, full_name, props)
                self._invoker.invoke(self.spec, value, binding_data, reason, retry_count=attempt)
            except (ResourceModifiedError, ResourceNotFoundError):
                self._changed(name)
                return
            except Exception as exc:  # a failed invocation is logged by the invoker; retried below
                if isinstance(value, _LazyBlobStream) and value.changed:
                    self._changed(name)
                    return
                failure = _reason(exc)
                if value is None:
                    log.warning("blob '%s' could not be read (attempt %d): %s", full_name, attempt + 1, failure)
                continue
            self._write_receipt(name, etag, "succeeded", attempt + 1)
            return
        self._poison(name, etag, failure)
        self._write_receipt(name, etag, "failed", MAX_ATTEMPTS, failure)

    def _changed(self, name: str) -> None:
        log.info("blob '%s/%s' changed or vanished before processing; the next poll sees it", self.path.container, name)

    def _trigger_value(self, client: BlobClient, etag: str, full_name: str, props: Any) -> Any:
        if self.spec.trigger_annotation in (bytes, str):
            data = _download(client, etag)
            return data if self.spec.trigger_annotation is bytes else data.decode("utf-8")
        properties = {
            "ContentType": props.content_settings.content_type,
            "ETag": props.etag,
            "LastModified": props.last_modified.isoformat() if props.last_modified else None,
            "Length": props.size,
        }
        return _LazyBlobStream(
            client, etag, name=full_name, length=props.size, uri=client.url, blob_properties=properties,
            metadata=dict(props.metadata or {}),
        )  # fmt: skip

    def _write_receipt(self, name: str, etag: str, status: str, attempts: int, reason: str = "") -> None:
        metadata = {"etag": etag, "status": status, "attempts": str(attempts)}
        if reason:
            metadata["reason"] = quote(reason, safe=" :,'()")  # metadata must be ASCII
        self._receipts.upload_blob(self._receipt_prefix + name, b"", overwrite=True, metadata=metadata)
        self._done[name] = etag

    def _poison(self, name: str, etag: str, reason: str) -> None:
        message = {
            "Type": "BlobTrigger",
            "FunctionId": f"Host.Functions.{self.spec.name}",
            "BlobType": "BlockBlob",
            "ContainerName": self.path.container,
            "BlobName": name,
            "ETag": etag,
            "Reason": reason,  # not in the host's message: why the last attempt failed
        }
        self._storage.queue(DEFAULT_CONNECTION, POISON_QUEUE).send_message(encode_message(json.dumps(message)))
        self._activity.count(self.spec.name, "poisoned")
        log.error(
            "blob '%s/%s' failed %d times in function '%s': moved to queue '%s' (%s)",
            self.path.container, name, MAX_ATTEMPTS, self.spec.name, POISON_QUEUE, reason,
            extra={"function": self.spec.name, "blob": name, "etag": etag, "status": "poisoned", "reason": reason},
        )  # fmt: skip
