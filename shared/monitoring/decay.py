"""Model decay detectors: MASE on new actuals against the backtest, CUSUMs on standardized one-step errors."""

from __future__ import annotations

import logging
import math

import numpy as np
import pandas as pd
from scipy.stats import norm

from shared.forecasting import fit_spec
from shared.forecasting.selection import strip

from . import thresholds as th
from .drift import Check

log = logging.getLogger(__name__)

Z80 = float(norm.ppf(0.9))  # half-width of a central 80% normal interval in standard deviations


def mase_ratio_check(actual: np.ndarray, forecast: np.ndarray, scale: float, expected_mase: float) -> Check:
    """MASE of the served forecasts on new actuals divided by the champion's backtest MASE.

    The threshold grows as the evidence shrinks: the ratio fires above 1 + MASE_RATIO_K / sqrt(n), so
    a week of actuals needs a larger excess than four weeks for the same false-alarm rate.
    """
    actual, forecast = np.asarray(actual, dtype=float), np.asarray(forecast, dtype=float)
    n = len(actual)
    realized = float(np.mean(np.abs(actual - forecast)) / scale)
    ratio = realized / expected_mase
    threshold = 1 + th.MASE_RATIO_K / math.sqrt(n)
    return Check(
        "mase_ratio",
        ratio if math.isfinite(ratio) else None,
        threshold,
        ratio > threshold,
        {"mase": realized, "backtest_mase": expected_mase, "points": n, "scale": scale},
        "MASE on actuals after training divided by the backtest MASE; fires above 1 + k/sqrt(n)",
    )


def cusum_path(z: np.ndarray, k: float) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower tabular CUSUM of z with reference value k, both started at zero."""
    upper, lower = np.zeros(len(z)), np.zeros(len(z))
    hi = lo = 0.0
    for i, value in enumerate(z):
        hi = max(0.0, hi + value - k)
        lo = max(0.0, lo - value - k)
        upper[i], lower[i] = hi, lo
    return upper, lower


def first_crossing(path: np.ndarray, h: float) -> int | None:
    above = np.flatnonzero(path > h)
    return int(above[0]) if len(above) else None


def clipped(z: np.ndarray) -> np.ndarray:
    """Standardized errors clipped to ±CUSUM_CLIP, so one outlier (a data error, a holiday) cannot fire."""
    return np.clip(np.asarray(z, dtype=float), -th.CUSUM_CLIP, th.CUSUM_CLIP)


def cusum_mean_check(z: np.ndarray, dates: list[str]) -> Check:
    """Two-sided CUSUM for a shift of the mean of the standardized one-step errors."""
    upper, lower = cusum_path(clipped(z), th.CUSUM_MEAN_K)
    both = np.maximum(upper, lower)
    peak = float(both.max()) if len(both) else 0.0
    hit = first_crossing(both, th.CUSUM_MEAN_H)
    return Check(
        "cusum_mean",
        peak,
        th.CUSUM_MEAN_H,
        hit is not None,
        {
            "k": th.CUSUM_MEAN_K,
            "alarm_date": dates[hit] if hit is not None else None,
            "direction": None if hit is None else ("up" if upper[hit] > th.CUSUM_MEAN_H else "down"),
            "points": len(z),
            "mean_z": float(np.mean(z)) if len(z) else None,
        },
        "two-sided tabular CUSUM of the standardized one-step errors (clipped), peak over the window",
    )


def cusum_scale_check(z: np.ndarray, dates: list[str]) -> Check:
    """Upper CUSUM of the squared standardized one-step errors: the errors grew (variance, profile change)."""
    upper, _ = cusum_path(clipped(z) ** 2, th.CUSUM_SCALE_K)
    peak = float(upper.max()) if len(upper) else 0.0
    hit = first_crossing(upper, th.CUSUM_SCALE_H)
    return Check(
        "cusum_scale",
        peak,
        th.CUSUM_SCALE_H,
        hit is not None,
        {
            "k": th.CUSUM_SCALE_K,
            "alarm_date": dates[hit] if hit is not None else None,
            "points": len(z),
            "mean_z2": float(np.mean(np.square(z))) if len(z) else None,
        },
        "upper CUSUM of the squared standardized one-step errors, peak over the window",
    )


def one_step_errors(y: pd.Series, spec: dict, positions: range) -> pd.DataFrame:
    """One-step-ahead forecasts of a spec refitted on the data before each position, and their errors.

    For each position t the spec's parameters are re-estimated on y[:t] (the champion's form, no look
    ahead) and the next value is forecast with the model's own (uncalibrated) interval; the error is
    standardized by the standard deviation that interval implies. A position whose refit fails is
    logged and left out.
    """
    spec = strip(spec)
    rows, failures = [], []
    for t in positions:
        day = y.index[t].date().isoformat()
        try:
            frame = fit_spec(y.iloc[:t], spec).predict(1, levels=(80,))
            mean = float(frame["mean"].iloc[0])
            sd = float(frame["upper_80"].iloc[0] - frame["lower_80"].iloc[0]) / (2 * Z80)
            if not (math.isfinite(mean) and math.isfinite(sd) and sd > 0):
                raise ValueError(f"unusable one-step forecast (mean {mean!r}, sd {sd!r})")
        except Exception as exc:  # a refit that fails leaves a gap; the CUSUMs run over the rest
            failures.append(f"{day}: {exc}")
            continue
        actual = float(y.iloc[t])
        rows.append({"date": day, "actual": actual, "mean": mean, "sd": sd, "z": (actual - mean) / sd})
    if failures:
        log.warning(
            "one-step refits of %s failed on %d of %d days (first: %s)",
            spec.get("name"),
            len(failures),
            len(positions),
            failures[0],
        )
    return pd.DataFrame(rows, columns=["date", "actual", "mean", "sd", "z"])
