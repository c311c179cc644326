"""Queue trigger by polling: batches, retry after visibilityTimeout, poison queue after maxDequeueCount."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import azure.functions as func
from azure.core.exceptions import ResourceNotFoundError
from azure.storage.queue import QueueMessage

from localrun.activity import Activity
from localrun.config import QueueOptions
from localrun.functions import FunctionSpec
from localrun.invoke import Invoker
from localrun.storage import Storage, decode_message

log = logging.getLogger("localrun.queue")

# The host receives messages invisible for 10 minutes; a failure makes them visible after visibilityTimeout.
RECEIVE_VISIBILITY_SECONDS = 600


def binding_data(message: QueueMessage, body: bytes) -> dict[str, Any]:
    """The values output bindings can refer to: queueTrigger, id, dequeueCount, ... and JSON body keys."""
    text = body.decode("utf-8", errors="replace")
    data: dict[str, Any] = {}
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        data.update({k: v for k, v in document.items() if isinstance(v, str | int | float)})
    data.update(
        queueTrigger=text, id=message.id, dequeueCount=message.dequeue_count, popReceipt=message.pop_receipt,
        insertionTime=message.inserted_on, expirationTime=message.expires_on, nextVisibleTime=message.next_visible_on,
    )  # fmt: skip
    return data


class QueueTrigger:
    """Polls one queue for one function; runs up to batchSize + newBatchThreshold messages at once."""

    def __init__(
        self,
        spec: FunctionSpec,
        queue_name: str,
        connection: str | None,
        storage: Storage,
        invoker: Invoker,
        activity: Activity,
        options: QueueOptions,
        poll_interval: float,
    ) -> None:
        self.spec, self.queue_name, self.connection = spec, queue_name, connection
        self._storage, self._invoker, self._activity = storage, invoker, activity
        self._options = options
        self._poll_interval = poll_interval
        self._in_flight = 0
        self._slot = threading.Condition()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix=f"queue-{spec.name}")
        self._thread = threading.Thread(target=self._run, name=f"poll-queue-{spec.name}", daemon=True)
        self.key = f"queue:{spec.name}"

    @property
    def poison_queue_name(self) -> str:
        return f"{self.queue_name}-poison"

    def start(self) -> None:
        self._queue = self._storage.queue(self.connection, self.queue_name)
        self._activity.register_poller(self.key)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._slot:
            self._slot.notify_all()
        if self._thread.is_alive():
            self._thread.join()
        self._pool.shutdown(wait=True)  # every received message already has a worker: let them finish

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._slot:
                while self._in_flight > self._options.new_batch_threshold and not self._stop.is_set():
                    self._slot.wait(self._poll_interval)
            started = time.monotonic()
            try:
                clean, full = self.poll()
            except Exception:
                log.exception("polling queue '%s' for function '%s' failed", self.queue_name, self.spec.name)
                clean, full = False, False
            self._activity.cycle(self.key, started, clean)
            if not full:
                self._stop.wait(self._poll_interval)

    def poll(self) -> tuple[bool, bool]:
        """Receive one batch and dispatch it: (queue was empty, batch was full)."""
        batch = self._options.batch_size
        pages = self._queue.receive_messages(
            messages_per_page=batch, visibility_timeout=RECEIVE_VISIBILITY_SECONDS
        ).by_page()
        messages = list(next(pages, []))
        if not messages:
            return self._queue.get_queue_properties().approximate_message_count == 0, False
        for message in messages:
            with self._slot:
                self._in_flight += 1
            self._activity.begin()
            self._pool.submit(self._process, message)
        return False, len(messages) >= batch

    def _process(self, message: QueueMessage) -> None:
        try:
            self._process_message(message)
        except Exception:
            log.exception("message %s of queue '%s' failed in the runner", message.id, self.queue_name)
        finally:
            with self._slot:
                self._in_flight -= 1
                self._slot.notify_all()
            self._activity.end()

    def _process_message(self, message: QueueMessage) -> None:
        if message.dequeue_count > self._options.max_dequeue_count:
            self._poison(message)
            return
        try:
            body = decode_message(message.content)
        except ValueError as exc:
            log.error("message %s of queue '%s': %s", message.id, self.queue_name, exc)
            self._poison(message)
            return
        trigger_value = func.queue.QueueMessage(
            id=message.id, body=body, pop_receipt=message.pop_receipt, dequeue_count=message.dequeue_count,
            insertion_time=message.inserted_on, expiration_time=message.expires_on,
            time_next_visible=message.next_visible_on,
        )  # fmt: skip
        reason = f"New queue message detected on '{self.queue_name}'."
        try:
            self._invoker.invoke(
                self.spec, trigger_value, binding_data(message, body), reason, message.dequeue_count - 1
            )
        except Exception:  # logged by the invoker
            if message.dequeue_count >= self._options.max_dequeue_count:
                self._poison(message)
            else:
                delay = math.ceil(self._options.visibility_timeout)
                self._queue.update_message(message.id, pop_receipt=message.pop_receipt, visibility_timeout=delay)
            return
        self._delete(message)

    def _delete(self, message: QueueMessage) -> None:
        try:
            self._queue.delete_message(message.id, message.pop_receipt)
        except ResourceNotFoundError:
            log.warning("message %s of queue '%s' was already gone when deleted", message.id, self.queue_name)

    def _poison(self, message: QueueMessage) -> None:
        self._storage.queue(self.connection, self.poison_queue_name).send_message(message.content)
        self._delete(message)
        self._activity.count(self.spec.name, "poisoned")
        log.error(
            "Message has reached MaxDequeueCount of %d. Moving message to queue '%s'.",
            self._options.max_dequeue_count, self.poison_queue_name,
            extra={"function": self.spec.name, "message_id": message.id, "status": "poisoned"},
        )  # fmt: skip
