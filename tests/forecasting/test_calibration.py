"""Interval calibration from backtest coverage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from shared.forecasting import fit_spec
from shared.forecasting.backtest import BACKTEST_LEVELS, WindowForecasts
from shared.forecasting.base import normal_bounds
from shared.forecasting.calibration import PRIOR_WINDOWS, apply, calibrate, conformal_factor, pooled_coverage


def windows_with_sd(true_sd: float, model_sd: float, n_windows: int = 8, h: int = 25) -> WindowForecasts:
    """Window forecasts whose intervals assume `model_sd` while the actual errors have `true_sd`."""
    rng = np.random.default_rng(11)
    wf = WindowForecasts({"name": "test"})
    for _ in range(n_windows):
        mean = np.zeros(h)
        wf.means.append(mean)
        wf.bounds.append(normal_bounds(mean, np.full(h, model_sd), BACKTEST_LEVELS))
        wf.actuals.append(rng.normal(0, true_sd, h))
        wf.scales.append(1.0)
    return wf


def factor(interval: dict, level: float = 95.0) -> float:
    return interval["factors"][interval["levels"].index(level)]


def test_well_calibrated_intervals_are_barely_moved():
    interval = calibrate(windows_with_sd(1.0, 1.0))
    assert interval["method"] == "scaled"
    assert all(0.9 <= k <= 1.1 for k in interval["factors"])


def test_too_narrow_intervals_are_widened_by_the_shrunk_conformal_factor():
    wf = windows_with_sd(2.0, 1.0)
    assert pooled_coverage(wf, 95.0) < 0.85
    interval = calibrate(wf)
    assert interval["weight"] == pytest.approx(8 / (8 + PRIOR_WINDOWS))
    assert factor(interval) == pytest.approx(2.0 ** interval["weight"], rel=0.15)  # 2x too narrow, half-way
    assert pooled_coverage(wf, 95.0) < pooled_coverage(apply(wf, interval), 95.0) < 0.95


def test_many_windows_calibrate_to_nominal_coverage():
    wf = windows_with_sd(2.0, 1.0, n_windows=80)
    interval = calibrate(wf)
    assert interval["weight"] > 0.9
    calibrated = apply(wf, interval)
    assert 0.92 <= pooled_coverage(calibrated, 95.0) <= 0.98
    assert 0.74 <= pooled_coverage(calibrated, 80.0) <= 0.85


def test_too_wide_intervals_are_narrowed():
    interval = calibrate(windows_with_sd(0.5, 1.0))
    assert interval["method"] == "scaled"
    assert factor(interval) < 0.8
    assert factor(interval) == pytest.approx(0.5 ** interval["weight"], rel=0.15)


def test_the_prior_weight_sets_how_far_the_backtest_moves_the_intervals():
    wf = windows_with_sd(2.0, 1.0)
    full, none = calibrate(wf, prior_windows=0), calibrate(wf, prior_windows=10**9)
    assert full["weight"] == 1.0 and factor(full) == pytest.approx(2.0, rel=0.25)
    assert factor(none) == pytest.approx(1.0, abs=1e-6)
    assert factor(none) < factor(calibrate(wf)) < factor(full)


def test_fewer_windows_move_the_intervals_less_toward_the_backtest_factor():
    few, many = calibrate(windows_with_sd(2.0, 1.0, n_windows=2)), calibrate(windows_with_sd(2.0, 1.0, n_windows=32))
    assert few["weight"] == pytest.approx(2 / (2 + PRIOR_WINDOWS)) and many["weight"] == pytest.approx(0.8)
    assert 1.0 < factor(few) < 1.3 < 1.6 < factor(many) < 2.3


def test_misses_outside_zero_width_intervals_count_in_the_conformal_rank():
    k = np.concatenate([np.arange(1.0, 11.0), np.full(10, np.inf)])
    assert conformal_factor(k, 50.0) == 10.0  # rank 11 of 20 lies among the misses: capped at the largest finite
    assert conformal_factor(k[:10], 50.0) == 6.0


def test_a_backtest_whose_misses_sit_outside_zero_width_intervals_is_widened_by_them():
    wf = windows_with_sd(1.0, 1.0)
    flat = windows_with_sd(1.0, 1.0)
    for i in range(0, len(flat.bounds), 2):  # every other window: a zero-width interval that the actuals miss
        flat.bounds[i] = {level: (flat.means[i], flat.means[i].copy()) for level in BACKTEST_LEVELS}
    assert factor(calibrate(flat), 50.0) > 1.2 * factor(calibrate(wf), 50.0)


def test_without_backtest_points_the_model_intervals_stay():
    assert calibrate(WindowForecasts({"name": "test"}))["method"] == "model"


def test_recorded_calibration_scales_predictions(monthly):
    spec = {"name": "snaive", "freq": "MS"}
    raw = fit_spec(monthly, spec).predict(3, (80, 95))
    scaled = fit_spec(monthly, {**spec, "interval": {"method": "scaled", "levels": [80, 95], "factors": [2.0, 3.0]}})
    frame = scaled.predict(3, (80, 90, 95))
    pd.testing.assert_series_equal(frame["mean"], raw["mean"])
    np.testing.assert_allclose(frame["upper_95"] - frame["mean"], 3.0 * (raw["upper_95"] - raw["mean"]))
    np.testing.assert_allclose(frame["mean"] - frame["lower_80"], 2.0 * (raw["mean"] - raw["lower_80"]))
    assert (frame["upper_90"] < frame["upper_95"]).all() and (frame["upper_80"] < frame["upper_90"]).all()
