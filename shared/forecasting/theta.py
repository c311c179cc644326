"""Theta method (Assimakopoulos–Nikolopoulos, as SES with drift per Hyndman–Billah) with deseasonalizing."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import minimize_scalar
from scipy.signal import lfilter

from .base import Bounds, Forecaster, normal_bounds
from .frequency import season_length

SEASONALITY_Z = 1.645  # 90% one-sided threshold of the classical Theta seasonality test on the lag-m ACF


def is_seasonal(x: np.ndarray, m: int) -> bool:
    """Classical Theta test: lag-m autocorrelation beyond 1.645 of its Bartlett standard error."""
    n = len(x)
    if m <= 1 or n < 3 * m:
        return False
    e = x - x.mean()
    denom = float(e @ e)
    if denom <= 0:
        return False
    acf = np.array([float(e[k:] @ e[:-k]) / denom for k in range(1, m + 1)])
    limit = SEASONALITY_Z * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n)
    return bool(abs(acf[-1]) > limit)


def seasonal_indices(x: np.ndarray, m: int, multiplicative: bool) -> np.ndarray:
    """Classical decomposition indices per season position (position 0 is the first observation)."""
    weights = np.r_[0.5, np.ones(m - 1), 0.5] / m if m % 2 == 0 else np.ones(m) / m
    trend = np.convolve(x, weights, mode="valid")
    start = (len(weights) - 1) // 2
    core = x[start : start + len(trend)]
    detr = core / trend if multiplicative else core - trend
    pos = (np.arange(len(trend)) + start) % m
    idx = np.array([detr[pos == k].mean() for k in range(m)])
    if multiplicative:
        return idx / idx.mean()
    return idx - idx.mean()


def ses_sse(alpha: float, x: np.ndarray) -> tuple[float, float, np.ndarray]:
    """SSE of simple exponential smoothing with the initial level concentrated out; (sse, l0, errors)."""
    decay = (1 - alpha) ** np.arange(len(x))
    levels = lfilter([alpha], [1, alpha - 1], x)
    prev = np.concatenate([[0.0], levels[:-1]])
    e0 = x - prev
    l0 = float(e0 @ decay / (decay @ decay))
    e = e0 - decay * l0
    return float(e @ e), l0, e


class ThetaFit(Forecaster):
    """Fitted Theta model: final SES level, drift, smoothing weight and seasonal indices."""

    def _forecast(self, h: int, levels: list[float]) -> tuple[np.ndarray, Bounds]:
        p = self.params
        steps = np.arange(1, h + 1)
        alpha, n = p["alpha"], p["n"]
        drift = 0.5 * p["slope"] * (steps - 1 + 1 / alpha - (1 - alpha) ** n / alpha)
        mean = p["level"] + drift
        sd = np.sqrt(p["sigma2"] * (1 + alpha**2 * (steps - 1)))
        bounds = normal_bounds(mean, sd, levels)
        season = np.asarray(p["season"])
        if len(season) > 1:
            factor = season[(p["n"] + steps - 1) % len(season)]
            if p["multiplicative"]:
                mean = mean * factor
                bounds = {k: (lo * factor, hi * factor) for k, (lo, hi) in bounds.items()}
            else:
                mean = mean + factor
                bounds = {k: (lo + factor, hi + factor) for k, (lo, hi) in bounds.items()}
        return mean, bounds


class Theta:
    """Theta model; deseasonalizes when the lag-m autocorrelation test says the data are seasonal."""

    name = "theta"

    def __init__(self, spec: dict) -> None:
        self.spec = spec

    def fit(self, y: pd.Series, previous: Forecaster | None = None) -> ThetaFit:
        """Fit on y (`previous`, a fit on a prefix of y, is not needed by this model)."""
        x = y.to_numpy(dtype=float)
        n = len(x)
        if n < 3:
            raise ValueError(f"Theta needs at least 3 observations, got {n}")
        m = int(self.spec.get("period") or season_length(self.spec["freq"]))
        deseason = self.spec.get("deseasonalize", "auto")
        seasonal = is_seasonal(x, m) if deseason == "auto" else bool(deseason) and n >= 2 * m and m > 1
        multiplicative = bool(np.all(x > 0))
        season = seasonal_indices(x, m, multiplicative) if seasonal else np.zeros(1)
        if seasonal:
            factor = season[np.arange(n) % m]
            x = x / factor if multiplicative else x - factor
        t = np.arange(n)
        slope = float(np.polyfit(t, x, 1)[0])
        res = minimize_scalar(lambda a: ses_sse(a, x)[0], bounds=(1e-3, 0.999), method="bounded")
        alpha = float(res.x)
        _, l0, e = ses_sse(alpha, x)
        level = float(lfilter([alpha], [1, alpha - 1], x, zi=[(1 - alpha) * l0])[0][-1])
        params = {
            "alpha": alpha,
            "level": level,
            "slope": slope,
            "n": n,
            "sigma2": float(np.mean(e**2)),
            "multiplicative": multiplicative,
            "season": [float(v) for v in season],
        }
        spec = {**self.spec, "name": self.name, "period": m, "deseasonalize": seasonal}
        return ThetaFit(spec, params, y.index[-1], spec["freq"])
