"""Rolling-origin plans and splits: defaults by frequency, identical windows for every spec."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shared.forecasting.backtest import forecast_windows, plan_windows, splits
from shared.forecasting.families import build


def test_daily_default_plan_is_six_origins_fourteen_days_apart_horizon_28():
    plan = plan_windows(305, "D")
    assert plan.horizon == 28 and plan.step == 14 and plan.season == 7
    assert plan.cutoffs == (207, 221, 235, 249, 263, 277)
    assert plan.cutoffs[-1] + plan.horizon == 305  # the last window ends at the last observation


def test_short_series_get_fewer_origins_then_a_shorter_horizon():
    full = plan_windows(120, "MS")  # monthly default: 4 origins 6 apart, horizon 18
    assert (full.horizon, full.cutoffs) == (18, (84, 90, 96, 102))
    fewer = plan_windows(40, "MS")  # training must keep 20 points: one origin left, full horizon
    assert (fewer.horizon, fewer.step, fewer.cutoffs) == (18, 6, (22,))
    shorter = plan_windows(30, "MS")  # no origin at horizon 18: the horizon halves to 9
    assert (shorter.horizon, shorter.cutoffs) == (9, (15, 21))
    assert shorter.cutoffs[-1] + shorter.horizon == 30
    assert plan_windows(12, "MS").horizon == 4 and plan_windows(12, "MS").cutoffs == (8,)  # never under 8 points
    assert plan_windows(4, "YS").cutoffs == ()


def test_splits_yield_cutoff_train_valid_without_overlap():
    y = pd.Series(np.arange(100.0), index=pd.date_range("2020-01-01", periods=100, freq="D"))
    plan = plan_windows(100, "D", horizon=7)
    seen = list(splits(y, plan))
    assert len(seen) == len(plan.cutoffs)
    for (cutoff, train, valid), c in zip(seen, plan.cutoffs, strict=True):
        assert train.index[-1] == cutoff and len(train) == c
        assert valid.index[0] == cutoff + pd.Timedelta(days=1) and len(valid) == 7


def test_every_candidate_is_scored_on_the_same_windows(monthly):
    plan = plan_windows(len(monthly), "MS")
    specs = [
        {"name": "snaive", "freq": "MS"},
        {"name": "theta", "freq": "MS"},
        {"name": "arima", "freq": "MS", "order": [1, 0, 0], "seasonal_order": [0, 1, 1, 12]},
    ]
    results = [forecast_windows(spec, monthly, plan, build) for spec in specs]
    reference = results[0]
    for wf in results[1:]:
        assert len(wf.actuals) == len(plan.cutoffs)
        for a, b in zip(wf.actuals, reference.actuals, strict=True):
            np.testing.assert_array_equal(a, b)
        assert wf.scales == reference.scales


def test_arima_warm_start_from_the_previous_window_is_at_least_as_good_as_cold(monthly):
    short, full = monthly.iloc[:84], monthly
    spec = {"name": "arima", "freq": "MS", "order": [1, 0, 1], "seasonal_order": [0, 1, 1, 12], "constant": True}
    previous = build(spec).fit(short)
    warm = build(spec).fit(full, previous=previous)
    cold = build(spec).fit(full)
    assert warm.params["aicc"] <= cold.params["aicc"] + 1e-6  # the previous estimate is an extra start
    np.testing.assert_allclose(warm.predict(12)["mean"], cold.predict(12)["mean"], rtol=0.02)


def test_ets_windows_start_afresh_whatever_the_previous_fit(monthly):
    spec = {
        "name": "ets",
        "freq": "MS",
        "error": "add",
        "trend": None,
        "damped": False,
        "seasonal": "add",
        "period": 12,
    }
    previous = build(spec).fit(monthly.iloc[:60])
    pd.testing.assert_frame_equal(
        build(spec).fit(monthly, previous=previous).predict(6), build(spec).fit(monthly).predict(6)
    )
