"""The model intervals the calibration starts from, against statsmodels' public API at the engine's parameters."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.tsa.statespace.sarimax import SARIMAX

from shared.forecasting.ets import admissible_forms, short_name
from shared.forecasting.families import build
from shared.forecasting.verification import ets_public_model

from .conftest import seasonal_series

H = 24  # two seasons: the seasonal term of the variance enters from step m + 1


def ets_spec(form: dict) -> dict:
    return {"name": "ets", "freq": "MS", "period": 12 if form["seasonal"] else 1, **form}


def public_ets_interval(fit, y, method: str | None) -> tuple[np.ndarray, np.ndarray, float]:
    """statsmodels' 95% prediction interval of the same ETS form at the engine fit's parameters, and the
    innovation variance statsmodels estimates at them."""
    model, params = ets_public_model(fit, y)
    result = model.smooth(params)
    kwargs = {"method": "simulated", "simulate_repetitions": 20000} if method else {}
    frame = result.get_prediction(start=len(y), end=len(y) + H - 1, **kwargs).summary_frame(alpha=0.05)
    return frame["pi_lower"].to_numpy(), frame["pi_upper"].to_numpy(), float(result.mse)


FORMS = admissible_forms(seasonal_series().to_numpy(), 12)
LINEAR = [f for f in FORMS if f["error"] == "add"]
SIMULATED = [f for f in FORMS if short_name(f) in ("ETS(M,N,N)", "ETS(M,Ad,N)", "ETS(M,A,M)")]


@pytest.mark.parametrize("form", LINEAR, ids=short_name)
def test_additive_ets_intervals_equal_the_public_analytic_ones(form):
    y = seasonal_series()
    fit = build(ets_spec(form)).fit(y)
    # Smoothing parameters well inside their bounds, so every term of the variance formula counts.
    fit.params.update(alpha=0.5, beta=0.1 if form["trend"] else 0.0, gamma=0.2 if form["seasonal"] else 0.0)
    fit.params["phi"] = 0.9 if form["damped"] else 1.0
    lower, upper, sigma2 = public_ets_interval(fit, y, None)
    fit.params["sigma2"] = sigma2  # the residual variance at these parameters, as statsmodels computes it
    _, bounds = fit.forecast_arrays(H, (95.0,))
    np.testing.assert_allclose(bounds[95.0][1] - bounds[95.0][0], upper - lower, rtol=1e-6)


@pytest.mark.parametrize("form", SIMULATED, ids=short_name)
def test_multiplicative_ets_intervals_match_the_public_simulation(form):
    y = seasonal_series()
    fit = build(ets_spec(form)).fit(y)
    _, bounds = fit.forecast_arrays(H, (95.0,))
    lower, upper, _ = public_ets_interval(fit, y, "simulated")
    np.testing.assert_allclose(bounds[95.0][1] - bounds[95.0][0], upper - lower, rtol=0.1)  # 2,000 engine paths


def arima_sd_ratio(order, seasonal_order, seed: int) -> np.ndarray:
    """Engine 95% half-width / 1.96 over statsmodels' forecast standard error, same parameters, per step."""
    y = seasonal_series() + np.random.default_rng(seed).normal(0, 3, 96).cumsum()
    spec = {"name": "arima", "freq": "MS", "order": order, "seasonal_order": seasonal_order, "constant": False}
    fit = build(spec).fit(y)
    mean, bounds = fit.forecast_arrays(H, (95.0,))
    p = fit.params
    params = np.asarray(p["ar"] + p["ma"] + p["sar"] + p["sma"] + [p["sigma2"]], dtype=float)
    seasonal = tuple(seasonal_order) if any(seasonal_order[:3]) else (0, 0, 0, 0)
    public = SARIMAX(y.to_numpy(float), order=tuple(order), seasonal_order=seasonal, trend="n").filter(params)
    sd = (bounds[95.0][1] - mean) / 1.959963984540054
    return sd / public.get_forecast(H).se_mean


@pytest.mark.parametrize(
    ("order", "seasonal_order"), [([2, 0, 0], [1, 0, 0, 12]), ([0, 1, 2], [0, 0, 0, 0])], ids=["AR-SAR", "IMA"]
)
def test_arima_psi_weight_intervals_equal_the_public_forecast_error_when_the_state_is_known(order, seasonal_order):
    np.testing.assert_allclose(arima_sd_ratio(order, seasonal_order, seed=2), 1.0, rtol=1e-4)


def test_arima_psi_weights_leave_out_the_state_uncertainty_of_a_seasonal_ma_by_a_few_percent():
    ratio = arima_sd_ratio([1, 0, 1], [0, 1, 1, 12], seed=4)
    assert np.all(ratio <= 1 + 1e-9) and np.all(ratio > 0.9)  # asymptotic variance: never wider, 4-6% narrower
