"""Retrain request messages: one series per message, or a batch of series sharing the other fields."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

BATCH_KEY = "batch"
# Series per message an upload sends: small enough that worker processes start while the upload is still
# being written and that one slow message never holds many series back; large enough that a
# 10,000-series upload sends 500 messages, not 10,000.
BATCH_SIZE = 20
SPREAD = 32  # an upload of fewer than BATCH_SIZE * SPREAD series still sends up to this many messages
MAX_BATCH = 200  # a message is at most 64 KB: 200 items of a 64-character id and a version fit with room to spare


def batch_size(series: int) -> int:
    """Series per message for an upload of `series`: one each below 2 * SPREAD series, so a small upload
    spreads over every worker; above, about `series / SPREAD`, at most BATCH_SIZE."""
    return max(1, min(BATCH_SIZE, series // SPREAD))


def message(items: list[dict], common: dict) -> dict:
    """The body of one message: `{series, dataset_version, ...common}` or `{batch: [...], ...common}`."""
    if len(items) == 1:
        return {**items[0], **common}
    return {BATCH_KEY: items, **common}


class Batcher:
    """Collects requests as their series are written and sends every full batch at once; `flush` sends the rest.

    Thread-safe: the writers of one upload add from several threads, each sending what it completed.
    """

    def __init__(self, send: Callable[[bytes], Any], common: dict, size: int = BATCH_SIZE) -> None:
        self._send, self._common, self._size = send, common, size
        self._pending: list[dict] = []
        self._lock = threading.Lock()
        self.sent = 0

    def add(self, items: list[dict]) -> None:
        with self._lock:
            self._pending.extend(items)
            ready = []
            while len(self._pending) >= self._size:
                ready.append(self._pending[: self._size])
                del self._pending[: self._size]
        for batch in ready:
            self._emit(batch)

    def flush(self) -> None:
        with self._lock:
            rest, self._pending = self._pending, []
        if rest:
            self._emit(rest)

    def _emit(self, batch: list[dict]) -> None:
        self._send(json.dumps(message(batch, self._common)).encode())
        with self._lock:
            self.sent += 1
