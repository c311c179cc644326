"""Metrics on hand-computed cases."""

from __future__ import annotations

import numpy as np
import pytest

from shared.forecasting import metrics


def test_mase_uses_in_sample_seasonal_naive_scale():
    train = np.array([1.0, 2.0, 3.0, 5.0, 6.0, 7.0])  # lag-3 differences are all 4
    assert metrics.mase_scale(train, 3) == 4.0
    assert metrics.mase(np.array([10.0, 12.0]), np.array([8.0, 12.0]), 4.0) == pytest.approx(0.25)


def test_mase_scale_never_zero():
    assert metrics.mase_scale(np.array([1.0, 2.0, 1.0, 2.0]), 2) == 1.0  # seasonal scale 0 -> lag 1
    assert metrics.mase_scale(np.array([5.0, 5.0, 5.0]), 1) == 5.0  # constant -> mean level


def test_smape_rmse_coverage_msis_by_hand():
    actual = np.array([100.0, 0.0, 50.0])
    forecast = np.array([50.0, 0.0, 50.0])
    # 2*50/150 = 0.6667, 0/0 -> 0, 0 -> mean 0.2222 -> 22.22%
    assert metrics.smape(actual, forecast) == pytest.approx(200 / 9)
    assert metrics.rmse(actual, forecast) == pytest.approx(np.sqrt(2500 / 3))
    lower, upper = np.array([110.0, -1.0, 40.0]), np.array([120.0, 1.0, 50.0])
    assert metrics.coverage(actual, lower, upper) == pytest.approx(2 / 3)  # 100 is below [110, 120]
    # widths 10 + 2 + 10 = 22, plus 2/0.05 * 10 = 400 for the miss; mean 422/3, scaled by 2
    assert metrics.msis(actual, lower, upper, 95, 2.0) == pytest.approx(422 / 3 / 2)
    # above the upper bound is penalised the same way
    assert metrics.msis(np.array([55.0]), np.array([40.0]), np.array([50.0]), 95, 1.0) == pytest.approx(210)


def test_scaled_pinball_rewards_calibrated_intervals_over_too_wide_or_too_narrow_ones():
    from shared.forecasting.metrics import pinball, scaled_pinball

    assert pinball(np.array([10.0]), np.array([8.0]), 0.9) == pytest.approx(0.9 * 2)
    assert pinball(np.array([10.0]), np.array([12.0]), 0.9) == pytest.approx(0.1 * 2)
    rng = np.random.default_rng(0)
    actual = rng.normal(0, 1, 20000)
    mean = np.zeros_like(actual)

    def score(sd):
        return scaled_pinball(actual, mean, {95.0: (mean - 1.96 * sd, mean + 1.96 * sd)}, 1.0)

    assert score(1.0) < score(0.5) and score(1.0) < score(2.0)
    assert scaled_pinball(actual, mean, {95.0: (mean - 1.96, mean + 1.96)}, 2.0) == pytest.approx(score(1.0) / 2)
