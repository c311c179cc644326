"""Per-function counters, work in flight and trigger poll cycles: what wait_idle and the tests observe."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Counters:
    """Invocations of one function: processed (succeeded), failed (each failed attempt), poisoned."""

    processed: int = 0
    failed: int = 0
    poisoned: int = 0


class Activity:
    """Thread-safe book of counters, in-flight work and the last clean poll of each trigger poller."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._counts: dict[tuple[str, str], int] = {}
        self._in_flight = 0
        self._last_change = time.monotonic()
        # poller -> start time of its latest poll cycle if that cycle found nothing to do, else None
        self._clean_since: dict[str, float | None] = {}

    def register_poller(self, key: str) -> None:
        with self._cond:
            self._clean_since[key] = None

    def count(self, function: str, field: str) -> None:
        key = (function, field)
        with self._cond:
            self._counts[key] = self._counts.get(key, 0) + 1

    def counters(self) -> dict[str, Counters]:
        with self._cond:
            counts = dict(self._counts)
        values: dict[str, dict[str, int]] = {}
        for (function, field), count in counts.items():
            values.setdefault(function, {})[field] = count
        return {function: Counters(**fields) for function, fields in values.items()}

    def begin(self) -> None:
        """A unit of work (a blob, a message, a timer run) was accepted."""
        with self._cond:
            self._in_flight += 1
            self._last_change = time.monotonic()
            self._cond.notify_all()

    def end(self) -> None:
        with self._cond:
            self._in_flight -= 1
            self._last_change = time.monotonic()
            self._cond.notify_all()

    def cycle(self, key: str, started: float, clean: bool) -> None:
        """A poller finished a cycle that began at `started`; clean means it found nothing left to do."""
        with self._cond:
            self._clean_since[key] = started if clean else None
            self._cond.notify_all()

    def _idle(self, since: float) -> bool:
        after = max(since, self._last_change)
        return self._in_flight == 0 and all(start is not None and start > after for start in self._clean_since.values())

    def wait_idle(self, timeout: float) -> bool:
        """True once nothing is in flight and every poller has since completed a clean cycle."""
        since = time.monotonic()
        deadline = since + timeout
        with self._cond:
            while not self._idle(since):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
            return True
