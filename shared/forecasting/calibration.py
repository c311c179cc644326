"""Interval calibration: rescale a spec's intervals by its backtest errors, shrunk toward the model's own."""

from __future__ import annotations

import math

import numpy as np

from .backtest import BACKTEST_LEVELS, WindowForecasts
from .base import interval_factors, scale_bounds

REPORTED_LEVELS = (80.0, 95.0)
# Prior weight of the model's own intervals, in backtest windows: the log of each conformal factor is
# shrunk by windows / (windows + PRIOR_WINDOWS). Chosen on the calibration half of the held-out bench
# (bench/README.md): 4 short windows estimate a factor too noisily to be applied in full.
PRIOR_WINDOWS = 8


def pooled_coverage(wf: WindowForecasts, level: float) -> float:
    """Share of all backtest actuals inside the `level`% interval."""
    hits = [(a >= b[level][0]) & (a <= b[level][1]) for a, b in zip(wf.actuals, wf.bounds, strict=True)]
    return float(np.mean(np.concatenate(hits))) if hits else float("nan")


def needed_factors(wf: WindowForecasts, level: float) -> np.ndarray:
    """Per actual, the smallest factor by which the `level`% interval must be scaled to contain it."""
    out = []
    for mean, bounds, actual in zip(wf.means, wf.bounds, wf.actuals, strict=True):
        lo, hi = bounds[level]
        above = actual >= mean
        half = np.where(above, hi - mean, mean - lo)
        gap = np.abs(actual - mean)
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.where(half > 0, gap / half, np.where(gap > 0, np.inf, 0.0))
        out.append(k)
    return np.concatenate(out) if out else np.zeros(0)


def conformal_factor(k: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ceil((n + 1) L)-th smallest needed factor, capped at the largest finite one.

    An actual outside a zero-width interval needs an infinite factor: it counts in n and ranks last, so
    such misses raise the factor (to the cap) instead of dropping out of the count.
    """
    finite = np.sort(k[np.isfinite(k)])
    if len(finite) == 0:
        return 1.0
    rank = min(len(finite), math.ceil((len(k) + 1) * level / 100))
    return float(max(finite[rank - 1], 1e-6))


def evidence_weight(windows: int, prior_windows: float = PRIOR_WINDOWS) -> float:
    """How far a backtest of `windows` windows moves the intervals: windows / (windows + prior_windows)."""
    return windows / (windows + prior_windows)


def calibrate(wf: WindowForecasts, prior_windows: int = PRIOR_WINDOWS) -> dict:
    """Interval method for a spec from its backtest: each level scaled by a shrunk split-conformal factor.

    The conformal factor of a level is the one that would have given its nominal coverage over the backtest
    windows; it is applied as factor ** weight with weight = windows / (windows + PRIOR_WINDOWS), so few
    windows move the model's intervals a little (wider or narrower) and many windows nearly all the way
    (`prior_windows` other than PRIOR_WINDOWS is for studies).
    Returns the spec's `interval` entry: method ("scaled", or "model" without backtest points), the factor
    per calibration level, the weight and the raw backtest coverage.
    """
    raw = {f"{level:g}": pooled_coverage(wf, level) for level in REPORTED_LEVELS}
    points = int(sum(len(a) for a in wf.actuals))
    if points == 0:
        return {"method": "model", "backtest_coverage": raw, "points": points}
    weight = evidence_weight(len(wf.actuals), prior_windows)
    factors = [
        math.exp(weight * math.log(conformal_factor(needed_factors(wf, level), level))) for level in BACKTEST_LEVELS
    ]
    return {
        "method": "scaled",
        "levels": list(BACKTEST_LEVELS),
        "factors": factors,
        "weight": weight,
        "backtest_coverage": raw,
        "points": points,
    }


def apply(wf: WindowForecasts, interval: dict) -> WindowForecasts:
    """The same window forecasts with the interval calibration applied (for reporting calibrated metrics)."""
    if interval.get("method") != "scaled":
        return wf
    factors = interval_factors(interval, BACKTEST_LEVELS)
    out = WindowForecasts(wf.spec, wf.means, [], wf.actuals, wf.scales, wf.fallbacks)
    out.bounds = [scale_bounds(m, b, factors) for m, b in zip(wf.means, wf.bounds, strict=True)]
    return out
