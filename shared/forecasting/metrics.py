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
