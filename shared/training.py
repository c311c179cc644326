"""What a retrain trains on and publishes: the training series, the model card and the served-forecast document."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import shared
from shared.schemas import STORED_LEVELS

# How far ahead forecasts are stored at training time, by the first letter of the frequency.
MAX_HORIZON = {"D": 90, "B": 90, "W": 52, "M": 24, "Q": 12, "Y": 5, "A": 5}


def training_series(days: dict, freq: str | None = None):
    """The curated days as a regular float series (gaps interpolated) and the number of days filled.

    At most MAX_TRAINING_FILL values are filled: older data beyond longer gaps is left out.
    """
    import pandas as pd

    from shared.forecasting import regularize
    from shared.ingest.rules import bound_gap_fill

    raw = pd.Series(list(days.values()), index=pd.to_datetime(list(days)), dtype="float64").sort_index()
    return bound_gap_fill(*regularize(raw, freq), raw=raw)


def max_horizon(freq: str) -> int:
    return MAX_HORIZON.get(freq[0].upper(), 24)


def sales_floor(y) -> float | None:
    """0 for a series that was never negative (such as sales), otherwise no floor."""
    return 0.0 if float(y.min()) >= 0 else None


def forecast_document(
    model, *, series: str, version: str, freq: str, trained_through: str, floor: float | None = None
) -> dict:
    """The stored forecast path up to the maximum horizon at the standard levels.

    `floor` (0 for a series that was never negative, such as sales) clips the mean and the bounds:
    an interval reaching below what the series can take only looks wider than it is.
    """
    horizon = max_horizon(freq)
    frame = model.predict(horizon, levels=STORED_LEVELS)
    if floor is not None:
        frame = frame.clip(lower=floor)
    columns = ["mean", *(f"{side}_{level}" for level in STORED_LEVELS for side in ("lower", "upper"))]
    rows = frame[columns].to_numpy(dtype=float).tolist()  # one conversion, not a Series per row and cell
    points = [
        {"date": stamp.date().isoformat(), **dict(zip(columns, row, strict=True))}
        for stamp, row in zip(frame.index, rows, strict=True)
    ]
    return {
        "series": series,
        "version": version,
        "frequency": freq,
        "trained_through": trained_through,
        "levels": list(STORED_LEVELS),
        "max_horizon": horizon,
        "floor": floor,
        "fallback": bool(model.spec.get("fallback")),  # a cold-start fallback forecast (forecasting/fallback.py)
        "points": points,
    }


def served_model(selection, outcome) -> tuple:
    """The model a retrain publishes, its spec and its backtest metrics: the challenger, or the refreshed champion.

    `selection` is a forecasting Selection, `outcome` a forecasting.champion.Outcome.
    """
    from shared.jsonsafe import json_safe

    if outcome.serve_challenger:
        return selection.model, selection.spec, selection.backtest.get("metrics")
    # The champion's form refitted and recalibrated on the new data: its spec carries the new interval.
    return selection.champion_model, json_safe(selection.champion_model.spec), selection.champion


def model_card(
    *,
    version: str,
    series: str,
    request: dict,
    correlation_id: str | None,
    y,
    rows: int,
    filled: int,
    selection,
    outcome,
    champion_version: str | None,
    started: datetime,
) -> dict:
    """The card of a new version: data, the served spec and parameters, metrics, candidates and the decision.

    `outcome` (forecasting.champion.Outcome) says whether the challenger or the refreshed champion is served.
    """
    served, spec, metrics = served_model(selection, outcome)
    return {
        "version": version,
        "series": series,
        "created_at": datetime.now(UTC).isoformat(),
        "code_version": os.environ.get("FORECASTOPS_CODE_VERSION", shared.__version__),
        "correlation_id": correlation_id,
        "upload": request.get("upload"),
        "reason": request.get("reason", "unspecified"),
        "spec": spec,
        "parameters": served.params,
        "dataset": {
            "version": request["dataset_version"],
            "start": y.index[0].date().isoformat(),
            "end": y.index[-1].date().isoformat(),
            "rows": rows,
            "filled_gaps": filled,
            "frequency": spec.get("freq") or y.index.freqstr,
        },
        "metrics": metrics,
        "backtest": selection.backtest,
        "candidates": selection.candidates,
        "failures": selection.failures,
        "fallback": selection.fallback if outcome.serve_challenger else None,
        "decision": {
            **selection.decision,
            "outcome": outcome.name,
            "champion_version": champion_version,
            "challenger_spec": selection.spec,
            "replaced_corrupt": outcome.replaced_corrupt,
        },
        "training_seconds": round((datetime.now(UTC) - started).total_seconds(), 3),
    }
