"""Candidate models: automatic ARIMA, ETS, Theta, seasonal naive and the fitted-model contract."""

from __future__ import annotations

import io

import joblib
import numpy as np
import pandas as pd
import pytest
from scipy.signal import lfilter

from shared.forecasting import fit_spec
from shared.forecasting.autoarima import auto_arima_spec, kpss_stat, ndiffs
from shared.forecasting.ets import auto_ets_spec
from shared.forecasting.families import build, resolve

from .conftest import seasonal_series


def simulate_seasonal_ar(n: int, phi: float, m: int, seed: int) -> np.ndarray:
    """y_t = phi * y_{t-m} + e_t, started from zeros, with a burn-in dropped."""
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n + 10 * m)
    y = np.zeros_like(e)
    for t in range(m, len(e)):
        y[t] = phi * y[t - m] + e[t]
    return y[10 * m :]


def test_auto_arima_recovers_seasonal_structure():
    values = 50 + simulate_seasonal_ar(180, 0.8, 12, seed=3)
    y = pd.Series(values, index=pd.date_range("2000-01-01", periods=180, freq="MS"))
    spec = auto_arima_spec(y, "MS")
    sp, sd, sq, m = spec["seasonal_order"]
    assert m == 12
    assert sd + sp + sq >= 1, spec
    # Forecasts reproduce the last year's pattern (the seasonal AR carries it forward).
    mean = build(spec).fit(y).predict(12)["mean"].to_numpy()
    assert np.corrcoef(mean, values[-12:])[0, 1] > 0.7


def test_auto_arima_finds_plain_ar_without_seasonal_terms():
    x = lfilter([1.0], [1.0, -0.5], np.random.default_rng(0).normal(size=300))
    y = pd.Series(x + 10, index=pd.date_range("2000-01-01", periods=300, freq="YS"))
    spec = auto_arima_spec(y, "YS")
    assert spec["seasonal_order"][3] == 1
    assert spec["order"][1] == 0 and spec["order"][0] >= 1
    fit = build(spec).fit(y)
    assert fit.params["ar"][0] == pytest.approx(0.5, abs=0.15)


def test_kpss_differences_a_random_walk_but_not_white_noise():
    rng = np.random.default_rng(7)
    walk = np.cumsum(rng.normal(size=200))
    assert kpss_stat(walk) > 0.463
    assert ndiffs(walk) == 1
    assert ndiffs(rng.normal(size=200)) == 0


def test_arima_intervals_widen_with_horizon_for_integrated_model(monthly):
    spec = {"name": "arima", "freq": "MS", "order": [0, 1, 1], "seasonal_order": [0, 1, 1, 12]}
    frame = fit_spec(monthly, spec).predict(24, (80, 95))
    width = frame["upper_95"] - frame["lower_95"]
    assert (np.diff(width.to_numpy()) > 0).all()
    assert (frame["lower_95"] < frame["lower_80"]).all() and (frame["upper_80"] < frame["upper_95"]).all()


def test_ets_selects_a_seasonal_form_and_tracks_the_season(monthly):
    spec = auto_ets_spec(monthly, "MS")
    assert spec["seasonal"] in ("add", "mul")
    mean = fit_spec(monthly, spec).predict(12)["mean"].to_numpy()
    truth = 100 + 0.3 * np.arange(96, 108) + 20 * np.sin(2 * np.pi * np.arange(96, 108) / 12)
    assert np.mean(np.abs(mean - truth)) < 6


def test_ets_never_tries_multiplicative_forms_on_non_positive_data(monthly):
    shifted = monthly - 150  # mostly negative
    spec = auto_ets_spec(shifted, "MS")
    assert spec["error"] == "add" and spec["seasonal"] != "mul"


def test_theta_extrapolates_half_the_trend_on_a_line():
    y = pd.Series(np.arange(40, dtype=float) * 2 + 5, index=pd.date_range("1980-01-01", periods=40, freq="YS"))
    frame = fit_spec(y, {"name": "theta", "freq": "YS"}).predict(3)
    steps = np.diff(frame["mean"].to_numpy())
    np.testing.assert_allclose(steps, 1.0, atol=1e-6)  # Theta drift is half the fitted slope of 2


def test_theta_deseasonalizes_seasonal_data(monthly):
    spec = resolve("theta", monthly, "MS")
    assert spec["deseasonalize"] is True
    mean = fit_spec(monthly, spec).predict(12)["mean"].to_numpy()
    assert np.argmax(mean) == 3  # the sine peaks in April (t = 3 mod 12): the fourth forecast month


def test_seasonal_naive_repeats_the_last_season_with_growing_intervals(monthly):
    frame = fit_spec(monthly, {"name": "snaive", "freq": "MS"}).predict(24, (95,))
    np.testing.assert_allclose(frame["mean"].to_numpy()[:12], monthly.to_numpy()[-12:])
    np.testing.assert_allclose(frame["mean"].to_numpy()[12:], monthly.to_numpy()[-12:])
    width = (frame["upper_95"] - frame["lower_95"]).to_numpy()
    assert width[12] == pytest.approx(width[0] * np.sqrt(2))


@pytest.mark.parametrize("family", ["arima", "ets", "theta", "snaive"])
def test_fitted_models_are_small_picklable_and_dated(family, monthly):
    spec = resolve(family, monthly, "MS")
    fit = fit_spec(monthly, spec)
    buf = io.BytesIO()
    joblib.dump(fit, buf)
    assert len(buf.getvalue()) < 1_000_000
    again = joblib.load(io.BytesIO(buf.getvalue()))
    frame = again.predict(6, (80, 95))
    assert list(frame.columns) == ["mean", "lower_80", "upper_80", "lower_95", "upper_95"]
    assert frame.index[0] == pd.Timestamp("2023-01-01") and len(frame) == 6
    pd.testing.assert_frame_equal(frame, fit.predict(6, (80, 95)))
    assert fit.spec["name"] == family and isinstance(fit.params, dict)


def test_series_builder_has_the_stated_level_trend_season_and_noise():
    """The fixture the model tests rely on: monthly from 2015-01, level 100, trend 0.3, season +-20, noise sd 3."""
    y = seasonal_series(n=240, seed=2)
    assert y.index.equals(pd.date_range("2015-01-01", periods=240, freq="MS"))
    t = np.arange(240)
    design = np.column_stack([np.ones(240), t, np.sin(2 * np.pi * t / 12), np.cos(2 * np.pi * t / 12)])
    coef, *_ = np.linalg.lstsq(design, y.to_numpy(), rcond=None)
    assert np.all(np.abs(coef - [100, 0.3, 20, 0]) <= [1.0, 0.01, 0.6, 0.6]), coef
    noise = y.to_numpy() - design @ coef
    assert 2.5 < noise.std() < 3.5
    pd.testing.assert_series_equal(seasonal_series(n=240, seed=2), y)  # same seed, same series
    assert not np.allclose(seasonal_series(n=240, seed=3).to_numpy(), y.to_numpy())  # the seed sets the noise
