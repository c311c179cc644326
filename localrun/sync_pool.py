"""Threads that run sync functions for the event loop, as the worker does, with a cheap hand-back."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from queue import SimpleQueue
from typing import Any

_Done = tuple[asyncio.Future, Any, BaseException | None]


def _settle(future: asyncio.Future, result: Any, error: BaseException | None) -> None:
    if future.cancelled():
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


class SyncPool:
    """Threads running sync functions for one event loop; finished calls go back in batches, one wake-up each."""

    def __init__(self, workers: int) -> None:
        self._queue: SimpleQueue = SimpleQueue()
        self._threads = [
            threading.Thread(target=self._work, name=f"localrun-sync-{i}", daemon=True) for i in range(workers)
        ]
        self._lock = threading.Lock()
        self._done: list[_Done] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for thread in self._threads:
            thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Let idle threads end; wait at most `timeout` in all for busy ones (daemons: they never block exit)."""
        for _ in self._threads:
            self._queue.put(None)
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            if thread.is_alive():
                thread.join(max(0.0, deadline - time.monotonic()))

    def run(self, fn: Callable[..., Any], *args: Any) -> asyncio.Future:
        """Schedule fn(*args) on a pool thread; call on the loop, await the returned future there."""
        assert self._loop is not None, "start the pool first"
        future = self._loop.create_future()
        self._queue.put((future, fn, args))
        return future

    def _work(self) -> None:
        while (item := self._queue.get()) is not None:
            future, fn, args = item
            try:
                done: _Done = (future, fn(*args), None)
            except BaseException as exc:  # handed to the awaiting request, which logs it
                done = (future, None, exc)
            with self._lock:
                self._done.append(done)
                wake = len(self._done) == 1
            if wake and self._loop is not None:
                with contextlib.suppress(RuntimeError):  # the loop closed while the function ran
                    self._loop.call_soon_threadsafe(self._settle_done)

    def _settle_done(self) -> None:
        with self._lock:
            done, self._done = self._done, []
        for future, result, error in done:
            _settle(future, result, error)
