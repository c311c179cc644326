"""Synthetic daily sales and real champions (seasonal naive, backtested) stored on Azurite for the monitor tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shared import registry
from shared.forecasting.backtest import forecast_windows, plan_windows, summarize, window_scores
from shared.forecasting.families import build
from shared.forecasting.naive import SeasonalNaive
from shared.ingest.curated import content_version, merge_series, serialize, update_manifest
from shared.storage import container
from shared.training import forecast_document

PROFILE = np.array([120.0, 40.0, 100.0, 90.0, 30.0, -230.0, -150.0])  # Monday first
NOISE_SD = 60.0


def daily_sales(days: int = 200, seed: int = 7, start: str = "2024-01-01") -> pd.Series:
    """Level 1000, a weekly profile and mildly autocorrelated noise (sd 60) on a regular daily index."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(start, periods=days, freq="D")
    noise = np.zeros(days)
    shocks = rng.normal(0, NOISE_SD * np.sqrt(1 - 0.2**2), days)
    for t in range(days):
        noise[t] = (0.2 * noise[t - 1] if t else 0.0) + shocks[t]
    y = pd.Series(1000 + PROFILE[index.day_of_week] + noise, index=index)
    y.index.freq = "D"
    return y


def shifted(y: pd.Series, days: int, by: float) -> pd.Series:
    """The series with its last `days` values raised by `by`."""
    out = y.copy()
    out.iloc[-days:] += by
    return out


def as_days(y: pd.Series) -> dict:
    return {stamp.date(): float(value) for stamp, value in y.items()}


def store_curated(settings, series: str, y: pd.Series) -> str:
    """Merge the series into the curated container as an upload would; returns its dataset version."""
    curated = container(settings.curated_container, settings)
    outcome = merge_series(curated, series, as_days(y))
    update_manifest(curated, [series])
    return outcome.version


def publish_champion(settings, series: str, train: pd.Series, *, reason: str = "first model") -> str:
    """A seasonal-naive version trained on `train`, with a backtest card and its stored forecast, made champion."""
    model = SeasonalNaive({"name": "snaive", "freq": "D"}).fit(train)
    plan = plan_windows(len(train), "D")
    windows = forecast_windows(model.spec, train, plan, build)
    metrics = summarize(window_scores(windows), windows.fallbacks)
    version = registry.new_version_id()
    trained_through = train.index[-1].date().isoformat()
    card = {
        "version": version,
        "series": series,
        "created_at": "2024-07-01T00:00:00+00:00",
        "reason": reason,
        "spec": model.spec,
        "parameters": model.params,
        "dataset": {
            "version": content_version(serialize(as_days(train))),
            "start": train.index[0].date().isoformat(),
            "end": trained_through,
            "rows": len(train),
            "filled_gaps": 0,
            "frequency": "D",
        },
        "metrics": metrics,
        "backtest": {**plan.to_dict(train.index), "selected": "snaive", "metrics": metrics},
        "decision": {"outcome": "first-model"},
    }
    forecast = forecast_document(model, series=series, version=version, freq="D", trained_through=trained_through)
    models = container(settings.models_container, settings)
    registry.write_version(models, series, version, model=model, card=card, forecast=forecast)
    registry.promote(models, series, version, reason=reason)
    return version
