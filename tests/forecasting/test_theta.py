"""Theta family: standard, optimized and dynamic methods, their choice, forecasts and intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shared.forecasting import fit_spec
from shared.forecasting.families import resolve_fit
from shared.forecasting.theta import (
    AUTO_METHODS,
    SKIP,
    ThetaCore,
    auto_theta,
    dynamic_lines,
    fit_methods,
    theta_paths,
)


def yearly(values) -> pd.Series:
    values = np.asarray(values, dtype=float)
    return pd.Series(values, index=pd.date_range("1970-01-01", periods=len(values), freq="YS"))


def drifting_walk(n: int, seed: int, drift: float = 1.0, sd: float = 2.0) -> np.ndarray:
    return 100 + np.cumsum(np.random.default_rng(seed).normal(drift, sd, n))


def test_the_dynamic_line_is_the_least_squares_line_of_each_prefix():
    x = drifting_walk(30, seed=1)
    a, b, means = dynamic_lines(x)
    for i in (1, 2, 7, 29):
        slope, intercept = np.polyfit(np.arange(1, i + 2), x[: i + 1], 1)
        assert b[i] == pytest.approx(slope) and a[i] == pytest.approx(intercept)
        assert means[i] == pytest.approx(x[: i + 1].mean())


def test_dynamic_errors_use_only_the_past_and_static_errors_the_whole_line():
    x = drifting_walk(40, seed=2)
    changed = x.copy()
    changed[30:] += 50.0
    for method, past_only in (("dotm", True), ("otm", False)):
        before, after = ThetaCore(x, method), ThetaCore(changed, method)
        r0, p0, d0 = before.terms(0.4)
        r1, p1, d1 = after.terms(0.4)
        e0, e1 = r0 - 0.5 * d0 - 10 * p0, r1 - 0.5 * d1 - 10 * p1
        assert np.allclose(e0[:30], e1[:30]) is past_only


def test_standard_theta_drifts_by_half_the_slope_and_optimized_theta_follows_a_clean_line():
    y = yearly(np.arange(40) * 2.0 + 5)
    standard = fit_methods(y, {"name": "theta", "freq": "YS"}, ["stm"]).predict(4)["mean"].to_numpy()
    np.testing.assert_allclose(np.diff(standard), 1.0, atol=1e-6)
    optimized = fit_methods(y, {"name": "theta", "freq": "YS"}, ["otm"])
    assert optimized.params["theta"] > 100
    np.testing.assert_allclose(optimized.predict(4)["mean"], 5 + 2.0 * np.arange(40, 44), rtol=1e-4)


def test_optimized_methods_fit_at_least_as_well_as_their_standard_ones():
    y = yearly(drifting_walk(36, seed=3))
    for standard, optimized in (("stm", "otm"), ("dstm", "dotm")):
        s = fit_methods(y, {"name": "theta", "freq": "YS"}, [standard]).params
        o = fit_methods(y, {"name": "theta", "freq": "YS"}, [optimized]).params
        assert o["sigma2"] <= s["sigma2"] * (1 + 1e-9)
        assert s["theta"] == 2.0 and o["theta"] >= 1.0
        assert 0.1 <= o["alpha"] <= 0.99


def test_auto_theta_keeps_the_optimized_method_with_the_lower_in_sample_mse():
    y = yearly(drifting_walk(36, seed=4))
    spec, fit = auto_theta(y, "YS")
    assert set(fit.params["compared"]) == set(AUTO_METHODS)
    assert spec["method"] == min(fit.params["compared"], key=fit.params["compared"].get)
    assert fit.params["sigma2"] == min(fit.params["compared"].values())
    # the family resolves to the same spec, and refitting the spec reproduces the forecast exactly
    assert resolve_fit("theta", y, "YS")[0] == spec
    pd.testing.assert_frame_equal(fit_spec(y, spec).predict(6), fit.predict(6))


def test_static_theta_intervals_are_the_ses_variance():
    y = yearly(drifting_walk(40, seed=5))
    fit = fit_methods(y, {"name": "theta", "freq": "YS"}, ["otm"])
    frame = fit.predict(6, (95,))
    alpha, sigma2 = fit.params["alpha"], fit.params["sigma2"]
    sd = np.sqrt(sigma2 * (1 + alpha**2 * np.arange(6)))
    np.testing.assert_allclose(frame["upper_95"] - frame["mean"], 1.959964 * sd, rtol=1e-5)


def test_dynamic_theta_intervals_match_simulated_paths():
    # a short series: the dynamic trend line moves with each new point, which widens the intervals
    y = yearly(drifting_walk(10, seed=6))
    fit = fit_methods(y, {"name": "theta", "freq": "YS"}, ["dotm"])
    h, p = 8, fit.params
    mean = theta_paths(p, h)[0]
    shocks = np.random.default_rng(0).normal(0, np.sqrt(p["sigma2"]), (3000, h))
    sims = np.array([simulate(p, h, s) for s in shocks])  # the recursion driven by random innovations
    frame = fit.predict(h, (80,))
    model_sd = (frame["upper_80"] - frame["mean"]).to_numpy() / 1.281552
    np.testing.assert_allclose(sims.mean(axis=0), mean, atol=0.15 * np.sqrt(p["sigma2"]))
    np.testing.assert_allclose(sims.std(axis=0), model_sd, rtol=0.05)
    ses_sd = np.sqrt(p["sigma2"] * (1 + p["alpha"] ** 2 * np.arange(h)))
    assert model_sd[-1] > 1.2 * ses_sd[-1]  # the simple-exponential-smoothing variance would be too narrow


def simulate(p: dict, h: int, shocks: np.ndarray) -> np.ndarray:
    """One path of the fitted recursion with the given innovations (the model written out step by step)."""
    alpha, c, n = p["alpha"], 1 - 1 / p["theta"], p["n"]
    level, a, b, mean = p["level"], p["intercept"], p["slope"], p["mean_x"]
    out = []
    for j in range(h):
        i = n + j
        y = level + c * (a * (1 - alpha) ** i + b * (1 - (1 - alpha) ** (i + 1)) / alpha) + shocks[j]
        out.append(y)
        level = alpha * y + (1 - alpha) * level
        new_mean = (i * mean + y) / (i + 1)
        b = ((i - 1) * b + 6 * (y - mean) / (i + 1)) / (i + 2)
        a, mean = new_mean - b * (i + 2) / 2, new_mean
    return np.array(out)


def test_theta_intervals_cover_futures_of_its_own_model():
    hits = []
    for seed in range(60):
        values = drifting_walk(46, seed=100 + seed, drift=0.5)
        fit = auto_theta(yearly(values[:40]), "YS")[1]
        frame = fit.predict(6, (95,))
        hits.append((values[40:] >= frame["lower_95"]) & (values[40:] <= frame["upper_95"]))
    assert 0.9 <= np.mean(hits) <= 0.99


def test_seasonal_theta_multiplies_the_forecast_and_its_bounds_by_the_season(monthly):
    spec, fit = auto_theta(monthly, "MS")
    assert spec["deseasonalize"] is True and spec["method"] in AUTO_METHODS
    frame = fit.predict(12, (95,))
    season = np.asarray(fit.params["season"])[(len(monthly) + np.arange(12)) % 12]
    plain = theta_paths(fit.params, 12)[0]
    np.testing.assert_allclose(frame["mean"], plain * season)
    assert np.argmax(frame["mean"].to_numpy()) == 3


def test_theta_is_deterministic_and_refuses_unusable_input():
    y = yearly(drifting_walk(30, seed=7))
    first, second = auto_theta(y, "YS")[1].predict(6), auto_theta(y, "YS")[1].predict(6)
    pd.testing.assert_frame_equal(first, second)
    with pytest.raises(ValueError, match="unknown theta method"):
        fit_spec(y, {"name": "theta", "freq": "YS", "method": "best"})
    with pytest.raises(ValueError, match=f"at least {SKIP + 3} observations"):
        auto_theta(y.iloc[:5], "YS")
    # a stored spec from before the method existed is the standard theta method
    assert fit_spec(y, {"name": "theta", "freq": "YS"}).spec["method"] == "stm"
