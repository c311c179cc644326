"""Retrain one series on request: select, backtest, decide against the champion, publish a version."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import shared
from shared.errors import ConcurrencyConflict
from shared.ingest.curated import read_series
from shared.registry import (
    claim_run,
    finish_run,
    new_version_id,
    read_card,
    read_champion,
    set_champion,
    write_version,
)
from shared.settings import Settings, get_settings
from shared.storage import container

log = logging.getLogger(__name__)

STORED_LEVELS = (50, 80, 90, 95, 99)
# How far ahead forecasts are stored at training time, by the first letter of the frequency.
MAX_HORIZON = {"D": 90, "B": 90, "W": 52, "M": 24, "Q": 12, "Y": 5, "A": 5}
RUN_STALE_AFTER = timedelta(minutes=30)


class BadRequest(ValueError):
    """A retrain message that can never be processed (it ends in the poison queue)."""


@dataclass(frozen=True)
class RetrainOutcome:
    status: str  # trained | skipped
    reason: str
    series: str
    dataset_version: str
    version: str | None = None
    decision: dict | None = None


def parse_request(body: dict) -> tuple[str, str]:
    missing = [key for key in ("series", "dataset_version") if not body.get(key)]
    if missing:
        raise BadRequest(f"retrain request lacks {', '.join(missing)}: {body!r}")
    return str(body["series"]), str(body["dataset_version"])


def max_horizon(freq: str) -> int:
    return MAX_HORIZON.get(freq[0].upper(), 24)


def forecast_document(model, *, series: str, version: str, freq: str, trained_through: str) -> dict:
    """The stored forecast path up to the maximum horizon at the standard levels."""
    horizon = max_horizon(freq)
    frame = model.predict(horizon, levels=STORED_LEVELS)
    points = []
    for stamp, row in frame.iterrows():
        point = {"date": stamp.date().isoformat(), "mean": float(row["mean"])}
        for level in STORED_LEVELS:
            point[f"lower_{level}"] = float(row[f"lower_{level}"])
            point[f"upper_{level}"] = float(row[f"upper_{level}"])
        points.append(point)
    return {
        "series": series,
        "version": version,
        "frequency": freq,
        "trained_through": trained_through,
        "levels": list(STORED_LEVELS),
        "max_horizon": horizon,
        "points": points,
    }


def _training_series(days: dict):
    import pandas as pd

    from shared.forecasting import regularize

    raw = pd.Series(days, dtype="float64").sort_index()
    raw.index = pd.DatetimeIndex(raw.index)
    return regularize(raw)


def handle_request(
    body: dict, *, settings: Settings | None = None, correlation_id: str | None = None
) -> RetrainOutcome:
    """Process one retrain request; idempotent on (series, dataset_version)."""
    settings = settings or get_settings()
    series, requested = parse_request(body)
    correlation_id = body.get("correlation_id") or correlation_id
    curated = read_series(container(settings.curated_container, settings), series)
    if curated is None:
        log.warning("retrain request for unknown series %s ignored", series)
        return RetrainOutcome("skipped", "unknown series", series, requested)
    if curated.version != requested:
        log.info("retrain of %s@%s skipped: superseded by dataset version %s", series, requested, curated.version)
        return RetrainOutcome("skipped", f"superseded by {curated.version}", series, requested)
    models = container(settings.models_container, settings)
    done = claim_run(models, series, requested, stale_after=RUN_STALE_AFTER)
    if done is not None:
        log.info("retrain of %s@%s skipped: already trained as %s", series, requested, done.get("version"))
        return RetrainOutcome("skipped", "already trained", series, requested, done.get("version"))

    from shared.forecasting import select_model

    started = datetime.now(UTC)
    y, filled = _training_series(curated.days)
    pointer, pointer_etag = read_champion(models, series)
    champion_card = read_card(models, series, pointer["version"]) if pointer else None
    log.info(
        "retraining %s on %d points (%s..%s, %d filled), champion %s",
        series,
        len(y),
        y.index[0].date(),
        y.index[-1].date(),
        filled,
        champion_card["version"] if champion_card else "none",
    )
    selection = select_model(y, champion_spec=champion_card["spec"] if champion_card else None)
    promote = bool(selection.decision.get("promote", champion_card is None))
    if champion_card is None:
        outcome, served, served_spec = "first-model", selection.model, selection.spec
    elif promote:
        outcome, served, served_spec = "promoted", selection.model, selection.spec
    else:
        outcome, served, served_spec = "kept-champion", selection.champion_model, champion_card["spec"]

    version = new_version_id()
    freq = served_spec.get("freq") or y.index.freqstr
    trained_through = y.index[-1].date().isoformat()
    card = {
        "version": version,
        "series": series,
        "created_at": datetime.now(UTC).isoformat(),
        "code_version": os.environ.get("FORECASTOPS_CODE_VERSION", shared.__version__),
        "correlation_id": correlation_id,
        "reason": body.get("reason", "unspecified"),
        "spec": served_spec,
        "parameters": served.params,
        "dataset": {
            "version": requested,
            "start": y.index[0].date().isoformat(),
            "end": trained_through,
            "rows": len(curated.days),
            "filled_gaps": filled,
            "frequency": freq,
        },
        "metrics": selection.champion if outcome == "kept-champion" else selection.backtest.get("metrics"),
        "backtest": selection.backtest,
        "candidates": selection.candidates,
        "decision": {
            **selection.decision,
            "outcome": outcome,
            "champion_version": champion_card["version"] if champion_card else None,
            "challenger_spec": selection.spec,
        },
        "training_seconds": round((datetime.now(UTC) - started).total_seconds(), 3),
    }
    forecast = forecast_document(served, series=series, version=version, freq=freq, trained_through=trained_through)
    write_version(models, series, version, model=served, card=card, forecast=forecast)
    reason = {
        "first-model": "first model",
        "promoted": f"challenger beat champion {champion_card['version'] if champion_card else ''}".strip(),
        "kept-champion": f"refresh of champion {champion_card['version'] if champion_card else ''} with new data",
    }[outcome]
    try:
        set_champion(models, series, version, reason=reason, expected_etag=pointer_etag)
    except ConcurrencyConflict:
        log.warning("champion of %s moved during retrain; version %s stays unpromoted", series, version)
        outcome = "not-promoted-stale"
    finish_run(
        models,
        series,
        requested,
        {"version": version, "outcome": outcome, "finished_at": datetime.now(UTC).isoformat()},
    )
    log.info("retrain of %s@%s done: version %s, %s", series, requested, version, outcome)
    return RetrainOutcome("trained", outcome, series, requested, version, card["decision"])
