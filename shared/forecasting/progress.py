"""A dependency-free progress bar for stderr: done/total, rate and time left, redrawn at most 10 times a second."""

from __future__ import annotations

import sys
import time
from typing import TextIO

REDRAW_SECONDS = 0.1
WIDTH = 30


class Progress:
    """Counts finished items and redraws one stderr line; disabled, it only counts."""

    def __init__(self, total: int, label: str = "forecast", enabled: bool = True, stream: TextIO | None = None):
        self.total = total
        self.label = label
        self.enabled = enabled
        self.stream = stream or sys.stderr
        self.done = 0
        self.start = time.perf_counter()
        self._drawn = 0.0

    def update(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if self.enabled and (now - self._drawn >= REDRAW_SECONDS or self.done >= self.total):
            self._draw(now)

    def _draw(self, now: float) -> None:
        elapsed = now - self.start
        rate = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        filled = int(WIDTH * self.done / self.total) if self.total else WIDTH
        bar = "#" * filled + "-" * (WIDTH - filled)
        self.stream.write(
            f"\r{self.label} [{bar}] {self.done}/{self.total} {rate:.1f}/s elapsed {elapsed:.0f}s left {left:.0f}s"
        )
        self.stream.flush()
        self._drawn = now

    def close(self) -> None:
        if self.enabled:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()
