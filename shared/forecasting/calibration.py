"""Interval calibration: check backtest coverage, and rescale intervals conformally when it is off."""

from __future__ import annotations

import math

import numpy as np
from scipy.stats import binomtest

from .backtest import BACKTEST_LEVELS, WindowForecasts
from .base import interval_factors, scale_bounds

CHECKED_LEVELS = (80.0, 95.0)
# Errors within one backtest window are strongly correlated: a window counts as this many independent points.
POINTS_PER_WINDOW = 3
SIGNIFICANCE = 0.05  # two-sided binomial test of the backtest coverage against the nominal level


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
    """Split-conformal quantile: the ceil((n + 1) L)-th smallest needed factor (capped at the largest)."""
    finite = np.sort(k[np.isfinite(k)])
    if len(finite) == 0:
        return 1.0
    rank = min(len(finite), math.ceil((len(finite) + 1) * level / 100))
    return float(max(finite[rank - 1], 1e-6))


def calibrate(wf: WindowForecasts) -> dict:
    """Interval method for a spec from its backtest: model intervals unless coverage is significantly off.

    Coverage at 80% and 95% is tested against the nominal level with a binomial test on an effective
    sample of POINTS_PER_WINDOW per window; if either is significant, every level is rescaled by its
    split-conformal factor ("scaled"). Returns the spec's `interval` entry: method, raw backtest
    coverage, p-values and, for "scaled", the factor per calibration level.
    """
    raw = {f"{level:g}": pooled_coverage(wf, level) for level in CHECKED_LEVELS}
    points = int(sum(len(a) for a in wf.actuals))
    n_eff = POINTS_PER_WINDOW * len(wf.actuals)
    p_values = {
        key: float(binomtest(round(cov * n_eff), n_eff, float(key) / 100).pvalue) if n_eff else 1.0
        for key, cov in raw.items()
    }
    if points == 0 or min(p_values.values()) >= SIGNIFICANCE:
        return {"method": "model", "backtest_coverage": raw, "points": points, "p_values": p_values}
    factors = [conformal_factor(needed_factors(wf, level), level) for level in BACKTEST_LEVELS]
    return {
        "method": "scaled",
        "levels": list(BACKTEST_LEVELS),
        "factors": factors,
        "backtest_coverage": raw,
        "points": points,
        "p_values": p_values,
    }


def apply(wf: WindowForecasts, interval: dict) -> WindowForecasts:
    """The same window forecasts with the interval calibration applied (for reporting calibrated metrics)."""
    if interval.get("method") != "scaled":
        return wf
    factors = interval_factors(interval, BACKTEST_LEVELS)
    out = WindowForecasts(wf.spec, wf.means, [], wf.actuals, wf.scales, wf.fallbacks)
    out.bounds = [scale_bounds(m, b, factors) for m, b in zip(wf.means, wf.bounds, strict=True)]
    return out
