"""Forecast accuracy metrics: MASE, sMAPE, RMSE, interval coverage and MSIS."""

from __future__ import annotations

import numpy as np


def mase_scale(train: np.ndarray, m: int) -> float:
    """In-sample mean absolute error of the seasonal-naive forecast (lag m) on the training data.

    Falls back to lag 1 when the series is shorter than two seasons or the seasonal scale is zero,
    and to the mean absolute level (or 1) for a constant series, so the scale is always positive.
    """
    train = np.asarray(train, dtype=float)
    for lag in (m, 1):
        if 0 < lag < len(train):
            scale = float(np.mean(np.abs(train[lag:] - train[:-lag])))
            if scale > 0:
                return scale
    level = float(np.mean(np.abs(train))) if len(train) else 0.0
    return level if level > 0 else 1.0


def mase(actual: np.ndarray, forecast: np.ndarray, scale: float) -> float:
    """Mean absolute error divided by the in-sample seasonal-naive scale."""
    return float(np.mean(np.abs(np.asarray(actual) - np.asarray(forecast))) / scale)


def smape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Symmetric MAPE in percent (0 to 200); a point where actual and forecast are both 0 scores 0."""
    actual = np.asarray(actual, dtype=float)
    forecast = np.asarray(forecast, dtype=float)
    denom = np.abs(actual) + np.abs(forecast)
    ratio = np.divide(2 * np.abs(actual - forecast), denom, out=np.zeros_like(denom), where=denom > 0)
    return float(100 * np.mean(ratio))


def rmse(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Root mean squared error."""
    return float(np.sqrt(np.mean((np.asarray(actual) - np.asarray(forecast)) ** 2)))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Fraction of actuals inside the closed interval [lower, upper]."""
    actual = np.asarray(actual)
    return float(np.mean((actual >= np.asarray(lower)) & (actual <= np.asarray(upper))))


def msis(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray, level: float, scale: float) -> float:
    """Mean scaled interval score (M4 definition) of a `level`% interval, scaled like MASE."""
    actual = np.asarray(actual, dtype=float)
    lower = np.asarray(lower, dtype=float)
    upper = np.asarray(upper, dtype=float)
    alpha = 1 - level / 100
    score = (
        (upper - lower)
        + (2 / alpha) * np.clip(lower - actual, 0, None)
        + (2 / alpha) * np.clip(actual - upper, 0, None)
    )
    return float(np.mean(score) / scale)


def pinball(actual: np.ndarray, quantile: np.ndarray, q: float) -> float:
    """Mean pinball (quantile) loss of a forecast of the q-quantile."""
    diff = np.asarray(actual, dtype=float) - np.asarray(quantile, dtype=float)
    return float(np.mean(np.maximum(q * diff, (q - 1) * diff)))


def scaled_pinball(actual: np.ndarray, mean: np.ndarray, bounds: dict, scale: float) -> float:
    """Pinball loss averaged over the quantiles an interval forecast gives, scaled like MASE.

    `bounds` maps a level L to (lower, upper), the (50 - L/2)% and (50 + L/2)% quantiles; the mean stands
    for the median. Judges interval width as well as coverage: a too-wide interval scores worse too.
    """
    losses = [pinball(actual, mean, 0.5)]
    for level, (lower, upper) in bounds.items():
        losses += [pinball(actual, lower, 0.5 - level / 200), pinball(actual, upper, 0.5 + level / 200)]
    return float(np.mean(losses) / scale)
