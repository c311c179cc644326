"""Candidate families by name: build a model from a spec, resolve a family's spec on data, refit a spec."""

from __future__ import annotations

import pandas as pd

from .arima import Arima
from .autoarima import auto_arima
from .base import Forecaster
from .combination import Combination
from .ets import Ets, auto_ets
from .fallback import Fallback
from .frequency import infer_frequency, season_length
from .naive import SeasonalNaive
from .theta import Theta, auto_theta

MODELS = {cls.name: cls for cls in (SeasonalNaive, Arima, Ets, Theta, Combination, Fallback)}
FAMILIES = ("arima", "ets", "theta", "snaive")  # candidates resolved from data; "combo" is built from them


def build(spec: dict):
    """Model object for a spec dict (its "name" picks the family)."""
    try:
        cls = MODELS[spec["name"]]
    except KeyError as exc:
        raise ValueError(f"unknown model {spec.get('name')!r}; known: {sorted(MODELS)}") from exc
    return Combination(spec, build) if cls is Combination else cls(spec)


def resolve_fit(family: str, y: pd.Series, freq: str) -> tuple[dict, Forecaster]:
    """Concrete spec of a family on this series (ARIMA orders, ETS form, theta method and seasonality, naive
    period) and the model with that spec fitted on all of y, a by-product of choosing the spec."""
    if family == "arima":
        return auto_arima(y, freq)
    if family == "ets":
        return auto_ets(y, freq)
    if family == "theta":
        return auto_theta(y, freq)
    if family == "snaive":
        fit = SeasonalNaive({"name": "snaive", "freq": freq, "period": season_length(freq)}).fit(y)
        return fit.spec, fit
    raise ValueError(f"unknown candidate family {family!r}")


def resolve(family: str, y: pd.Series, freq: str) -> dict:
    """Concrete spec of a family on this series (see `resolve_fit`)."""
    return resolve_fit(family, y, freq)[0]


def series_freq(y: pd.Series) -> str:
    """Frequency alias of a regular series: its index's own freq, else inferred."""
    freq = getattr(y.index, "freqstr", None)
    return freq or infer_frequency(y.index)


def fit_spec(y: pd.Series, spec: dict) -> Forecaster:
    """Refit a stored spec's parameters on new data, keeping its form and interval calibration."""
    spec = {**spec, "freq": spec.get("freq") or series_freq(y)}
    return build(spec).fit(y)
