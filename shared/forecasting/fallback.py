"""Cold-start fallback for a series too short to backtest: a recent mean with wide, horizon-widening intervals.

A new product has a few observations: too few for the rolling-origin backtest that selection needs (a plan
with no window), so no candidate can be compared or calibrated. It gets this forecast instead, marked in its
spec (`"fallback": true`), until it has enough history for full selection (`min_selection_length`).

Point forecast: the mean of the last k = min(n, season length) observations. Interval at step h:
mean +- t(df = max(n - 1, 1)) * s * sqrt(1 + 1/k) * sqrt(1 + WIDENING * (h - 1)), with s the standard
deviation of the observations, floored at SCALE_FLOOR times their mean absolute level (a series of one
value, or of equal values, has no spread of its own to measure). The Student-t quantile makes very short
histories very wide (df 1 for one or two points). SCALE_FLOOR and WIDENING were compared on simulated
new-product series (`python -m bench.cold_start --calibrate`); the coverage on real short series they were
not set on is in bench/README.md ("Cold start").
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import t as student_t

from .backtest import plan_windows
from .base import Bounds, Forecaster
from .frequency import season_length

SCALE_FLOOR = 0.1  # the spread assumed at least: this fraction of the series' mean absolute level
WIDENING = 0.1  # variance added per further step, in units of the one-step variance


def min_selection_length(freq: str, horizon: int | None = None) -> int:
    """Fewest observations for which the backtest plan has a window, i.e. full selection runs."""
    n = 1
    while not plan_windows(n, freq, horizon).cutoffs:
        n += 1
    return n


class FallbackFit(Forecaster):
    """Fitted fallback: the recent mean, the spread and the counts the interval needs."""

    def _forecast(self, h: int, levels: list[float]) -> tuple[np.ndarray, Bounds]:
        p = self.params
        steps = np.arange(1, h + 1)
        mean = np.full(h, p["mean"])
        sd = p["scale"] * np.sqrt(1 + 1 / p["window"]) * np.sqrt(1 + WIDENING * (steps - 1))
        df = max(p["observations"] - 1, 1)
        bounds = {}
        for level in levels:
            q = float(student_t.ppf(0.5 + level / 200, df))
            bounds[level] = (mean - q * sd, mean + q * sd)
        return mean, bounds


class Fallback:
    """The cold-start fallback model (see the module docstring)."""

    name = "fallback"

    def __init__(self, spec: dict) -> None:
        self.spec = spec

    def fit(self, y: pd.Series, previous: Forecaster | None = None) -> FallbackFit:
        """Fit on y (`previous` is not needed by this model)."""
        x = y.to_numpy(dtype=float)
        if len(x) == 0:
            raise ValueError("the fallback needs at least one observation")
        freq = self.spec["freq"]
        k = min(len(x), season_length(freq))
        spread = float(np.std(x, ddof=1)) if len(x) > 1 else 0.0
        level = float(np.mean(np.abs(x)))
        scale = max(spread, SCALE_FLOOR * level) or 1.0
        params = {"mean": float(np.mean(x[-k:])), "scale": scale, "window": k, "observations": len(x)}
        spec = {**self.spec, "name": self.name, "fallback": True}
        return FallbackFit(spec, params, y.index[-1], freq)
