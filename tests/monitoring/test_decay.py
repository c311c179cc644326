"""Decay detectors: MASE ratio against the backtest, mean and scale CUSUMs, one-step errors of a spec."""

import logging

import numpy as np
import pytest

from shared.monitoring import thresholds as th
from shared.monitoring.decay import cusum_mean_check, cusum_path, cusum_scale_check, mase_ratio_check, one_step_errors
from tests.monitoring.builders import NOISE_SD, daily_sales

DATES = [f"2024-03-{d:02d}" for d in range(1, 29)]


def test_mase_ratio_fires_when_new_errors_exceed_the_backtest_beyond_chance():
    rng = np.random.default_rng(0)
    actual = rng.normal(100, 10, 28)
    forecast = actual + rng.normal(0, 10, 28)
    scale = float(np.mean(np.abs(forecast - actual)))  # the backtest MASE is then exactly 1
    assert not mase_ratio_check(actual, forecast, scale, 1.0).fired
    bad = mase_ratio_check(actual, forecast + 15, scale, 1.0)
    assert bad.fired and bad.statistic > 1.5


def test_mase_ratio_threshold_shrinks_with_more_evidence():
    week = mase_ratio_check(np.ones(7), np.zeros(7), 1.0, 1.0)
    month = mase_ratio_check(np.ones(28), np.zeros(28), 1.0, 1.0)
    assert week.threshold == pytest.approx(1 + th.MASE_RATIO_K / np.sqrt(7))
    assert month.threshold < week.threshold


def test_cusum_path_accumulates_only_beyond_the_reference_value():
    upper, lower = cusum_path(np.array([1.0, 1.0, -3.0, 0.5]), k=0.5)
    assert upper.tolist() == [0.5, 1.0, 0.0, 0.0]
    assert lower.tolist() == [0.0, 0.0, 2.5, 1.5]


def test_mean_cusum_quiet_on_standard_errors_and_catches_a_break_early():
    rng = np.random.default_rng(1)
    z = rng.standard_normal(28)
    assert not cusum_mean_check(z, DATES).fired
    broken = z.copy()
    broken[14:] -= 2.0
    check = cusum_mean_check(broken, DATES)
    assert check.fired and check.detail["direction"] == "down"
    assert "2024-03-15" <= check.detail["alarm_date"] <= "2024-03-21"  # within a week of the break


def test_one_outlier_does_not_fire_the_mean_cusum():
    z = np.zeros(28)
    z[10] = 40.0  # a data error
    assert not cusum_mean_check(z, DATES).fired


def test_scale_cusum_fires_when_errors_double_not_on_standard_errors():
    rng = np.random.default_rng(2)
    z = rng.standard_normal(28)
    assert not cusum_scale_check(z, DATES).fired
    assert cusum_scale_check(2.5 * z, DATES).fired


def test_one_step_errors_are_standardized_by_the_model_and_show_a_break():
    y = daily_sales(days=140, seed=4)
    spec = {"name": "snaive", "freq": "D", "interval": {"method": "scaled", "levels": [80.0], "factors": [9.0]}}
    stable = one_step_errors(y, spec, range(112, 140))
    assert list(stable["date"]) == [d.date().isoformat() for d in y.index[112:]]
    assert 0.6 < stable["z"].std() < 1.5  # raw model intervals: the calibration factor 9 is not applied
    assert np.allclose(stable["sd"], stable["sd"].iloc[0], rtol=0.05)
    assert stable["sd"].iloc[0] == pytest.approx(np.sqrt(2) * NOISE_SD, rel=0.3)
    y.iloc[126:] += 5 * NOISE_SD
    broken = one_step_errors(y, spec, range(112, 140))
    first_week = broken["z"].iloc[14:21]
    assert first_week.mean() > 2.5 and (first_week > 1).all()


def test_failing_refits_leave_gaps_and_one_warning(caplog):
    y = daily_sales(days=60)
    y.iloc[50] = -5.0  # multiplicative ETS cannot be fitted through a negative value
    spec = {"name": "ets", "freq": "D", "period": 7, "error": "mul", "trend": None, "damped": False, "seasonal": None}
    with caplog.at_level(logging.WARNING, logger="shared.monitoring.decay"):
        errors = one_step_errors(y, spec, range(46, 60))
    assert list(errors["date"]) == [d.date().isoformat() for d in y.index[46:51]]
    assert len([r for r in caplog.records if "one-step refits" in r.message]) == 1
    assert "failed on 9 of 14 days" in caplog.text
