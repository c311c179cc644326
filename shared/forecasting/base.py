"""The fitted-model contract shared by every candidate: `predict(h, levels)` returns a dated frame."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.stats import norm

from .frequency import future_index

Bounds = dict[float, tuple[np.ndarray, np.ndarray]]


def level_columns(level: float) -> tuple[str, str]:
    """Column names of the lower and upper bound of a `level`% interval, e.g. lower_95."""
    return f"lower_{level:g}", f"upper_{level:g}"


def check_levels(levels: Sequence[float]) -> list[float]:
    """Interval levels as floats strictly between 0 and 100."""
    out = [float(level) for level in levels]
    for level in out:
        if not 0 < level < 100:
            raise ValueError(f"interval level must be between 0 and 100 (exclusive), got {level}")
    return out


@lru_cache(maxsize=64)
def normal_quantile(level: float) -> float:
    """Two-sided Gaussian quantile of a `level`% interval (cached: scipy's `ppf` costs far more than its use)."""
    return float(norm.ppf(0.5 + level / 200))


def normal_bounds(mean: np.ndarray, sd: np.ndarray, levels: Sequence[float]) -> Bounds:
    """Gaussian interval bounds around `mean` with standard deviation `sd` for each level."""
    out = {}
    for level in levels:
        z = normal_quantile(level)
        out[level] = (mean - z * sd, mean + z * sd)
    return out


def scale_bounds(mean: np.ndarray, bounds: Bounds, factors: dict[float, float]) -> Bounds:
    """Widen or narrow each interval around the mean by its level's factor, keeping intervals nested."""
    out: Bounds = {}
    inner: tuple[np.ndarray, np.ndarray] | None = None
    for level in sorted(bounds):
        lo, hi = bounds[level]
        k = factors.get(level, 1.0)
        lo, hi = mean - k * (mean - lo), mean + k * (hi - mean)
        if inner is not None:
            lo, hi = np.minimum(lo, inner[0]), np.maximum(hi, inner[1])
        out[level] = inner = (lo, hi)
    return {level: out[level] for level in bounds}


def interval_factors(interval: dict, levels: Sequence[float]) -> dict[float, float]:
    """Factor per level of an interval calibration: interpolated for "scaled", 1 otherwise."""
    if interval.get("method") != "scaled":
        return dict.fromkeys(levels, 1.0)
    return {level: float(np.interp(level, interval["levels"], interval["factors"])) for level in levels}


class Forecaster(ABC):
    """A fitted model: its spec, fitted parameters and the few numbers prediction needs.

    Subclasses implement `_forecast(h, levels)`; this class dates the result, applies the interval
    calibration recorded in `spec["interval"]` and shapes the frame.
    """

    def __init__(self, spec: dict, params: dict, last_date: pd.Timestamp, freq: str) -> None:
        self.spec = dict(spec)
        self.params = params
        self.last_date = pd.Timestamp(last_date)
        self.freq = freq

    @abstractmethod
    def _forecast(self, h: int, levels: list[float]) -> tuple[np.ndarray, Bounds]:
        """Mean and uncalibrated bounds per level for the next h periods."""

    def interval_factors(self, levels: list[float]) -> dict[float, float]:
        """Calibration factor per level from the spec (1 for model intervals)."""
        return interval_factors(self.spec.get("interval") or {}, levels)

    def forecast_arrays(self, h: int, levels: Sequence[float] = (80, 95)) -> tuple[np.ndarray, Bounds]:
        """Mean and calibrated bounds as arrays (no dates), for backtests and combinations."""
        if int(h) != h or h < 1:
            raise ValueError(f"horizon must be a positive integer, got {h}")
        levels = check_levels(levels)
        mean, bounds = self._forecast(int(h), levels)
        mean = np.asarray(mean, dtype=float)
        return mean, scale_bounds(mean, bounds, self.interval_factors(levels))

    def predict(self, h: int, levels: Sequence[float] = (80, 95)) -> pd.DataFrame:
        """Frame indexed by the h dates after the training data: mean, then lower_L/upper_L per level."""
        mean, bounds = self.forecast_arrays(h, levels)
        frame = pd.DataFrame({"mean": mean}, index=future_index(self.last_date, self.freq, int(h)))
        for level, (lo, hi) in bounds.items():
            lower, upper = level_columns(level)
            frame[lower] = lo
            frame[upper] = hi
        frame.index.name = "date"
        return frame

    def with_interval(self, interval: dict) -> Forecaster:
        """The same fitted model with another interval calibration recorded in its spec."""
        self.spec = {**self.spec, "interval": interval}
        return self

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec})"
