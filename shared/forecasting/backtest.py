"""Rolling-origin backtests: window plan by frequency, (cutoff, train, valid) splits, per-window scores."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import metrics
from .base import Bounds
from .frequency import family, season_length
from .naive import SeasonalNaive
from .private_api import failure_cause

logger = logging.getLogger(__name__)

# (horizon, origins, step between origins) by frequency family.
DEFAULT_PLAN = {"D": (28, 6, 14), "W": (13, 6, 4), "M": (18, 4, 6), "Q": (8, 4, 2), "Y": (6, 4, 1)}
# Levels forecast in every window: reported ones (80, 95) plus a grid for interval calibration.
BACKTEST_LEVELS = (50.0, 80.0, 90.0, 95.0, 99.0)


@dataclass(frozen=True)
class BacktestPlan:
    """Backtest windows: training ends at each cutoff position, validation is the next `horizon` points."""

    horizon: int
    step: int
    cutoffs: tuple[int, ...]
    season: int

    def to_dict(self, index: pd.DatetimeIndex) -> dict:
        return {
            "horizon": self.horizon,
            "step": self.step,
            "windows": len(self.cutoffs),
            "season_length": self.season,
            "cutoffs": [str(index[c - 1].date()) for c in self.cutoffs],
        }


def min_train(m: int) -> int:
    """Shortest training window: two full seasons plus a few points, and never under 8 points."""
    return max(2 * m + 2, 8) if m > 1 else 8


def plan_windows(n: int, freq: str, horizon: int | None = None) -> BacktestPlan:
    """Rolling-origin plan ending at the last observation; fewer origins or a shorter horizon if data are short.

    The last window ends at the last observation; earlier origins are `step` apart. Origins whose training
    part would be shorter than `min_train` are dropped; if none is left the horizon shrinks. A plan with no
    cutoffs means the series is too short to backtest.
    """
    h0, origins, step = DEFAULT_PLAN[family(freq)]
    h = int(horizon or h0)
    m = season_length(freq)
    need = min_train(m)
    if n - h < need:
        need = min(need, max(8, n // 2))
    while h >= 1:
        cutoffs = [n - h - step * k for k in range(origins)]
        cutoffs = sorted(c for c in cutoffs if c >= need)
        if cutoffs:
            return BacktestPlan(h, step, tuple(cutoffs), m)
        h = h // 2 if h > 1 else 0
    return BacktestPlan(0, step, (), m)


def splits(y: pd.Series, plan: BacktestPlan) -> Iterator[tuple[pd.Timestamp, pd.Series, pd.Series]]:
    """Yield (cutoff date, train, valid) for each window, oldest first; cutoff is the last training date."""
    for c in plan.cutoffs:
        yield y.index[c - 1], y.iloc[:c], y.iloc[c : c + plan.horizon]


@dataclass
class WindowForecasts:
    """One spec's forecasts over every window of a plan, with the actuals and MASE scales."""

    spec: dict
    means: list[np.ndarray] = field(default_factory=list)
    bounds: list[Bounds] = field(default_factory=list)
    actuals: list[np.ndarray] = field(default_factory=list)
    scales: list[float] = field(default_factory=list)
    fallbacks: int = 0
    engine_errors: int = 0  # fallback windows whose failure was the engine's, not the data's


def forecast_windows(spec: dict, y: pd.Series, plan: BacktestPlan, builder) -> WindowForecasts:
    """Refit `spec` on each window's training data and forecast its validation part.

    A window where the spec fails is logged and forecast by seasonal naive instead (counted in `fallbacks`).
    """
    out = WindowForecasts(spec)
    previous = None
    for cutoff, train, valid in splits(y, plan):
        try:
            # Windows are expanding prefixes, oldest first: the previous window's fit is a warm start.
            fitted = builder(spec).fit(train, previous=previous)
            previous = fitted
            mean, bounds = fitted.forecast_arrays(plan.horizon, BACKTEST_LEVELS)
            if not np.all(np.isfinite(mean)):
                raise ValueError("non-finite forecast")
        except Exception as exc:  # any model failure: isolate it and use the baseline for this window
            cause = failure_cause(exc)
            logger.warning(
                "candidate %s failed on window ending %s (%s): %r", spec.get("name"), cutoff.date(), cause, exc
            )
            out.engine_errors += cause == "engine"
            fitted = SeasonalNaive({"name": "snaive", "freq": spec["freq"]}).fit(train)
            mean, bounds = fitted.forecast_arrays(plan.horizon, BACKTEST_LEVELS)
            out.fallbacks += 1
            previous = None
        out.means.append(mean)
        out.bounds.append(bounds)
        out.actuals.append(valid.to_numpy(dtype=float))
        out.scales.append(metrics.mase_scale(train.to_numpy(dtype=float), plan.season))
    return out


def window_scores(wf: WindowForecasts) -> list[dict]:
    """Per-window metrics: MASE, sMAPE, RMSE, 80% and 95% coverage, 95% MSIS."""
    rows = []
    for mean, bounds, actual, scale in zip(wf.means, wf.bounds, wf.actuals, wf.scales, strict=True):
        rows.append(
            {
                "mase": metrics.mase(actual, mean, scale),
                "smape": metrics.smape(actual, mean),
                "rmse": metrics.rmse(actual, mean),
                "coverage_80": metrics.coverage(actual, *bounds[80.0]),
                "coverage_95": metrics.coverage(actual, *bounds[95.0]),
                "msis_95": metrics.msis(actual, *bounds[95.0], 95, scale),
            }
        )
    return rows


def summarize(rows: list[dict], fallbacks: int = 0) -> dict:
    """Mean of each metric over windows, plus the per-window MASE the decision rule pairs on."""
    keys = rows[0].keys() if rows else []
    out = {key: float(np.mean([r[key] for r in rows])) for key in keys}
    out["per_window_mase"] = [r["mase"] for r in rows]
    out["windows"] = len(rows)
    out["fallback_windows"] = fallbacks
    return out
