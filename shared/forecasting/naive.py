"""Seasonal-naive baseline: repeat the last season; always fits, never fails."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .base import Bounds, Forecaster, normal_bounds
from .frequency import season_length


class SeasonalNaiveFit(Forecaster):
    """Fitted seasonal naive: the last season of data and the residual spread."""

    def __init__(self, spec: dict, last_season: np.ndarray, sigma: float, last_date, freq: str) -> None:
        super().__init__(spec, {"sigma": sigma}, last_date, freq)
        self.last_season = np.asarray(last_season, dtype=float)

    def _forecast(self, h: int, levels: list[float]) -> tuple[np.ndarray, Bounds]:
        m = len(self.last_season)
        steps = np.arange(h)
        mean = self.last_season[steps % m]
        # Each further season adds one more seasonal-difference innovation.
        sd = self.params["sigma"] * np.sqrt(steps // m + 1)
        return mean, normal_bounds(mean, sd, levels)


class SeasonalNaive:
    """Seasonal-naive forecaster; the period is the frequency's season length unless given."""

    name = "snaive"

    def __init__(self, spec: dict) -> None:
        self.spec = spec

    def fit(self, y: pd.Series, previous: Forecaster | None = None) -> SeasonalNaiveFit:
        """Fit on y (`previous`, a fit on a prefix of y, is not needed by this model)."""
        values = y.to_numpy(dtype=float)
        freq = self.spec["freq"]
        m = int(self.spec.get("period") or season_length(freq))
        if m >= len(values):
            m = 1
        resid = values[m:] - values[:-m]
        sigma = float(np.sqrt(np.mean(resid**2))) if len(resid) else 0.0
        spec = {**self.spec, "name": self.name, "period": m}
        return SeasonalNaiveFit(spec, values[-m:], sigma, y.index[-1], freq)
